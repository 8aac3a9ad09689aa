"""One source per response shape: every response component of the OpenAPI document is generated from
the TypedDict its builder returns (``flowtime_site.shapes``), and the generator says what it is told."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Generic, Literal, NotRequired, TypedDict, TypeVar

import orjson
import pytest
import yaml
from rest_framework import serializers

from flowtime_site.shapes import (
    Doc,
    IsoDateTime,
    Minimum,
    PublishedAs,
    generated_components,
    serializer_for,
)

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"

T = TypeVar("T")


class ProbeInner(TypedDict):
    """An inner object."""

    label: str


class ProbeShape(TypedDict):
    """A probe of every construct a shape may use."""

    text: str
    count: Annotated[int, Minimum(1), Doc("How many.")]
    ratio: float | None
    flag: bool
    when: IsoDateTime | None
    colour: Literal["red", "green"]
    inner: ProbeInner | None
    inners: list[ProbeInner]
    numbers: Annotated[list[float | None] | orjson.Fragment, PublishedAs(list[float | None])]
    table: dict[str, list[int]]
    anything: Any | None
    later: NotRequired[str]


ProbeKeyword = TypedDict("ProbeKeyword", {"from": str, "class": str | None})


class ProbePage(TypedDict, Generic[T]):
    items: list[T]
    total: int


def test_each_construct_becomes_the_field_that_publishes_it() -> None:
    fields = serializer_for(ProbeShape)().fields
    assert list(fields) == [
        "text",
        "count",
        "ratio",
        "flag",
        "when",
        "colour",
        "inner",
        "inners",
        "numbers",
        "table",
        "anything",
        "later",
    ]
    assert type(fields["text"]) is serializers.CharField and not fields["text"].allow_null
    assert type(fields["count"]) is serializers.IntegerField
    assert fields["count"].min_value == 1 and fields["count"].help_text == "How many."
    assert type(fields["ratio"]) is serializers.FloatField and fields["ratio"].allow_null
    assert type(fields["flag"]) is serializers.BooleanField
    assert type(fields["when"]) is serializers.DateTimeField and fields["when"].allow_null
    assert type(fields["colour"]) is serializers.ChoiceField
    assert list(fields["colour"].choices) == ["red", "green"]
    assert fields["inner"].__class__.__name__ == "ProbeInner" and fields["inner"].allow_null
    assert isinstance(fields["inners"], serializers.ListSerializer)
    assert fields["inners"].child.__class__.__name__ == "ProbeInner"
    assert type(fields["numbers"]) is serializers.ListField
    assert type(fields["numbers"].child) is serializers.FloatField and fields["numbers"].child.allow_null
    assert type(fields["table"]) is serializers.DictField
    assert type(fields["table"].child) is serializers.ListField
    assert type(fields["anything"]) is serializers.JSONField and fields["anything"].allow_null
    assert fields["later"].required is False
    assert all(fields[name].required for name in fields if name != "later")
    assert serializer_for(ProbeShape).__doc__ == "A probe of every construct a shape may use."


def test_keys_that_are_python_keywords_and_generic_pages() -> None:
    assert list(serializer_for(ProbeKeyword)().fields) == ["from", "class"]
    page = serializer_for(ProbePage[ProbeInner], "ProbeInnerPage")
    assert page.__name__ == "ProbeInnerPage"
    assert page().fields["items"].child.__class__.__name__ == "ProbeInner"
    # The same shape always gives the same class (one component per name).
    assert serializer_for(ProbePage[ProbeInner], "ProbeInnerPage") is page


def test_shapes_that_cannot_be_published_are_refused() -> None:
    class TwoTypes(TypedDict):
        value: int | str

    class Clash(TypedDict):
        value: int

    with pytest.raises(TypeError, match="union of several types"):
        serializer_for(TwoTypes)
    with pytest.raises(TypeError, match="needs a component name"):
        serializer_for(ProbePage[int])
    with pytest.raises(TypeError, match="not a TypedDict"):
        serializer_for(dict)
    serializer_for(Clash)
    with pytest.raises(TypeError, match="two shapes"):
        serializer_for(ProbePage[Clash], "Clash")


def _referenced(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _referenced(value, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, found)


def test_every_response_component_of_the_document_is_generated_from_a_shape() -> None:
    import flowtime_site.urls  # noqa: F401  (every view, so every published shape, is loaded)

    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    responses: set[str] = set()
    for path_item in document["paths"].values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                _referenced(operation.get("responses", {}), responses)
    # Follow references inside components: a shape's nested objects are shapes too.
    pending = set(responses)
    while pending:
        name = pending.pop()
        inner: set[str] = set()
        _referenced(schemas[name], inner)
        pending |= inner - responses
        responses |= inner
    generated = set(generated_components())
    enums = {name for name in responses if "enum" in schemas[name]}  # drf-spectacular's enum components
    combined = {"RunListResponse"}  # oneOf of two generated pages
    not_from_a_shape = responses - generated - enums - combined
    assert not not_from_a_shape, f"response components written by hand: {sorted(not_from_a_shape)}"
    assert {"RunResponse", "StateWindow", "Problem", "RunListPage", "CaptureResponse"} <= responses
