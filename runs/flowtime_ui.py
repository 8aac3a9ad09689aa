"""The FlowTime web UI's ``/api/v1/`` facade (spec 07 §7): its template bodies and request coercions.

A thin layer over the same catalog and the same ``POST /v1/runs`` path: only shapes differ. The UI
sends array parameters as comma-joined strings and edited booleans as strings; those two forms are
turned into JSON values here, and everything else is left for the usual validation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from runs.canonical import json_ready
from runs.errors import Issue, TemplateNotFound
from runs.shapes import UiTemplateDetail, UiTemplateParameter, UiTemplateSummary
from templates_catalog.documents import Template
from templates_catalog.parameters import ParameterSpec, RejectedValue
from templates_catalog.selectors import template_get, template_list

UI_CATEGORY = "general"  # FlowTime files its own templates under this one category
_NUMBER_PIECE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def ui_template_summary(template: Template) -> UiTemplateSummary:
    """TemplateSummary (§7.2)."""
    return {
        "id": template.id,
        "title": template.title,
        "description": template.description or "",
        "narrative": None,
        "category": UI_CATEGORY,
        "tags": list(template.tags),
        "version": template.version,
        "captureKey": None,
    }


def _ui_parameter(spec: ParameterSpec) -> UiTemplateParameter:
    return {
        "name": spec.name,
        "type": spec.type,
        "title": spec.title or "",
        "description": spec.description or "",
        "defaultValue": json_ready(spec.default),
        "min": json_ready(spec.minimum),
        "max": json_ready(spec.maximum),
    }


def ui_template_detail(template: Template) -> UiTemplateDetail:
    """TemplateSummary then ``parameters`` in declaration order (§7.3)."""
    return {**ui_template_summary(template), "parameters": [_ui_parameter(p) for p in template.parameters]}


def ui_template_list(*, category: str | None) -> list[UiTemplateSummary]:
    """Every indexed template, by id; a category other than ``general`` (any case) has none (§7.2)."""
    if category and category.strip().lower() != UI_CATEGORY:
        return []
    return [ui_template_summary(template) for template in template_list()]


def ui_template_get(*, template_id: str) -> UiTemplateDetail:
    try:
        template = template_get(template_id=template_id)
    except TemplateNotFound:
        raise TemplateNotFound(template_id[:100], status=404) from None
    return ui_template_detail(template)


def _coerce_array(name: str, text: str) -> list[float] | RejectedValue:
    stripped = text.strip()
    if not stripped:
        return []
    values: list[float] = []
    issues: list[Issue] = []
    for index, raw_piece in enumerate(stripped.split(",")):
        piece = raw_piece.strip()
        number = float(piece) if _NUMBER_PIECE.fullmatch(piece) else math.nan
        if not math.isfinite(number):
            issues.append(
                Issue(
                    "parameter_invalid",
                    f"parameters.{name}[{index}]",
                    f"{name}[{index}] is not a number: '{piece}'.",
                    reason="type",
                )
            )
            continue
        values.append(number)
    return RejectedValue(tuple(issues)) if issues else values


def coerce_ui_parameters(template: Template, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """§7.5's two coercions: a string for an ``array`` parameter → numbers, ``"true"``/``"false"`` for a
    ``boolean`` → the boolean. Anything else passes unchanged."""
    coerced = dict(parameters)
    for spec in template.parameters:
        value = parameters.get(spec.name)
        if not isinstance(value, str):
            continue
        if spec.type == "array":
            coerced[spec.name] = _coerce_array(spec.name, value)
        elif spec.type == "boolean" and value.strip().lower() in ("true", "false"):
            coerced[spec.name] = value.strip().lower() == "true"
    return coerced


def coerce_ui_run_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The UI's run request with its parameters coerced, when ``templateId`` names an indexed
    template; otherwise unchanged, so ``POST /v1/runs`` gives its usual answer."""
    out = dict(body)
    template_id, parameters = body.get("templateId"), body.get("parameters")
    if not isinstance(template_id, str) or not isinstance(parameters, Mapping):
        return out
    try:
        template = template_get(template_id=template_id)
    except TemplateNotFound:
        return out
    out["parameters"] = coerce_ui_parameters(template, parameters)
    return out
