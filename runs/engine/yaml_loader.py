"""The YAML loader shared by templates and models (spec 01 §1).

PyYAML's safe loader (YAML 1.1) with three changes: a duplicate mapping key is an error, timestamps
stay strings (a model's ``startTimeUtc`` must not turn into a naive datetime), and a UTF-8 BOM or
CRLF line ends are accepted.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class YamlLoadError(ValueError):
    """The text is not a YAML document we accept; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# The C parser (libyaml) when PyYAML was built with it: several times faster on large models, with
# the same safe constructors and our two rules layered on top.
if hasattr(yaml, "CSafeLoader"):

    class _StrictSafeLoader(yaml.CSafeLoader):
        pass

else:  # PyYAML built without libyaml

    class _StrictSafeLoader(yaml.SafeLoader):  # type: ignore[no-redef]
        pass


# Plain decimal numbers, the bulk of a large model (its value lists): YAML 1.1 resolves these to
# exactly these tags (the float pattern needs a dot, the int pattern takes these forms first) and the
# safe constructors give exactly ``float(text)`` / ``int(text)`` for them, so both steps are done
# directly; everything else goes through PyYAML unchanged.
_FLOAT_TAG = "tag:yaml.org,2002:float"
_INT_TAG = "tag:yaml.org,2002:int"
_DECIMAL_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+")
_DECIMAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")


_NUMBER_START = frozenset("-0123456789")


def _resolve(loader: _StrictSafeLoader, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
    """PyYAML's ``BaseResolver.resolve`` for a loader without path resolvers (the safe loader has
    none), called once per node by the C parser, with the decimal shortcut first; the same tags."""
    if kind is ScalarNode:
        if implicit[0]:
            first = value[:1]
            if first in _NUMBER_START:
                if _DECIMAL_FLOAT.fullmatch(value):
                    return _FLOAT_TAG
                if _DECIMAL_INT.fullmatch(value):
                    return _INT_TAG
            resolvers = loader.yaml_implicit_resolvers
            for tag, regexp in (*resolvers.get(first, ()), *resolvers.get(None, ())):
                if regexp.match(value):
                    return str(tag)
        return _StrictSafeLoader.DEFAULT_SCALAR_TAG
    if kind is MappingNode:
        return _StrictSafeLoader.DEFAULT_MAPPING_TAG
    return _StrictSafeLoader.DEFAULT_SEQUENCE_TAG


def _construct_sequence(loader: _StrictSafeLoader, node: Node, deep: bool = False) -> list[Any]:
    if not isinstance(node, SequenceNode):
        return list(_BASE_CONSTRUCT_SEQUENCE(loader, node, deep=deep))  # type: ignore[arg-type]
    out: list[Any] = []
    for child in node.value:
        if child.__class__ is ScalarNode:
            if child.tag == _FLOAT_TAG and _DECIMAL_FLOAT.fullmatch(child.value):
                out.append(float(child.value))
                continue
            if child.tag == _INT_TAG and _DECIMAL_INT.fullmatch(child.value):
                out.append(int(child.value))
                continue
        out.append(loader.construct_object(child, deep=deep))
    return out


# The shortcut above stands in for the base resolver only while no path resolver exists.
assert not _StrictSafeLoader.yaml_path_resolvers
_BASE_CONSTRUCT_SEQUENCE = _StrictSafeLoader.construct_sequence
_StrictSafeLoader.resolve = _resolve  # type: ignore[method-assign,assignment]
_StrictSafeLoader.construct_sequence = _construct_sequence  # type: ignore[method-assign,assignment]


def _construct_mapping_no_duplicates(loader: _StrictSafeLoader, node: Node) -> dict[Any, Any]:
    """PyYAML's safe mapping (merge keys flattened first), built in one pass that refuses a key seen
    before in the same mapping."""
    assert isinstance(node, MappingNode)
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in mapping
        except TypeError as exc:
            raise ConstructorError(
                None, None, "found an unhashable mapping key", key_node.start_mark
            ) from exc
        if duplicate:
            raise ConstructorError(None, None, f"found duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


def _construct_timestamp_as_text(loader: _StrictSafeLoader, node: Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_StrictSafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_no_duplicates
)
_StrictSafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


def load_yaml(source: str | bytes) -> Any:
    """Parse one YAML document with the project's rules; raise ``YamlLoadError`` on any problem."""
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise YamlLoadError(f"not UTF-8 text: {exc.reason}") from exc
    else:
        text = source[1:] if source.startswith("\ufeff") else source
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        return yaml.load(text, Loader=_StrictSafeLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        where = f" (line {line})" if line is not None else ""
        raise YamlLoadError(f"YAML error{where}: {problem}", line) from exc
    except yaml.YAMLError as exc:
        raise YamlLoadError(f"YAML error: {exc}") from exc
    except RecursionError as exc:
        # PyYAML composes recursively: a hostile document nested thousands deep must be a clean
        # error, not a crash of whoever reads it (API detail, reindex, state).
        raise YamlLoadError("YAML error: the document is nested too deeply") from exc
