"""The shared YAML loader of spec 01 §1: duplicates refused, timestamps kept as text, BOM/CRLF read."""

from __future__ import annotations

import pytest
import yaml

from runs.engine.yaml_loader import YamlLoadError, load_yaml


def test_duplicate_keys_are_errors_with_the_line() -> None:
    with pytest.raises(YamlLoadError) as info:
        load_yaml("grid:\n  bins: 3\n  bins: 4\n")
    assert "duplicate key 'bins'" in info.value.message
    assert info.value.line == 3


def test_timestamps_stay_strings_and_bom_crlf_are_accepted() -> None:
    loaded = load_yaml("\ufeffstart: 2025-01-01T00:00:00Z\r\nvalues: [1, 2.5]\r\n".encode())
    assert loaded == {"start": "2025-01-01T00:00:00Z", "values": [1, 2.5]}


def test_python_tags_are_refused() -> None:
    with pytest.raises(YamlLoadError):
        load_yaml("x: !!python/object/apply:os.system ['true']\n")


def test_a_document_nested_too_deeply_is_a_clean_error() -> None:
    with pytest.raises(YamlLoadError, match="nest"):
        load_yaml("[" * 50_000)


def test_not_utf8_is_an_error() -> None:
    with pytest.raises(YamlLoadError, match="not UTF-8"):
        load_yaml(b"a: \xff\xfe\n")


NUMBER_LIKE = [
    "0",
    "-0",
    "00",
    "007",
    "08",
    "1_0",
    "12",
    "-12",
    "+1",
    "1.5",
    "-1.5",
    "0.0",
    "-0.0",
    "1.",
    "5.",
    ".5",
    "-.5",
    "1.0e+5",
    "1e5",
    "1.0_0",
    "12:30",
    "1:2.5",
    "0x1F",
    "0b1",
    "0o7",
    "1.5.5",
    "-",
    ".nan",
    ".inf",
    "-.inf",
    "2025-01-01",
    "123456789012345678901234567890",
    "3.141592653589793",
]


WORD_LIKE = [
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "yes",
    "No",
    "off",
    "ON",
    "true",
    "y",
    "n",
    "=",
    "<<",
    "abc",
    "x1",
]


def test_the_resolver_gives_every_node_the_tag_pyyaml_gives() -> None:
    """Our resolver stands in for PyYAML's whole ``resolve``: numbers, words, collections."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    from runs.engine.yaml_loader import _StrictSafeLoader

    pyyaml = yaml.resolver.Resolver()
    ours = _StrictSafeLoader("")
    for kind in (MappingNode, SequenceNode):
        assert ours.resolve(kind, None, (True, False)) == pyyaml.resolve(kind, None, (True, False))
    for text in [*NUMBER_LIKE, *WORD_LIKE]:
        for implicit in [(True, False), (False, True), (False, False)]:
            assert ours.resolve(ScalarNode, text, implicit) == pyyaml.resolve(ScalarNode, text, implicit), (
                text
            )


def test_number_lists_load_to_the_same_values_and_types_as_pyyaml() -> None:
    items = [*NUMBER_LIKE, "!!float 2", "!!int '8'", "'7'", "&a 4.5", "*a", "[1.5, 2]", "{k: -3}"]
    text = (
        "values: ["
        + ", ".join(items)
        + "]\nblock:\n"
        + "".join(f"  - {item}\n".replace("&a", "&b").replace("*a", "*b") for item in items)
    )
    expected = yaml.load(text.replace("2025-01-01", "'2025-01-01'"), Loader=yaml.SafeLoader)

    def typed(value: object) -> object:
        if isinstance(value, list):
            return [typed(v) for v in value]
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        return (type(value).__name__, repr(value))

    assert typed(load_yaml(text)) == typed(expected)
    assert typed(load_yaml("x: [-0.0, 0.1, -7]\n"))["x"] == [
        ("float", "-0.0"),
        ("float", "0.1"),
        ("int", "-7"),
    ]
