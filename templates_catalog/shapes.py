"""The response bodies of /v1/templates, declared once (see ``flowtime_site.shapes``)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

ParameterType = Literal["integer", "number", "boolean", "string", "array"]


class TemplateParameter(TypedDict):
    name: str
    type: ParameterType
    title: str | None
    description: str | None
    default: Any | None
    minimum: float | None
    maximum: float | None
    required: bool
    telemetryBindable: bool


class TemplateHeader(TypedDict):
    """What the summary and the detail of a template both start with."""

    id: str
    title: str
    version: str
    description: str | None
    tags: list[str]
    mode: str


class TemplateSummary(TemplateHeader):
    parameterCount: int
    hash: str


class TemplateDetail(TemplateHeader):
    hash: str
    parameters: list[TemplateParameter]
    telemetryBindable: list[str]
