"""Selectors read the catalog directory and see changed, added and removed files without a restart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from template_helpers import MINI

from runs.errors import TemplateNotFound
from templates_catalog.selectors import catalog_scan, template_get, template_list


@pytest.fixture
def catalog_dir(tmp_path: Path, settings: object) -> Path:
    directory = tmp_path / "live-catalog"
    directory.mkdir()
    settings.FLOWTIME_TEMPLATES_DIR = directory  # type: ignore[attr-defined]
    return directory


def _touch_later(path: Path, seconds: int) -> None:
    # Guarantee a new mtime even on coarse filesystem clocks.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


def test_template_get_and_not_found(catalog_dir: Path) -> None:
    (catalog_dir / "mini.yaml").write_text(MINI, encoding="utf-8")
    assert template_get(template_id="mini").title == "Mini"
    with pytest.raises(TemplateNotFound) as info:
        template_get(template_id="nope")
    assert info.value.code == "template_not_found"
    assert info.value.detail == "Template 'nope' was not found. GET /v1/templates lists the catalog."
    with pytest.raises(TemplateNotFound) as near:
        template_get(template_id="mimi")
    assert near.value.detail == (
        "Template 'mimi' was not found. Did you mean 'mini'? GET /v1/templates lists the catalog."
    )


def test_changed_added_and_removed_files_are_seen_without_restart(catalog_dir: Path) -> None:
    path = catalog_dir / "mini.yaml"
    path.write_text(MINI, encoding="utf-8")
    assert template_get(template_id="mini").version == "1.0.0"

    path.write_text(MINI.replace("version: 1.0.0", "version: 1.1.0"), encoding="utf-8")
    _touch_later(path, 1)
    assert template_get(template_id="mini").version == "1.1.0"

    (catalog_dir / "other.yaml").write_text(MINI.replace("id: mini", "id: other"), encoding="utf-8")
    assert [t.id for t in template_list()] == ["mini", "other"]

    (catalog_dir / "other.yaml").unlink()
    assert [t.id for t in template_list()] == ["mini"]

    path.write_text(MINI.replace("version: 1.0.0", "version: broken"), encoding="utf-8")
    _touch_later(path, 2)
    with pytest.raises(TemplateNotFound):
        template_get(template_id="mini")
    assert catalog_scan().problems[0].file_name == "mini.yaml"


def test_an_unchanged_directory_is_not_rescanned(catalog_dir: Path) -> None:
    (catalog_dir / "mini.yaml").write_text(MINI, encoding="utf-8")
    assert catalog_scan() is catalog_scan()


def test_template_list_filters(catalog_dir: Path) -> None:
    (catalog_dir / "mini.yaml").write_text(MINI, encoding="utf-8")
    (catalog_dir / "tele.yaml").write_text(
        MINI.replace("id: mini", "id: tele")
        .replace("mode: simulation", "mode: telemetry")
        .replace("tags: [test]", "tags: [queue]")
        .replace("title: Mini", "title: Telemetry Demo"),
        encoding="utf-8",
    )
    assert [t.id for t in template_list(mode="TELEMETRY")] == ["tele"]
    assert [t.id for t in template_list(mode="simulation")] == ["mini"]
    assert [t.id for t in template_list(tag="queue")] == ["tele"]
    assert [t.id for t in template_list(search="demo")] == ["tele"]
    assert [t.id for t in template_list(search="SMALL")] == ["mini", "tele"]


def test_default_directory_is_the_shipped_catalog() -> None:
    assert len(template_list()) == 7
    assert template_get(template_id="support-queue").title == "Support Queue"


def test_tag_filter_ignores_case() -> None:
    assert [t.id for t in template_list(tag="ORDERS")] == [t.id for t in template_list(tag="orders")]
    assert [t.id for t in template_list(tag="orders")] == ["order-system"]
