"""The canonical ``model.yaml`` writer (spec 01 §6, "Bytes").

Block style with 2-space indents, number lists in flow style, no folding, LF, no BOM. Strings are
plain when a YAML 1.1 reader gives them back as the same string, otherwise double-quoted with escapes,
so any string value survives a round trip unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.nodes import ScalarNode

_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# Characters a YAML reader treats as line breaks or rejects; they are always escaped.
_ALWAYS_ESCAPE = frozenset({0x85, 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF})
_SIMPLE_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def format_float(value: float) -> str:
    """``repr`` without a trailing ``.0``; ``1e-05`` becomes ``1.0e-05`` so YAML 1.1 reads a float."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if text.endswith(".0"):
        return text[:-2]
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}.0e{exponent}"
    return text


def _plain_allowed(text: str) -> bool:
    if not text or text != text.strip() or text[0] in _INDICATORS:
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    for ch in text:
        code = ord(ch)
        if code < 0x80:
            if not 0x20 <= code <= 0x7E:
                return False
        elif code in _ALWAYS_ESCAPE or not ch.isprintable():
            return False
    return _RESOLVER.resolve(ScalarNode, text, (True, False)) == _STR_TAG


def _double_quoted(text: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif 0x20 <= code <= 0x7E:
            out.append(ch)
        elif code < 0xA0 or code in _ALWAYS_ESCAPE or 0xD800 <= code <= 0xDFFF or not ch.isprintable():
            if code <= 0xFF:
                out.append(f"\\x{code:02X}")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04X}")
            else:
                out.append(f"\\U{code:08X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return value if _plain_allowed(value) else _double_quoted(value)
    raise TypeError(f"cannot write {type(value).__name__} into a model")


def _inline(value: Any) -> str | None:
    """The one-line form of ``value``, or ``None`` when it needs a block."""
    if isinstance(value, Mapping):
        return "{}" if not value else None
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        if all(type(v) is float for v in value):  # the long value lists: scalar_text of a float
            return "[" + ", ".join(map(format_float, value)) + "]"
        if all(_is_number(v) for v in value):
            return "[" + ", ".join(scalar_text(v) for v in value) + "]"
        return None
    return scalar_text(value)


def _write_mapping(mapping: Mapping[Any, Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in mapping.items():
        key_text = scalar_text(key)
        inline = _inline(value)
        if inline is not None:
            lines.append(f"{pad}{key_text}: {inline}")
            continue
        lines.append(f"{pad}{key_text}:")
        if isinstance(value, Mapping):
            _write_mapping(value, indent + 2, lines)
        else:
            _write_sequence(value, indent + 2, lines)


def _write_sequence(items: list[Any] | tuple[Any, ...], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        inline = _inline(item)
        if inline is not None:
            lines.append(f"{pad}- {inline}")
            continue
        nested: list[str] = []
        if isinstance(item, Mapping):
            _write_mapping(item, indent + 2, nested)
        else:
            _write_sequence(item, indent + 2, nested)
        nested[0] = f"{pad}- {nested[0][indent + 2 :]}"
        lines.extend(nested)


def put_in_order(mapping: dict[str, Any], key: str, value: Any, order: tuple[str, ...]) -> None:
    """Set ``mapping[key]``. A new key goes before the first key that ``order`` places after it, so a
    rewritten model keeps the key order of spec 01 §6; an existing key keeps its place."""
    if key in mapping or key not in order:
        mapping[key] = value
        return
    rank = order.index(key)
    items = list(mapping.items())
    at = next((i for i, (k, _) in enumerate(items) if k in order and order.index(k) > rank), len(items))
    items.insert(at, (key, value))
    mapping.clear()
    mapping.update(items)


def dump_model_yaml(tree: Mapping[str, Any]) -> str:
    """The exact text of ``model.yaml`` for a generated model tree (key order is kept)."""
    lines: list[str] = []
    _write_mapping(tree, 0, lines)
    return "\n".join(lines) + "\n"


def parsed_form(value: Any) -> Any:
    """What the YAML loader (``runs.engine.yaml_loader.load_yaml``) gives back for the text this writer
    writes for ``value``, without writing and parsing it: the writer's rules make each scalar come back
    as itself, except a float written without a dot or an exponent (``100.0`` → ``100``, ``-0.0`` →
    ``-0``), which a YAML 1.1 reader gives back as an int; mappings come back as dicts, sequences as
    lists. Values the writer refuses raise the same ``TypeError``."""
    if isinstance(value, Mapping):
        return {_parsed_key(key): parsed_form(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        if value and all(type(item) is float for item in value):
            return [_parsed_float(item) for item in value]
        return [parsed_form(item) for item in value]
    if isinstance(value, float):
        return _parsed_float(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    raise TypeError(f"cannot write {type(value).__name__} into a model")


def _parsed_float(value: float) -> float | int:
    # format_float writes digits alone exactly for these (repr turns to exponents from 1e16 on).
    if value.is_integer() and abs(value) < 1e16:
        return int(value)
    return float(value)


# A YAML reader refuses an implicit key written longer than 1024 characters; such a key is left to it.
_LONGEST_KEY_TEXT = 1000


class NeedsParsing(ValueError):
    """``parsed_form`` cannot vouch for this tree: parse the written text instead."""


def _parsed_key(key: Any) -> Any:
    # An escape writes one character as at most ten, so only keys this long need their text checked.
    long_key = isinstance(key, str) and len(key) * 10 + 2 >= _LONGEST_KEY_TEXT
    if long_key and len(scalar_text(key)) >= _LONGEST_KEY_TEXT:
        raise NeedsParsing(f"a key of {len(key)} characters")
    return parsed_form(key)
