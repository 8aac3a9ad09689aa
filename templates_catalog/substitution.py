"""``${name}`` placeholders on the parsed template tree (spec 01 §4).

Substitution never touches text: a scalar that is exactly ``${name}`` becomes the parameter's typed
value, and a longer string gets each placeholder's canonical text in one pass. A replaced string is
one scalar whatever it contains, so YAML can't be injected through a parameter.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
PLACEHOLDER = re.compile(r"\$\{(" + NAME_PATTERN + r")\}")


@dataclass(frozen=True)
class PlaceholderScan:
    """The placeholders of one string, in order, and the offsets of any malformed ``${``."""

    names: tuple[str, ...]
    malformed: tuple[int, ...]


def scan_placeholders(text: str) -> PlaceholderScan:
    names: list[str] = []
    malformed: list[int] = []
    pos = text.find("${")
    while pos != -1:
        match = PLACEHOLDER.match(text, pos)
        if match:
            names.append(match.group(1))
            pos = text.find("${", match.end())
        else:
            malformed.append(pos)
            pos = text.find("${", pos + 2)
    return PlaceholderScan(tuple(names), tuple(malformed))


def number_text(value: float) -> str:
    """A number parameter's inline text: ``repr`` without a trailing ``.0`` (``2``, ``0.9``, ``1e-05``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def inline_text(value: Any) -> str:
    """The canonical text of a canonical parameter value, for a placeholder inside a longer string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(inline_text(v) for v in value) + "]"
    raise TypeError(f"not a canonical parameter value: {value!r}")


def substitute_string(text: str, values: Mapping[str, Any]) -> Any:
    """Replace the placeholders of one scalar; every name must be in ``values``."""
    whole = PLACEHOLDER.fullmatch(text)
    if whole:
        return copy.deepcopy(values[whole.group(1)])
    # re.sub replaces in one pass and never rescans inserted text.
    return PLACEHOLDER.sub(lambda m: inline_text(values[m.group(1)]), text)


def substitute_tree(node: Any, values: Mapping[str, Any]) -> Any:
    """A copy of ``node`` with every string scalar substituted; keys are left alone."""
    if isinstance(node, str):
        return substitute_string(node, values)
    if isinstance(node, Mapping):
        return {key: substitute_tree(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [substitute_tree(item, values) for item in node]
    return node
