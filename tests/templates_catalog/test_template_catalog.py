"""Scanning a catalog directory: broken files are reported and never hide the others."""

from __future__ import annotations

from pathlib import Path

from template_helpers import MINI

from templates_catalog.catalog import scan_catalog


def test_a_broken_file_is_reported_while_the_others_load(catalog_copy: Path) -> None:
    (catalog_copy / "broken.yaml").write_text(MINI.replace("id: mini", "id: Bad Id"), encoding="utf-8")
    (catalog_copy / "zz-duplicate.yaml").write_bytes((catalog_copy / "order-system.yaml").read_bytes())
    (catalog_copy / "README.md").write_text("not a template", encoding="utf-8")
    (catalog_copy / "mini.yml").write_text(MINI, encoding="utf-8")
    scan = scan_catalog(catalog_copy)
    assert len(scan.templates) == 8
    assert "mini" in scan.templates and scan.templates["order-system"].file_name == "order-system.yaml"
    assert [p.file_name for p in scan.problems] == ["broken.yaml", "zz-duplicate.yaml"]
    assert scan.problems[0].lines() == [
        "broken.yaml: metadata.id: template_invalid: id must match ^[a-z0-9][a-z0-9-]{0,63}$"
    ]
    assert scan.problems[1].lines() == [
        "zz-duplicate.yaml: metadata.id: template_invalid: "
        "duplicate template id 'order-system' (already defined by order-system.yaml)"
    ]


def test_every_issue_of_a_broken_file_is_kept(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        MINI.replace("version: 1.0.0", "version: one").replace("id: mini", "id: _")
    )
    [problem] = scan_catalog(tmp_path).problems
    assert problem.file_name == "a.yaml"
    assert [(i.code, i.path) for i in problem.issues] == [
        ("template_invalid", "metadata.id"),
        ("template_invalid", "metadata.version"),
    ]


def test_yaml_error_and_engine_error_are_problems(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("metadata: [\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(MINI.replace('"demand * ${factor}"', '"demand * ${factor} + nope"'))
    (tmp_path / "c.yaml").write_text(MINI.replace("id: mini", "id: mini-c"), encoding="utf-8")
    scan = scan_catalog(tmp_path)
    assert list(scan.templates) == ["mini-c"]
    assert [(p.file_name, [(i.code, i.path) for i in p.issues]) for p in scan.problems] == [
        ("a.yaml", [("template_invalid", "$")]),
        ("b.yaml", [("node_unknown", "nodes[1].expr")]),
    ]


def test_missing_directory_is_an_empty_catalog(tmp_path: Path) -> None:
    scan = scan_catalog(tmp_path / "absent")
    assert scan.templates == {} and scan.problems == []
