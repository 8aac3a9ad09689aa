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


class TemplateSummary(TypedDict):
    id: str
    title: str
    version: str
    description: str | None
    tags: list[str]
    mode: str
    parameterCount: int
    hash: str


class TemplateDetail(TypedDict):
    id: str
    title: str
    version: str
    description: str | None
    tags: list[str]
    mode: str
    hash: str
    parameters: list[TemplateParameter]
    telemetryBindable: list[str]
