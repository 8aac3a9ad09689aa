"""Shared API plumbing: the size-limited JSON parser, write/read permissions, page parameters."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.utils.json import strict_constant as json_strict_constant

from runs.errors import FlowtimeError, InvalidParameter, InvalidRequest

if TYPE_CHECKING:  # DRF imports this module while it loads its own views: no runtime import
    from rest_framework.views import APIView

    from flowtime_site.shapes import Item, Page

MAX_BODY_BYTES = 1024 * 1024


class RequestTooLarge(FlowtimeError):
    def __init__(self) -> None:
        super().__init__("The request body exceeds 1 MiB.", "request_too_large", 413)


# Deeper bodies are refused with 400 before any code walks them: Python's JSON decoder and every
# recursive walker after it would otherwise hit the interpreter's recursion limit (a 500). No
# request of spec 05 nests deeper than 4 levels; 32 leaves room for parameter values.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects/arrays more than ``limit`` levels deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def nested_too_deeply() -> InvalidRequest:
    return InvalidRequest(f"The request body nests objects or arrays more than {MAX_JSON_DEPTH} levels deep.")


class LimitedJSONParser(JSONParser):
    """JSON bodies of at most 1 MiB (spec 05 §2), refused before they are read in full, and nested at
    most ``MAX_JSON_DEPTH`` levels."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        if request is not None:
            length = request.META.get("CONTENT_LENGTH") or "0"
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                raise RequestTooLarge()
        raw = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_BODY_BYTES:
            raise RequestTooLarge()
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            text = raw.decode(encoding)
            data = json.loads(text, parse_constant=json_strict_constant if self.strict else None)
        except RecursionError:
            raise nested_too_deeply() from None
        except ValueError:
            raise ParseError("Malformed JSON request body.") from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise nested_too_deeply()
        return data


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


# DRF's own format suffix (``?format=api`` for the browsable API) is accepted on every route.
ALWAYS_ACCEPTED_QUERY = ("format",)


def check_query_names(params: Mapping[str, Any], accepted: Sequence[str]) -> None:
    """Refuse unknown and empty query parameters: ``?template=x`` must not look like a filter that
    applied, and ``?createdBefore=`` is not a date. The first problem becomes ``invalid_parameter``."""
    allowed = [*accepted, *ALWAYS_ACCEPTED_QUERY]
    listing = ", ".join(accepted)
    for name in params:
        if name not in allowed:
            close = difflib.get_close_matches(name, list(accepted), n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise InvalidParameter(
                name, f"Unknown query parameter '{name}'.{hint} Accepted parameters: {listing}."
            )
    for name in params:
        if name in ALWAYS_ACCEPTED_QUERY:
            continue
        values = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
        if any(str(value).strip() == "" for value in values):
            raise InvalidParameter(name, f"{name} must not be empty; leave it out to not filter.")


# The query parameters ``parse_page_request`` reads, as every paged list route documents them.
PAGE_PARAMETERS = [
    OpenApiParameter(
        "page", {"type": "integer", "minimum": 1, "maximum": 999_999_999}, description="Page number, from 1."
    ),
    OpenApiParameter(
        "pageSize",
        {"type": "integer", "minimum": 1, "maximum": 200},
        description="Items per page (default 50).",
    ),
]


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


def page_body(*, items: list[Item], total: int, page: PageRequest, request: Request) -> Page[Item]:
    given = list(request.query_params.lists())

    def link(number: int) -> str:
        # The request's query with page and pageSize set (in place when given, else appended), encoded
        # in one call: what QueryDict.copy() and .urlencode() spell, without copying every value list.
        paging = {"page": str(number), "pageSize": str(page.page_size)}
        pairs: list[tuple[str, str]] = []
        for name, values in given:
            if name in paging:
                pairs.append((name, paging[name]))
            else:
                pairs.extend((name, value) for value in values)
        pairs.extend((name, value) for name, value in paging.items() if name not in request.query_params)
        return f"{request.path}?{urlencode(pairs)}"

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
