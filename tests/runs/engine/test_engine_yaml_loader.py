"""The shared YAML loader of spec 01 §1: duplicates refused, timestamps kept as text, BOM/CRLF read."""

from __future__ import annotations

import pytest

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
