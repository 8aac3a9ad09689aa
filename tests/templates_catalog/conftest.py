"""Fixtures for template tests: write variants of a small template, or copy the shipped catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from template_helpers import CATALOG_DIR, MINI, LoadText, WriteTemplate

from templates_catalog.documents import Template, load_template


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped catalog."""
    target = tmp_path / "catalog"
    target.mkdir()
    for path in CATALOG_DIR.glob("*.yaml"):
        (target / path.name).write_bytes(path.read_bytes())
    return target


@pytest.fixture
def write_template(tmp_path: Path) -> WriteTemplate:
    directory = tmp_path / "templates"
    directory.mkdir()

    def write(text: str = MINI, name: str = "mini.yaml") -> Path:
        path = directory / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def load_text(write_template: WriteTemplate) -> LoadText:
    def load(text: str = MINI, *, trial_generation: bool = True) -> Template:
        return load_template(write_template(text), trial_generation=trial_generation)

    return load
