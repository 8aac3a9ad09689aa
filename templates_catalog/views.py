"""``/v1/templates``: the catalog a UI renders its run form from (spec 05 §6)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from flowtime_site.api import (
    PAGE_PARAMETERS,
    check_query_names,
    page_body,
    parse_page_request,
    single_query_value,
)
from runs import openapi, openapi_examples
from runs.canonical import json_ready
from runs.errors import InvalidParameter, TemplateNotFound
from templates_catalog.documents import Template
from templates_catalog.selectors import template_get, template_list
from templates_catalog.shapes import TemplateDetail, TemplateHeader, TemplateSummary


def _template_header(template: Template) -> TemplateHeader:
    return {
        "id": template.id,
        "title": template.title,
        "version": template.version,
        "description": template.description,
        "tags": list(template.tags),
        "mode": template.mode,
    }


def template_summary(template: Template) -> TemplateSummary:
    return {
        **_template_header(template),
        "parameterCount": len(template.parameters),
        "hash": template.file_hash,
    }


def template_detail(template: Template) -> TemplateDetail:
    return {
        **_template_header(template),
        "hash": template.file_hash,
        "parameters": [json_ready(spec.as_json()) for spec in template.parameters],
        "telemetryBindable": [spec.name for spec in template.parameters if spec.telemetry_bindable],
    }


def _mode_query(params: Any) -> str | None:
    mode = single_query_value(params, "mode")
    if mode is not None and mode.strip().lower() not in {"simulation", "telemetry"}:
        raise InvalidParameter("mode", "mode must be 'simulation' or 'telemetry'.")
    return mode.strip().lower() if mode is not None else None


LIST_PARAMETERS = [
    *PAGE_PARAMETERS,
    OpenApiParameter("mode", str, enum=["simulation", "telemetry"]),
    OpenApiParameter("tag", {"type": "string", "minLength": 1, "pattern": r"\S"}, description="Exact tag."),
    OpenApiParameter(
        "search",
        {"type": "string", "minLength": 1, "pattern": r"\S"},
        description="Substring of id or title.",
    ),
]


class TemplateViewSet(viewsets.ViewSet):
    lookup_field = "template_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        operation_id="templates_list",
        parameters=LIST_PARAMETERS,
        summary="List the template catalog (paginated)",
        examples=[
            openapi.response_example("Templates matching 'order'", openapi_examples.TEMPLATE_LIST_PAGE)
        ],
        responses={200: openapi.TemplateListPage, **openapi.problem_responses(openapi.LIST_CODES)},
    )
    def list(self, request: Request) -> Response:
        check_query_names(request.query_params, [p.name for p in LIST_PARAMETERS])
        page = parse_page_request(request.query_params)
        params = request.query_params
        templates = template_list(
            mode=_mode_query(params),
            tag=single_query_value(params, "tag"),
            search=single_query_value(params, "search"),
        )
        items = [template_summary(t) for t in templates[page.offset : page.offset + page.page_size]]
        return Response(page_body(items=items, total=len(templates), page=page, request=request))

    @extend_schema(
        operation_id="templates_retrieve",
        summary="One template with its full parameter schema",
        examples=[openapi.response_example("order-system", openapi_examples.TEMPLATE_DETAIL)],
        responses={
            200: openapi.TemplateDetail,
            **openapi.problem_responses({404: ["template_not_found"]}),
        },
    )
    def retrieve(self, request: Request, template_id: str) -> Response:
        try:
            template = template_get(template_id=template_id)
        except TemplateNotFound:
            known = [t.id for t in template_list()]
            raise TemplateNotFound(template_id[:100], status=404, known=known) from None
        return Response(template_detail(template))
