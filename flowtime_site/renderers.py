"""JSON rendering with orjson: state windows carry ~100k numbers, and the standard library's encoder
alone would take most of the 50 ms budget of spec 06 §11. Bodies are built JSON-ready (project number
rules applied by the builders), so the renderer only encodes."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.renderers import BrowsableAPIRenderer as DRFBrowsableAPIRenderer


class FastJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        # Non-finite floats become null, as everywhere in the API (orjson does this by itself).
        compact = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
        if (renderer_context or {}).get("indent"):  # the browsable API asks for readable JSON
            # Pre-rendered parts (orjson.Fragment, e.g. state window series) are copied verbatim:
            # parse the compact text once so that they are indented like everything else.
            return orjson.dumps(orjson.loads(compact), option=orjson.OPT_INDENT_2)
        return compact


class FileBodyNegotiation(BaseContentNegotiation):
    """Routes that answer a file of one type (a run's model as YAML, a series as CSV): the body's
    type is the route's, whatever ``Accept`` asks for (``text/yaml``, ``text/csv`` or ``*/*``), and a
    problem is JSON. DRF's negotiation would refuse ``Accept: text/yaml`` with 406, having no renderer
    for the very type the route answers."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> tuple[Any, str]:
        json = next(r for r in renderers if isinstance(r, FastJSONRenderer))
        return json, json.media_type


class BrowsableAPIRenderer(DRFBrowsableAPIRenderer):
    """DRF's HTML view of any /v1 response, for people in a browser (``Accept: text/html`` or
    ``?format=api``). Only GET pages: our views have no serializer forms, and writes are documented
    at /v1/docs, so the raw-data form is shown for POST routes only."""

    def show_form_for_method(self, view: Any, method: str, request: Any, obj: Any) -> bool:
        return method == "POST" and bool(super().show_form_for_method(view, method, request, obj))
