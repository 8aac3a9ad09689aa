"""templates_sync and ``manage.py sync_templates``: the index mirrors the catalog directory."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from template_helpers import MINI

from templates_catalog.documents import load_template
from templates_catalog.models import Template as TemplateRow
from templates_catalog.services import templates_sync

SHIPPED = [
    "it-system-microservices",
    "manufacturing-line",
    "network-reliability",
    "order-system",
    "supply-chain-multi-tier",
    "support-queue",
    "transportation-basic",
]


@pytest.mark.django_db
def test_sync_indexes_every_valid_template(catalog_copy: Path) -> None:
    result = templates_sync(directory=catalog_copy)
    assert list(result.added) == SHIPPED
    assert result.updated == result.removed == result.problems == ()
    row = TemplateRow.objects.get(template_id="it-system-microservices")
    template = load_template(catalog_copy / "it-system-microservices.yaml")
    assert (row.title, row.version, row.mode, row.file_name, row.file_hash) == (
        "IT System with Microservices",
        "1.0.0",
        "simulation",
        "it-system-microservices.yaml",
        template.file_hash,
    )
    assert row.tags == list(template.tags)
    assert row.parameters[0] == {
        "name": "bins",
        "type": "integer",
        "title": "Bins",
        "description": "Number of time bins.",
        "default": 6,
        "minimum": 3,
        "maximum": 48,
        "required": False,
        "telemetryBindable": False,
    }
    assert row.parameters[-1]["telemetryBindable"] is True
    assert [p["name"] for p in row.parameters] == [p.name for p in template.parameters]


@pytest.mark.django_db
def test_sync_updates_removes_and_reports(catalog_copy: Path) -> None:
    templates_sync(directory=catalog_copy)
    first_indexed = TemplateRow.objects.get(template_id="order-system").indexed_at
    path = catalog_copy / "transportation-basic.yaml"
    path.write_text(path.read_text().replace("version: 1.0.0", "version: 1.0.1"), encoding="utf-8")
    (catalog_copy / "support-queue.yaml").unlink()
    order = catalog_copy / "order-system.yaml"
    order.write_text(order.read_text().replace("id: order-system", "id: Order System"), encoding="utf-8")
    (catalog_copy / "mini.yaml").write_text(MINI, encoding="utf-8")

    result = templates_sync(directory=catalog_copy)
    assert result.added == ("mini",)
    assert result.updated == ("transportation-basic",)
    assert result.removed == ("order-system", "support-queue")
    assert len(result.unchanged) == 4
    assert [p.file_name for p in result.problems] == ["order-system.yaml"]
    assert TemplateRow.objects.get(template_id="transportation-basic").version == "1.0.1"
    assert not TemplateRow.objects.filter(template_id__in=["order-system", "support-queue"]).exists()
    assert TemplateRow.objects.get(template_id="it-system-microservices").indexed_at == first_indexed


@pytest.mark.django_db
def test_sync_templates_command(catalog_copy: Path, settings: object) -> None:
    settings.FLOWTIME_TEMPLATES_DIR = catalog_copy  # type: ignore[attr-defined]
    out, err = StringIO(), StringIO()
    call_command("sync_templates", stdout=out, stderr=err)
    assert out.getvalue().splitlines() == [f"added: {t}" for t in SHIPPED]
    assert err.getvalue() == ""
    assert TemplateRow.objects.count() == 7


@pytest.mark.django_db
def test_sync_templates_command_reports_broken_files_and_exits_1(catalog_copy: Path) -> None:
    (catalog_copy / "broken.yaml").write_text(
        MINI.replace('"demand * ${factor}"', '"${oops"'), encoding="utf-8"
    )
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as info:
        call_command("sync_templates", "--directory", str(catalog_copy), stdout=out, stderr=err)
    assert info.value.returncode == 1
    assert str(info.value) == "template_invalid: 1 template file is broken."
    assert err.getvalue().splitlines() == [
        "broken.yaml: nodes[1].expr: template_invalid: malformed placeholder at offset 0: use ${name}"
    ]
    assert len(out.getvalue().splitlines()) == 7
    assert TemplateRow.objects.count() == 7


@pytest.mark.django_db
def test_sync_templates_json(catalog_copy: Path) -> None:
    (catalog_copy / "broken.yaml").write_text("metadata: {id: x}\n", encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "sync_templates", "--json", "--directory", str(catalog_copy), stdout=out, stderr=StringIO()
        )
    body = json.loads(out.getvalue())
    assert body["added"] == SHIPPED
    assert body["updated"] == body["unchanged"] == body["removed"] == []
    assert [p["file"] for p in body["problems"]] == ["broken.yaml"]
    assert {
        "code": "template_invalid",
        "path": "metadata.title",
        "message": "title must be a non-empty string",
    } in (body["problems"][0]["errors"])
