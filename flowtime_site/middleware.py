"""Request id, request logging and HTTP metrics (spec 05 §9)."""

from __future__ import annotations

import functools
import io
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

from runs.observability import current_request_id

logger = logging.getLogger("flowtime.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

HTTP_REQUESTS = Counter(
    "flowtime_http_requests_total", "HTTP requests served.", ["method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "flowtime_http_request_seconds",
    "HTTP request latency.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


@functools.lru_cache(maxsize=256)  # route patterns are few; two regex substitutions per request
def _route_label(route: str) -> str:
    """``v1/runs/{run_id}`` for both path() and router regex patterns."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    return route.lstrip("^").rstrip("$")


class RequestIdMiddleware:
    """Accepts a well-formed ``X-Request-ID`` or makes one, echoes it, logs one line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        elapsed = time.perf_counter() - started
        response["X-Request-ID"] = request_id
        match = getattr(request, "resolver_match", None)
        # The route pattern, not the raw path, keeps label cardinality bounded.
        route = _route_label(match.route) if match is not None and match.route else "unmatched"
        HTTP_REQUESTS.labels(request.method or "", route, str(response.status_code)).inc()
        HTTP_SECONDS.labels(request.method or "", route).observe(elapsed)
        logger.info(
            "request",
            extra={
                "event": "http_request",
                "requestId": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "durationMs": round(elapsed * 1000, 3),
            },
        )
        return response


class ChunkedBodyMiddleware:
    """Reads a chunked request body (no ``Content-Length``) under the same 1 MiB limit as any other.

    Django's WSGI request reads ``Content-Length`` bytes, so a chunked body looked empty and a 3 MiB
    upload answered "templateId required". A server that decodes chunking (gunicorn) marks the input
    ``wsgi.input_terminated``: we read at most limit + 1 bytes and answer 413 beyond the limit. A
    server that does not cannot frame the body, so it is refused rather than read as empty.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH") and hasattr(request, "environ"):
            from flowtime_site.api import MAX_BODY_BYTES, RequestTooLarge
            from flowtime_site.problems import problem_response
            from runs.errors import InvalidRequest

            environ = request.environ
            if not environ.get("wsgi.input_terminated"):
                return problem_response(
                    request, InvalidRequest("This server cannot read a chunked body; send Content-Length.")
                )
            data = environ["wsgi.input"].read(MAX_BODY_BYTES + 1)
            if len(data) > MAX_BODY_BYTES:
                return problem_response(request, RequestTooLarge())
            request.META["CONTENT_LENGTH"] = str(len(data))
            request._stream = LimitedStream(io.BytesIO(data), len(data))  # type: ignore[assignment]
        return self.get_response(request)
