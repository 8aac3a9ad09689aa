"""One source per response shape.

Every JSON body the API answers is declared once, as a ``TypedDict`` in the ``shapes`` module of its
app. The code that builds a body is annotated to return that ``TypedDict``, so mypy (part of
``make test``) refuses a builder that leaves a key out, adds one, or puts a wrong type in it. The
OpenAPI component is generated from the same declaration by :func:`serializer_for`, so the document
describes exactly what the builders are held to: the two cannot drift apart.

The generated serializers only describe. Bodies never pass through DRF serialization: the state
routes are on the hot path, and a dict checked by mypy costs nothing at run time.

What a declaration can say, beyond plain Python types:

- ``X | None``: the key is always present and may be ``null``;
- ``NotRequired[X]``: the key may be absent;
- ``Literal["a", "b"]``: an enum;
- ``Annotated[X, Doc("...")]``: the field's description;
- ``IsoDateTime``: an ISO 8601 string (``format: date-time``);
- ``Annotated[X, Minimum(n)]`` / ``Maximum(n)``: bounds of a number;
- ``Annotated[X, PublishedAs(Y)]``: the builder writes ``X`` (e.g. pre-rendered JSON text, an
  ``orjson.Fragment``) that is on the wire exactly a ``Y``.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import (
    Annotated,
    Any,
    Generic,
    Literal,
    NotRequired,
    Required,
    TypedDict,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers


@dataclass(frozen=True)
class Doc:
    """The description of one field in the OpenAPI document."""

    text: str


@dataclass(frozen=True)
class Minimum:
    value: int | float


@dataclass(frozen=True)
class Maximum:
    value: int | float


@dataclass(frozen=True)
class PublishedAs:
    """The value is written as another Python type that serialises to exactly ``hint`` on the wire."""

    hint: Any


@dataclass(frozen=True)
class _DateTime:
    pass


IsoDateTime = Annotated[str, _DateTime()]
"""An ISO 8601 date-time string (``2025-01-01T00:00:00Z``)."""

# Every shape a serializer was generated for, by component name (one class per name).
_GENERATED: dict[str, type[serializers.Serializer]] = {}


def generated_components() -> Mapping[str, type[serializers.Serializer]]:
    """The component name → serializer of every shape published so far."""
    return dict(_GENERATED)


@cache
def serializer_for(shape: Any, name: str | None = None) -> type[serializers.Serializer]:
    """The (documentation) serializer of a ``TypedDict`` shape, named after it or ``name``.

    ``shape`` may be a generic ``TypedDict`` given its arguments (``Page[RunListItem]``); such a shape
    needs ``name``. The same arguments always give the same class, and two different shapes may not
    claim one component name.
    """
    origin = get_origin(shape) or shape
    if not is_typeddict(origin):
        raise TypeError(f"{shape!r} is not a TypedDict")
    arguments = get_args(shape)
    if arguments and name is None:
        raise TypeError(f"{shape!r}: a shape with type arguments needs a component name")
    component = name or origin.__name__
    if component in _GENERATED:
        raise TypeError(f"two shapes are published as the component {component!r}")
    bound = dict(zip(getattr(origin, "__parameters__", ()), arguments, strict=True))
    hints = get_type_hints(origin, include_extras=True)
    fields = {key: _field(hint, bound, f"{component}.{key}") for key, hint in hints.items()}
    attrs: dict[str, Any] = {"__module__": origin.__module__, **fields}
    if origin.__doc__:
        attrs["__doc__"] = origin.__doc__
    generated = type(component, (serializers.Serializer,), attrs)
    if "items" in fields:
        # A list action answers one page object: drf-spectacular must not wrap a page in an array.
        generated = extend_schema_serializer(many=False)(generated)
    _GENERATED[component] = generated
    return generated


def _field(
    hint: Any, bound: Mapping[Any, Any], where: str, options: Mapping[str, Any] | None = None
) -> serializers.Field:
    """The serializer field publishing ``hint`` (``options`` gathered from the wrappers around it)."""
    options = dict(options or {})
    date_time = False
    while True:
        origin = get_origin(hint)
        if origin is NotRequired:
            options["required"] = False
            hint = get_args(hint)[0]
        elif origin is Required:
            hint = get_args(hint)[0]
        elif origin is Annotated:
            hint, *metadata = get_args(hint)
            for item in metadata:
                if isinstance(item, Doc):
                    options["help_text"] = item.text
                elif isinstance(item, Minimum):
                    options["min_value"] = item.value
                elif isinstance(item, Maximum):
                    options["max_value"] = item.value
                elif isinstance(item, _DateTime):
                    date_time = True
                elif isinstance(item, PublishedAs):
                    hint = item.hint
        elif isinstance(hint, TypeVar):
            hint = bound[hint]
        else:
            break
    if origin in (Union, types.UnionType):
        members = [member for member in get_args(hint) if member is not type(None)]
        if len(members) != 1:
            raise TypeError(f"{where}: a union of several types cannot be published ({hint!r})")
        if len(members) != len(get_args(hint)):
            options["allow_null"] = True
        if date_time:
            members[0] = Annotated[members[0], _DateTime()]
        return _field(members[0], bound, where, options)
    return _plain_field(hint, bound, where, options, date_time=date_time)


def _plain_field(
    hint: Any, bound: Mapping[Any, Any], where: str, options: dict[str, Any], *, date_time: bool
) -> serializers.Field:
    origin = get_origin(hint)
    if is_typeddict(origin or hint):
        return serializer_for(hint)(**options)
    if origin is Literal:
        return serializers.ChoiceField(choices=list(get_args(hint)), **options)
    if origin is list:
        (item,) = get_args(hint)
        item = bound.get(item, item) if isinstance(item, TypeVar) else item
        if is_typeddict(get_origin(item) or item):
            return serializer_for(item)(many=True, **options)
        return serializers.ListField(child=_field(item, bound, where), **options)
    if origin is dict:
        _key, value = get_args(hint)
        if value is Any:
            return serializers.DictField(**options)
        return serializers.DictField(child=_field(value, bound, where), **options)
    if hint is Any:
        return serializers.JSONField(**options)
    if hint is str:
        return serializers.DateTimeField(**options) if date_time else serializers.CharField(**options)
    if hint is bool:
        return serializers.BooleanField(**options)
    if hint is int:
        return serializers.IntegerField(**options)
    if hint is float:
        return serializers.FloatField(**options)
    raise TypeError(f"{where}: {hint!r} cannot be published")


# --- shapes shared by every app ------------------------------------------------------------------

Item = TypeVar("Item")


class ProblemErrorItem(TypedDict):
    field: str
    code: str
    message: str
    position: NotRequired[int]
    nodes: NotRequired[list[str]]


class Problem(TypedDict):
    """An RFC 9457 problem (spec 05 §7): the one error body of every route."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    error: Annotated[str, Doc("Same as detail (read by FlowTime UI clients).")]
    errors: list[ProblemErrorItem]
    instance: str


class Page(TypedDict, Generic[Item]):
    """One page of a list read with ``page``/``pageSize``."""

    items: list[Item]
    totalCount: int
    page: Annotated[int, Minimum(1)]
    pageSize: Annotated[int, Minimum(1)]
    next: str | None
    previous: str | None


class BuildInfo(TypedDict):
    version: str
    commitHash: str | None
    buildTime: str | None
    environment: str


class ServiceInfo(TypedDict):
    """``GET /v1/healthz`` and ``/api/v1/healthz`` (spec 07 §3.2)."""

    serviceName: str
    apiVersion: str
    build: BuildInfo
    status: str
    startTime: IsoDateTime
    uptime: Annotated[str, Doc("ISO-8601 duration in whole seconds, e.g. PT1H2M3S")]
