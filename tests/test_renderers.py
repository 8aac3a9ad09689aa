"""The JSON renderer: compact orjson, and the browsable API's indented view of the same body."""

from __future__ import annotations

import orjson

from flowtime_site.renderers import FastJSONRenderer


def test_fragments_are_written_verbatim_in_compact_json() -> None:
    body = {"series": orjson.Fragment(b"[1,2.5,null]"), "n": 1}
    assert FastJSONRenderer().render(body) == b'{"series":[1,2.5,null],"n":1}'


def test_the_indented_view_indents_fragments_like_any_list() -> None:
    body = {"series": orjson.Fragment(b"[1,2.5,null]"), "n": 1}
    rendered = FastJSONRenderer().render(body, renderer_context={"indent": 4})
    assert rendered == b'{\n  "series": [\n    1,\n    2.5,\n    null\n  ],\n  "n": 1\n}'
