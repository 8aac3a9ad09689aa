"""JSON rendering with orjson: state windows carry ~100k numbers, and the standard library's encoder
alone would take most of the 50 ms budget of spec 06 §11. Bodies are built JSON-ready (project number
rules applied by the builders), so the renderer only encodes."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer


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
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
