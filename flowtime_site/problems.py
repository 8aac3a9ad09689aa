"""One renderer for every error: RFC 9457 problem+json built from ``FlowtimeError`` (spec 05 §7).

DRF's own exceptions and Django's 404/500 are translated into the same shape, so a client only ever
parses one error format. No body carries a stack trace or a server path.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from flowtime_site.api import RequestTooLarge
from flowtime_site.shapes import Problem, ProblemErrorItem
from runs.errors import TITLES, FlowtimeError

logger = logging.getLogger("flowtime.http")

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(
    *, code: str, status: int, detail: str, instance: str, errors: list[ProblemErrorItem] | None = None
) -> Problem:
    return {
        "type": f"/problems/{code}",
        "title": TITLES.get(code, code.replace("_", " ").capitalize()),
        "status": status,
        "detail": detail,
        "code": code,
        "error": detail,
        "errors": errors or [],
        "instance": instance,
    }


def problem_from_error(error: FlowtimeError, instance: str) -> Problem:
    return problem_body(
        code=error.code,
        status=error.status,
        detail=error.detail,
        instance=instance,
        errors=[issue.as_error_item() for issue in error.errors],
    )


def _drf_field_errors(detail: Any, prefix: str = "") -> list[ProblemErrorItem]:
    """Flatten DRF's nested validation detail into ``errors[]`` items."""
    items: list[ProblemErrorItem] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            items.extend(_drf_field_errors(value, path))
    elif isinstance(detail, list):
        for value in detail:
            items.extend(_drf_field_errors(value, prefix))
    else:
        code = getattr(detail, "code", "invalid") or "invalid"
        items.append({"field": prefix or "body", "code": str(code), "message": str(detail)})
    return items


_DRF_CODES: dict[type[drf.APIException], str] = {
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "not_authenticated",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.ParseError: "invalid_request",
    drf.ValidationError: "invalid_request",
    drf.NotAcceptable: "invalid_request",
    drf.Throttled: "throttled",
}


def _authorization_hint(header: str) -> str:
    """What to send instead, when a client sent an Authorization header we do not read."""
    scheme = header.split(" ", 1)[0].strip()
    if not scheme:
        return " Send `Authorization: Token <key>` (manage.py create_token <username> prints a key)."
    return (
        f" The Authorization header uses the '{scheme[:20]}' scheme; this API reads "
        "`Authorization: Token <key>` (manage.py create_token <username> prints a key)."
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: every exception leaves as problem+json."""
    request = context.get("request")
    instance = request.path if request is not None else ""
    headers: dict[str, str] = {}
    if isinstance(exc, FlowtimeError):
        body = problem_from_error(exc, instance)
    elif isinstance(exc, RequestDataTooBig):
        # DRF reads ``request.body`` before our parser sees the stream, so Django's own size guard
        # (DATA_UPLOAD_MAX_MEMORY_SIZE) can fire first for very large bodies: same answer as the parser.
        body = problem_from_error(RequestTooLarge(), instance)
    elif isinstance(exc, SuspiciousOperation):
        body = problem_body(code="invalid_request", status=400, detail="Bad request.", instance=instance)
    elif isinstance(exc, Http404):
        body = problem_body(code="not_found", status=404, detail="Not found.", instance=instance)
    elif isinstance(exc, DjangoPermissionDenied):
        body = problem_body(
            code="permission_denied", status=403, detail="Permission denied.", instance=instance
        )
    elif isinstance(exc, drf.APIException):
        code = next((c for klass, c in _DRF_CODES.items() if isinstance(exc, klass)), "invalid_request")
        status = exc.status_code
        if isinstance(exc, drf.ValidationError):
            errors = _drf_field_errors(exc.detail)
            detail = errors[0]["message"] if len(errors) == 1 else f"{len(errors)} fields are invalid."
            body = problem_body(code=code, status=400, detail=detail, instance=instance, errors=errors)
        else:
            detail_text = str(exc.detail) if not isinstance(exc.detail, dict | list) else exc.default_detail
            if isinstance(exc, drf.ParseError):
                # DRF's message quotes the parser's exception text; keep it short and path-free.
                detail_text = "Malformed JSON request body."
            elif isinstance(exc, drf.UnsupportedMediaType):
                detail_text = f"{detail_text} Send the body as JSON with `Content-Type: application/json`."
            elif isinstance(exc, drf.NotAuthenticated) and request is not None:
                header = request.META.get("HTTP_AUTHORIZATION", "")
                detail_text = f"{detail_text}{_authorization_hint(header)}"
            body = problem_body(code=code, status=status, detail=str(detail_text), instance=instance)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = str(exc.auth_header)  # type: ignore[attr-defined]
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            # Without an authenticate header DRF would turn 401 into 403; we keep 401 (spec 05 §8).
            body["status"] = 401
            headers.setdefault("WWW-Authenticate", "Token")
    else:
        request_id = getattr(request, "request_id", None) if request is not None else None
        logger.exception("unhandled error", extra={"event": "internal_error", "requestId": request_id})
        body = problem_body(
            code="internal_error",
            status=500,
            detail=f"An internal error occurred (request id {request_id}).",
            instance=instance,
        )
    set_rollback()
    renderer = getattr(request, "accepted_renderer", None) if request is not None else None
    # A browser on the browsable API sees the same body as an HTML page; every other client gets
    # problem+json.
    content_type = None if getattr(renderer, "format", None) == "api" else PROBLEM_CONTENT_TYPE
    return Response(body, status=body["status"], headers=headers, content_type=content_type)


def _django_problem(request: HttpRequest, code: str, status: int, detail: str) -> HttpResponse:
    body = problem_body(code=code, status=status, detail=detail, instance=request.path)
    return JsonResponse(
        body, status=status, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"separators": (",", ":")}
    )


def problem_response(request: HttpRequest, error: FlowtimeError) -> HttpResponse:
    """A problem+json answer from outside DRF (middleware), same body as the exception handler's."""
    body = problem_from_error(error, request.path)
    return JsonResponse(
        body,
        status=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"separators": (",", ":")},
    )


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Under the API prefixes the sentence names the path, so a UI showing ``error`` word for word says
    # what is missing, and an unknown sub-path of a run never reads as a missing run (spec 07 §6).
    if request.path.startswith(("/v1/", "/api/v1/")):
        return _django_problem(request, "not_found", 404, f"No endpoint at {request.path}.")
    return _django_problem(request, "not_found", 404, "Not found.")


def handler500(request: HttpRequest) -> HttpResponse:
    request_id = getattr(request, "request_id", None)
    return _django_problem(
        request, "internal_error", 500, f"An internal error occurred (request id {request_id})."
    )


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _django_problem(request, "invalid_request", 400, "Bad request.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _django_problem(request, "permission_denied", 403, "Permission denied.")
