"""Template parameter definitions and request values (spec 01 §2).

A parameter is enforced: its type, range and, for arrays that fill a const node, its length. Values are
turned into one canonical form (int, float, bool, str, list[float]) that substitution, provenance and
the inputHash all share.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runs.canonical import format_number
from runs.errors import Issue

from .substitution import NAME_PATTERN

if TYPE_CHECKING:
    from templates_catalog.shapes import ParameterType, TemplateParameter

_PARAMETER_TYPES: dict[str, ParameterType] = {
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "string": "string",
    "array": "array",
}
PARAMETER_TYPES = tuple(_PARAMETER_TYPES)
NAME_RE = re.compile(r"^" + NAME_PATTERN + r"$")
_RANGED_TYPES = frozenset({"integer", "number", "array"})
_DEFINITION_KEYS = frozenset(
    {
        "name",
        "type",
        "title",
        "description",
        "default",
        "minimum",
        "maximum",
        "min",
        "max",
        "required",
        "items",
    }
)
_INT_LIMIT = 2**63


@dataclass(frozen=True)
class ParameterSpec:
    """One declared parameter; ``default`` is canonical, ``None`` when the parameter is required."""

    name: str
    type: ParameterType
    title: str | None = None
    description: str | None = None
    default: Any = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    required: bool = False
    telemetry_bindable: bool = False

    def as_json(self) -> TemplateParameter:
        """The JSON form used by the index and ``/v1/templates``."""
        return {
            "name": self.name,
            "type": self.type,
            "title": self.title,
            "description": self.description,
            "default": list(self.default) if isinstance(self.default, list) else self.default,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "required": self.required,
            "telemetryBindable": self.telemetry_bindable,
        }


@dataclass(frozen=True)
class RejectedValue:
    """A request value its caller already found invalid (the FlowTime UI facade's array strings,
    spec 07 §7.5); its issues are reported together with every other parameter issue."""

    issues: tuple[Issue, ...]


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string '{shown}'"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite_float(value: Any) -> float | None:
    if not _is_number(value):
        return None
    try:
        f = float(value)
    except OverflowError:
        return None
    return f if math.isfinite(f) else None


def _range_issues(spec: ParameterSpec, value: float | int, path: str) -> list[Issue]:
    if spec.minimum is not None and value < spec.minimum:
        return [
            Issue(
                "parameter_invalid",
                path,
                f"must be ≥ {format_number(spec.minimum)}, got {format_number(value)}",
                reason="minimum",
            )
        ]
    if spec.maximum is not None and value > spec.maximum:
        return [
            Issue(
                "parameter_invalid",
                path,
                f"must be ≤ {format_number(spec.maximum)}, got {format_number(value)}",
                reason="maximum",
            )
        ]
    return []


def _type_issue(path: str, expected: str, value: Any) -> Issue:
    return Issue("parameter_invalid", path, f"must be {expected}, got {_describe(value)}", reason="type")


def check_value(spec: ParameterSpec, value: Any, *, path: str) -> tuple[Any, list[Issue]]:
    """Check one supplied (non-null) value against ``spec``; return its canonical form and the issues."""
    if isinstance(value, RejectedValue):
        return None, list(value.issues)
    kind = spec.type
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, [_type_issue(path, "an integer", value)]
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            return None, [_type_issue(path, "an integer", value)]
        number = int(value)
        if abs(number) >= _INT_LIMIT:
            return None, [_type_issue(path, "an integer of magnitude below 2^63", value)]
        issues = _range_issues(spec, number, path)
        return (None if issues else number), issues
    if kind == "number":
        f = _finite_float(value)
        if f is None:
            return None, [_type_issue(path, "a finite number", value)]
        issues = _range_issues(spec, f, path)
        return (None if issues else f), issues
    if kind == "boolean":
        if not isinstance(value, bool):
            return None, [_type_issue(path, "true or false", value)]
        return value, []
    if kind == "string":
        if not isinstance(value, str):
            return None, [_type_issue(path, "a string", value)]
        return value, []
    if kind == "array":
        if not isinstance(value, list | tuple):
            return None, [_type_issue(path, "an array of numbers", value)]
        out: list[float] = []
        issues = []
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            f = _finite_float(item)
            if f is None:
                issues.append(_type_issue(item_path, "a finite number", item))
                continue
            issues.extend(_range_issues(spec, f, item_path))
            out.append(f)
        return (None if issues else out), issues
    raise ValueError(f"unknown parameter type {kind!r}")


def _definition_number(
    raw: Mapping[str, Any], key: str, alias: str, path: str, issues: list[Issue]
) -> int | float | None:
    if key in raw and alias in raw:
        issues.append(Issue("template_invalid", f"{path}.{alias}", f"use either {key} or {alias}, not both"))
        return None
    name = key if key in raw else alias
    value = raw.get(name)
    if value is None:
        return None
    if _finite_float(value) is None:
        issues.append(Issue("template_invalid", f"{path}.{name}", f"{name} must be a finite number"))
        return None
    return value


def parse_parameter_definitions(
    raw: Any, *, bindable: frozenset[str]
) -> tuple[list[ParameterSpec], list[Issue]]:
    """Validate the template's ``parameters`` list; ``bindable`` names the whole-``source`` placeholders."""
    issues: list[Issue] = []
    specs: list[ParameterSpec] = []
    if raw is None:
        return specs, issues
    if not isinstance(raw, list):
        return specs, [Issue("template_invalid", "parameters", "parameters must be a list")]
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        path = f"parameters[{index}]"
        if not isinstance(entry, Mapping):
            issues.append(Issue("template_invalid", path, "a parameter definition must be a mapping"))
            continue
        before = len(issues)
        for key in entry:
            if key not in _DEFINITION_KEYS:
                issues.append(Issue("template_invalid", f"{path}.{key}", f"unknown key '{key}'"))
        name = entry.get("name")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            issues.append(
                Issue("template_invalid", f"{path}.name", "name must match ^[A-Za-z_][A-Za-z0-9_]*$")
            )
            name = None
        elif name in seen:
            issues.append(Issue("template_invalid", f"{path}.name", f"duplicate parameter name '{name}'"))
        else:
            seen.add(name)
        raw_type = entry.get("type")
        kind = _PARAMETER_TYPES.get(raw_type) if isinstance(raw_type, str) else None
        if kind is None:
            issues.append(
                Issue("template_invalid", f"{path}.type", "type must be one of " + ", ".join(PARAMETER_TYPES))
            )
        if "items" in entry and (kind != "array" or entry["items"] != {"type": "number"}):
            issues.append(
                Issue(
                    "template_invalid", f"{path}.items", "items is only allowed as {type: number} on arrays"
                )
            )
        minimum = _definition_number(entry, "minimum", "min", path, issues)
        maximum = _definition_number(entry, "maximum", "max", path, issues)
        if kind is not None and kind not in _RANGED_TYPES and (minimum is not None or maximum is not None):
            issues.append(
                Issue(
                    "template_invalid",
                    f"{path}.{_range_key(entry, minimum)}",
                    "minimum/maximum apply to integer, number and array parameters only",
                )
            )
        if minimum is not None and maximum is not None and minimum > maximum:
            issues.append(
                Issue(
                    "template_invalid",
                    f"{path}.{_written_key(entry, 'minimum', 'min')}",
                    f"minimum {format_number(minimum)} is greater than maximum {format_number(maximum)}",
                )
            )
        for text_key in ("title", "description"):
            if entry.get(text_key) is not None and not isinstance(entry[text_key], str):
                issues.append(Issue("template_invalid", f"{path}.{text_key}", f"{text_key} must be a string"))
        if len(issues) > before or name is None or kind is None:
            continue
        spec = ParameterSpec(
            name=name,
            type=kind,
            title=entry.get("title"),
            description=entry.get("description"),
            minimum=minimum,
            maximum=maximum,
            telemetry_bindable=kind == "string" and name in bindable,
        )
        default = entry.get("default")
        canonical = None
        if default is not None:
            canonical, value_issues = check_value(spec, default, path=f"{path}.default")
            issues.extend(Issue("template_invalid", i.path, f"default {i.message}") for i in value_issues)
            if value_issues:
                continue
        required = canonical is None
        if "required" in entry and entry["required"] is not None and entry["required"] is not required:
            issues.append(
                Issue(
                    "template_invalid",
                    f"{path}.required",
                    "required must be true exactly when there is no default",
                )
            )
            continue
        if spec.telemetry_bindable and canonical != "":
            issues.append(
                Issue(
                    "template_invalid",
                    f"{path}.default",
                    'a telemetry-bindable parameter (the whole source of a const node) must default to ""',
                )
            )
            continue
        specs.append(
            ParameterSpec(
                name=spec.name,
                type=spec.type,
                title=spec.title,
                description=spec.description,
                default=canonical,
                minimum=minimum,
                maximum=maximum,
                required=required,
                telemetry_bindable=spec.telemetry_bindable,
            )
        )
    return specs, issues


def _range_key(entry: Mapping[str, Any], minimum: object) -> str:
    return (
        _written_key(entry, "minimum", "min")
        if minimum is not None
        else _written_key(entry, "maximum", "max")
    )


def _written_key(entry: Mapping[str, Any], key: str, alias: str) -> str:
    """The key as the template wrote it, so an issue path points at text that exists."""
    return alias if alias in entry and key not in entry else key
