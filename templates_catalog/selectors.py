"""Reads of the template catalog, straight from the catalog directory (the truth for generation).

The scan is cached per directory and keyed on the listing's (name, mtime_ns, size) signature, so an
added, changed or removed file is seen on the next call without a restart.
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from runs.errors import TemplateNotFound

from .catalog import CatalogScan, scan_catalog, template_files
from .documents import Template

_Signature = tuple[tuple[str, int, int], ...]
_cache: dict[Path, tuple[_Signature, CatalogScan]] = {}
_lock = threading.Lock()


def _signature(directory: Path) -> _Signature:
    entries = []
    for path in template_files(directory):
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed while listing: the next call sees the new listing
            continue
        entries.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


def catalog_scan(*, directory: Path | None = None) -> CatalogScan:
    """The current scan of the catalog directory (cached until the listing changes)."""
    root = Path(directory if directory is not None else settings.FLOWTIME_TEMPLATES_DIR).resolve()
    signature = _signature(root)
    with _lock:
        cached = _cache.get(root)
        if cached is not None and cached[0] == signature:
            return cached[1]
    scan = scan_catalog(root)
    with _lock:
        _cache[root] = (signature, scan)
    return scan


def template_get(*, template_id: str, directory: Path | None = None) -> Template:
    """The valid template with this id; raise ``TemplateNotFound`` otherwise."""
    templates = catalog_scan(directory=directory).templates
    template = templates.get(template_id)
    if template is None:
        raise TemplateNotFound(template_id, known=templates)
    return template


def template_list(
    *,
    mode: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    directory: Path | None = None,
) -> list[Template]:
    """Valid templates sorted by id; ``tag`` and ``search`` (id, title, description) ignore case."""
    templates = sorted(catalog_scan(directory=directory).templates.values(), key=lambda t: t.id)
    if mode is not None:
        templates = [t for t in templates if t.mode == mode.lower()]
    if tag is not None:
        wanted = tag.lower()
        templates = [t for t in templates if wanted in {x.lower() for x in t.tags}]
    if search:
        needle = search.lower()
        templates = [
            t
            for t in templates
            if needle in t.id.lower() or needle in t.title.lower() or needle in t.description.lower()
        ]
    return templates
