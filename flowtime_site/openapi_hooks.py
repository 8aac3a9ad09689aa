"""drf-spectacular post-processing: what is true of every operation is written once, here.

- Error bodies are RFC 9457 problems, sent as ``application/problem+json`` (spec 05 §7), whatever
  content type a view's declaration defaulted to.
- Any operation can answer 500 ``internal_error``, and 406 ``invalid_request`` to an Accept header it
  cannot render; with ``FLOWTIME_REQUIRE_AUTH_FOR_READS`` (reads) or without credentials (writes) any
  can answer 401 ``not_authenticated`` / 403 ``permission_denied``.
"""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

COMMON_PROBLEMS = {
    "401": "`not_authenticated`: credentials are required (writes, or reads with "
    "FLOWTIME_REQUIRE_AUTH_FOR_READS) and none were sent.",
    "403": "`permission_denied`: the credentials do not allow this (or a session POST without CSRF token).",
    "406": "`invalid_request`: the Accept header allows neither JSON nor HTML (the browsable API).",
    "500": "`internal_error`: a bug, logged with the request id the body names; no trace, no path.",
}


def problem_json_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """``POSTPROCESSING_HOOKS`` entry: problem+json for every 4xx/5xx, and the common problems."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                content = response.get("content", {})
                if int(status) >= 400 and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
            for status, description in COMMON_PROBLEMS.items():
                responses.setdefault(
                    status, {"content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}, "description": description}
                )
            operation["responses"] = dict(sorted(responses.items()))
    return result


def anonymous_reads(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Reads are open unless FLOWTIME_REQUIRE_AUTH_FOR_READS (spec 05 §8): credentials are optional."""
    for path_item in result.get("paths", {}).values():
        operation = path_item.get("get")
        if isinstance(operation, dict) and {} not in operation.setdefault("security", []):
            operation["security"].append({})
    return result


def strict_request_bodies(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Request objects refuse unknown keys (``runs.serializers.StrictSerializer``): say so in the schema."""
    from runs.serializers import StrictSerializer

    strict: list[type[StrictSerializer]] = []
    pending: list[type[StrictSerializer]] = [StrictSerializer]
    while pending:
        klass = pending.pop()
        sub: type[StrictSerializer]
        for sub in klass.__subclasses__():
            strict.append(sub)
            pending.append(sub)
    schemas = result.get("components", {}).get("schemas", {})
    for klass in strict:
        name = klass.__name__.removesuffix("Serializer")
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    return result
