"""Validates a response against the committed ``docs/openapi.yaml`` (the suite-wide hook in conftest).

Whatever the document holds is the contract: a route answered under ``/v1/`` or ``/api/`` must be
documented for its method, with the status it answered, the content type it sent and a body that
matches the schema. Object schemas are checked closed (no undocumented member), so a field added to
a body without its schema fails here instead of drifting.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
JSON_TYPES = ("application/json", "application/problem+json")
CHECKED_PREFIXES = ("/v1/", "/api/")


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: ``nullable`` becomes a null alternative, objects that list
    their properties are closed unless they say otherwise."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_json_schema(value) for key, value in node.items() if key not in {"nullable", "example"}}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


@cache
def _components() -> dict[str, Any]:
    converted: dict[str, Any] = _to_json_schema(_document().get("components", {}))
    return converted


@cache
def _routes() -> list[tuple[re.Pattern[str], str]]:
    """Documented paths as regexes, literal ones first (``/categories`` before ``/{id}``)."""
    routes = []
    for template in _document().get("paths", {}):
        parts = re.split(r"(\{[^}]+\})", template)
        pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        routes.append((re.compile(f"^{pattern}$"), template))
    routes.sort(key=lambda item: (item[1].count("{"), item[1]))
    return routes


def _route_for(path: str) -> str | None:
    return next((template for regex, template in _routes() if regex.match(path)), None)


def contract_problems(method: str, path: str, status: int, content_type: str, content: bytes) -> list[str]:
    """Every way this response disagrees with the document (empty when it agrees)."""
    if not path.startswith(CHECKED_PREFIXES) or status == 405 or method.upper() in {"HEAD", "OPTIONS"}:
        return []  # outside the API, a method the route does not have, or HTTP plumbing (CORS preflight)
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "text/html":
        return []  # DRF's browsable API (?format=api) renders the same data as a page, not the contract
    template = _route_for(path)
    if template is None:
        if status == 404 or media_type not in JSON_TYPES:
            return []  # no such route (not_found), or a non-JSON page such as /v1/docs
        return [f"{path} is not a path of docs/openapi.yaml"]
    operation = _document()["paths"][template].get(method.lower())
    if operation is None:
        return [] if status in {404, 405} else [f"{method} {template} is not in docs/openapi.yaml"]
    where = f"{method} {template} → {status}"
    response = operation.get("responses", {}).get(str(status))
    if response is None:
        return [f"{where}: status {status} is not documented"]
    documented = response.get("content", {})
    if media_type not in JSON_TYPES:
        if documented and media_type not in documented:
            return [f"{where}: content type {media_type} is not documented ({', '.join(documented)})"]
        return []
    if media_type not in documented:
        return [f"{where}: content type {media_type} is not documented ({', '.join(documented) or 'none'})"]
    schema = documented[media_type].get("schema")
    if schema is None:
        return []
    body = json.loads(content)
    validator = Draft202012Validator({**_to_json_schema(schema), "components": _components()})
    return [
        f"{where}: at {'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
        for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    ][:5]


def _schema_problems(schema: dict[str, Any], value: Any, where: str) -> list[str]:
    validator = Draft202012Validator({**_to_json_schema(schema), "components": _components()})
    return [
        f"{where}: at {'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
        for error in validator.iter_errors(value)
    ]


def example_problems() -> list[str]:
    """Every request and response example of the document that its own schema refuses."""
    problems: list[str] = []
    for template, path_item in _document().get("paths", {}).items():
        for method, operation in path_item.items():
            if not isinstance(operation, dict):
                continue
            bodies = [("request", operation.get("requestBody", {}).get("content", {}))]
            bodies += [(status, r.get("content", {})) for status, r in operation.get("responses", {}).items()]
            for part, content in bodies:
                for media_type, media in content.items():
                    for name, example in media.get("examples", {}).items():
                        where = f"{method.upper()} {template} {part} {media_type} example {name!r}"
                        problems += _schema_problems(media.get("schema", {}), example.get("value"), where)
    return problems
