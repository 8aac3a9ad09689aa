"""The YAML loader shared by templates and models (spec 01 §1).

PyYAML's safe loader (YAML 1.1) with three changes: a duplicate mapping key is an error, timestamps
stay strings (a model's ``startTimeUtc`` must not turn into a naive datetime), and a UTF-8 BOM or
CRLF line ends are accepted.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node


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


def _construct_mapping_no_duplicates(loader: _StrictSafeLoader, node: Node) -> dict[Any, Any]:
    assert isinstance(node, MappingNode)
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hashable = key in seen
        except TypeError as exc:
            raise ConstructorError(
                None, None, "found an unhashable mapping key", key_node.start_mark
            ) from exc
        if hashable:
            raise ConstructorError(None, None, f"found duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


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
