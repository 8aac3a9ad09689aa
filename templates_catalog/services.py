"""Writes for the template index: ``templates_sync`` mirrors the catalog directory into rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .catalog import CatalogProblem, scan_catalog
from .documents import Template
from .models import Template as TemplateRow


@dataclass(frozen=True)
class SyncResult:
    """What one sync changed; ``problems`` are the files that could not be indexed."""

    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    problems: tuple[CatalogProblem, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "added": list(self.added),
            "updated": list(self.updated),
            "unchanged": list(self.unchanged),
            "removed": list(self.removed),
            "problems": [
                {"file": p.file_name, "errors": [issue.as_dict() for issue in p.issues]}
                for p in self.problems
            ],
        }


def template_row_fields(template: Template) -> dict[str, Any]:
    return {
        "title": template.title,
        "version": template.version,
        "description": template.description,
        "tags": list(template.tags),
        "mode": template.mode,
        "file_name": template.file_name,
        "file_hash": template.file_hash,
        "parameters": [spec.as_json() for spec in template.parameters],
    }


def templates_sync(*, directory: Path | None = None) -> SyncResult:
    """Upsert a row per valid template and delete rows whose id is no longer valid or present."""
    scan = scan_catalog(directory if directory is not None else Path(settings.FLOWTIME_TEMPLATES_DIR))
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    now = timezone.now()
    with transaction.atomic():
        existing = {row.template_id: row for row in TemplateRow.objects.select_for_update()}
        for template_id, template in sorted(scan.templates.items()):
            fields = template_row_fields(template)
            row = existing.get(template_id)
            if row is None:
                TemplateRow.objects.create(template_id=template_id, indexed_at=now, **fields)
                added.append(template_id)
            elif any(getattr(row, name) != value for name, value in fields.items()):
                TemplateRow.objects.filter(template_id=template_id).update(indexed_at=now, **fields)
                updated.append(template_id)
            else:
                unchanged.append(template_id)
        removed = sorted(set(existing) - set(scan.templates))
        TemplateRow.objects.filter(template_id__in=removed).delete()
    return SyncResult(tuple(added), tuple(updated), tuple(unchanged), tuple(removed), tuple(scan.problems))
