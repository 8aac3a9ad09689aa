"""Shared API plumbing: the size-limited JSON parser, write/read permissions, page parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from runs.errors import FlowtimeError, InvalidParameter

if TYPE_CHECKING:  # DRF imports this module while it loads its own views: no runtime import
    from rest_framework.views import APIView

MAX_BODY_BYTES = 1024 * 1024


class RequestTooLarge(FlowtimeError):
    def __init__(self) -> None:
        super().__init__("The request body exceeds 1 MiB.", "request_too_large", 413)


class LimitedJSONParser(JSONParser):
    """JSON bodies of at most 1 MiB (spec 05 §2), refused before they are read in full."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        if request is not None:
            length = request.META.get("CONTENT_LENGTH") or "0"
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                raise RequestTooLarge()
        if stream is not None:
            data = stream.read(MAX_BODY_BYTES + 1)
            if len(data) > MAX_BODY_BYTES:
                raise RequestTooLarge()
            import io

            stream = io.BytesIO(data)
        return super().parse(stream, media_type, parser_context)


class SessionUnlessAnonymousWrite(SessionAuthentication):
    """Session authentication, except that with ``FLOWTIME_ALLOW_ANONYMOUS_WRITES`` a write without an
    ``Authorization`` header is anonymous: a browser logged into the admin on the same origin (the
    FlowTime UI's Run Model page) then needs no CSRF token (spec 07 §2.4)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        if (
            settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES
            and request.method not in SAFE_METHODS
            and not request.META.get("HTTP_AUTHORIZATION")
        ):
            return None
        return super().authenticate(request)


class FlowtimeAccess(BasePermission):
    """Writes need an authenticated user unless anonymous writes are allowed; reads are open unless
    ``FLOWTIME_REQUIRE_AUTH_FOR_READS`` is on (spec 05 §8)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        authenticated = bool(request.user and request.user.is_authenticated)
        if request.method in SAFE_METHODS:
            return authenticated or not settings.FLOWTIME_REQUIRE_AUTH_FOR_READS
        return authenticated or settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES


_INT = re.compile(r"^[0-9]{1,9}$")


@dataclass(frozen=True)
class PageRequest:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def single_query_value(params: Mapping[str, Any], name: str) -> str | None:
    values = params.getlist(name) if hasattr(params, "getlist") else [params[name]] if name in params else []
    if not values:
        return None
    if len(values) > 1:
        raise InvalidParameter(name, f"{name} may be given only once.")
    return str(values[0])


def parse_page_request(
    params: Mapping[str, Any], *, default_size: int = 50, max_size: int = 200
) -> PageRequest:
    page_raw = single_query_value(params, "page")
    size_raw = single_query_value(params, "pageSize")
    page = 1
    size = default_size
    if page_raw is not None:
        if not _INT.fullmatch(page_raw.strip()) or int(page_raw) < 1:
            raise InvalidParameter("page", "page must be an integer ≥ 1.")
        page = int(page_raw)
    if size_raw is not None:
        if not _INT.fullmatch(size_raw.strip()) or not 1 <= int(size_raw) <= max_size:
            raise InvalidParameter("pageSize", f"pageSize must be an integer between 1 and {max_size}.")
        size = int(size_raw)
    return PageRequest(page, size)


def page_body(
    *, items: list[dict[str, Any]], total: int, page: PageRequest, request: Request
) -> dict[str, Any]:
    def link(number: int) -> str:
        query = request.query_params.copy()
        query["page"] = str(number)
        query["pageSize"] = str(page.page_size)
        return f"{request.path}?{query.urlencode()}"

    has_next = page.offset + page.page_size < total
    has_previous = page.page > 1 and total > 0
    return {
        "items": items,
        "totalCount": total,
        "page": page.page,
        "pageSize": page.page_size,
        "next": link(page.page + 1) if has_next else None,
        "previous": link(min(page.page - 1, max(1, -(-total // page.page_size)))) if has_previous else None,
    }
