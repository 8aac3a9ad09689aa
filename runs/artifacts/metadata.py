"""model/metadata.json and the manifest's provenance summary, derived as spec 03 §3.2–§3.3 say."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from runs.artifacts.documents import get_key, get_mapping
from runs.canonical import format_timestamp

DEFAULT_TEMPLATE_ID = "adhoc-model"
DEFAULT_TEMPLATE_VERSION = "0.0.0"
DEFAULT_MODE = "simulation"


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value: object) -> str | None:
    """A scalar as text (``version: 1.0`` parses as a float); blanks and containers read as ``None``."""
    if _is_blank(value) or isinstance(value, Mapping | list | tuple):
        return None
    if isinstance(value, datetime):
        return format_timestamp(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def first_text(*values: object) -> str | None:
    """The first value that is not blank, as text."""
    for value in values:
        text = _as_text(value)
        if text is not None:
            return text
    return None


def _schema_version(model: Mapping[str, Any]) -> int:
    value = get_key(model, "schemaVersion")
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 1


def model_provenance(model: Mapping[str, Any]) -> dict[str, Any] | None:
    """The model's ``provenance:`` mapping, or ``None`` when it has none."""
    value = get_key(model, "provenance")
    return dict(value) if isinstance(value, Mapping) else None


def derive_metadata(
    model: Mapping[str, Any],
    provenance: Mapping[str, Any] | None,
    *,
    template_id: str | None = None,
    template_title: str | None = None,
    template_version: str | None = None,
    mode: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    generated_at_utc: datetime | str | None = None,
) -> dict[str, Any]:
    """The §3.3 fields other than hashes and ``receivedAtUtc``: for each, the first non-blank source wins.

    The keyword arguments are the catalog run's values (``None`` for model-file runs); ``provenance``
    is *Prov*: the supplied document, else the model's ``provenance:`` mapping.
    """
    prov: Mapping[str, Any] = provenance or {}
    meta = get_mapping(model, "metadata")
    model_prov = get_mapping(model, "provenance")

    resolved_id = (
        first_text(template_id, get_key(meta, "id"), get_key(prov, "templateId")) or DEFAULT_TEMPLATE_ID
    )
    title = first_text(template_title, get_key(meta, "title"), get_key(prov, "templateTitle")) or resolved_id
    version = (
        first_text(template_version, get_key(meta, "version"), get_key(prov, "templateVersion"))
        or DEFAULT_TEMPLATE_VERSION
    )
    resolved_mode = first_text(
        mode, get_key(prov, "mode"), get_key(model, "mode"), get_key(model_prov, "mode")
    )
    if parameters is not None:
        resolved_parameters: dict[str, Any] = dict(parameters)
    else:
        prov_parameters = get_key(prov, "parameters")
        resolved_parameters = dict(prov_parameters) if isinstance(prov_parameters, Mapping) else {}
    return {
        "schemaVersion": _schema_version(model),
        "templateId": resolved_id,
        "templateTitle": title,
        "templateVersion": version,
        "mode": (resolved_mode or DEFAULT_MODE).lower(),
        "source": first_text(get_key(prov, "source")),
        "generator": first_text(get_key(prov, "generator")),
        "modelId": first_text(get_key(prov, "modelId")),
        "generatedAtUtc": first_text(
            generated_at_utc, get_key(prov, "generatedAtUtc"), get_key(prov, "generatedAt")
        ),
        "parameters": resolved_parameters,
    }


def manifest_provenance(provenance: Mapping[str, Any] | None) -> dict[str, Any]:
    """manifest.json ``provenance``: ``hasProvenance`` plus modelId/templateId/source, absent keys omitted."""
    if provenance is None:
        return {"hasProvenance": False}
    out: dict[str, Any] = {"hasProvenance": True}
    for key in ("modelId", "templateId", "source"):
        text = first_text(get_key(provenance, key))
        if text is not None:
            out[key] = text
    return out
