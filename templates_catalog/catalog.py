"""Scan a catalog directory: every valid template by id, and every broken file with its issues."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runs.errors import Issue, TemplateError

from .documents import Template, load_template

TEMPLATE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class CatalogProblem:
    """A file that could not be indexed, with every load-phase issue."""

    file_name: str
    issues: tuple[Issue, ...]

    def lines(self) -> list[str]:
        return [f"{self.file_name}: {i.path}: {i.code}: {i.message}" for i in self.issues]


@dataclass(frozen=True)
class CatalogScan:
    templates: dict[str, Template] = field(default_factory=dict)
    problems: list[CatalogProblem] = field(default_factory=list)


def template_files(directory: Path) -> list[Path]:
    """The catalog's template files, sorted by name (hidden files are skipped)."""
    if not directory.is_dir():
        return []
    return sorted(
        (
            p
            for p in directory.iterdir()
            if p.suffix in TEMPLATE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        ),
        key=lambda p: p.name,
    )


def scan_catalog(directory: Path) -> CatalogScan:
    """Load every template file; a broken file is reported and never hides the others.

    When two files declare the same id, the first by file name is kept and the others are problems.
    """
    scan = CatalogScan()
    owners: dict[str, str] = {}
    for path in template_files(directory):
        try:
            template = load_template(path)
        except TemplateError as exc:
            scan.problems.append(CatalogProblem(path.name, tuple(exc.errors)))
            continue
        except OSError as exc:
            scan.problems.append(
                CatalogProblem(
                    path.name, (Issue("template_invalid", "$", f"cannot read the file: {exc.strerror}"),)
                )
            )
            continue
        if template.id in owners:
            issue = Issue(
                "template_invalid",
                "metadata.id",
                f"duplicate template id '{template.id}' (already defined by {owners[template.id]})",
            )
            scan.problems.append(CatalogProblem(path.name, (issue,)))
            continue
        owners[template.id] = path.name
        scan.templates[template.id] = template
    return scan
