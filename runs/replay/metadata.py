"""The run metadata envelope (spec 06 §2), shared by the state bodies and ``GET /v1/runs/{runId}``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runs.canonical import format_number, normalise_hash, sha256_prefixed
from runs.errors import ProvenanceMismatch, RunInvalid

if TYPE_CHECKING:
    from runs.replay.loading import ReplayRun
    from runs.shapes import RunMetadata, RunMode

_MODES: dict[str, RunMode] = {"simulation": "simulation", "telemetry": "telemetry"}


def ci_get(mapping: Mapping[str, Any], key: str) -> Any:
    """A JSON value by key: the exact key wins, else the first key equal ignoring case (spec 03 §8)."""
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    for name, value in mapping.items():
        if isinstance(name, str) and name.lower() == lowered:
            return value
    return None


def text_value(value: Any) -> str | None:
    """A non-blank string (trimmed), a number as canonical text, else ``None``."""
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return format_number(value)
    return None


def positive_int(value: Any) -> int | None:
    """An int, integral float or decimal string that is > 0, else ``None``."""
    if isinstance(value, bool):
        return None
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        number = int(value.strip())
    return number if number is not None and number > 0 else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class MetadataEnvelope:
    """The resolved values behind the §2 envelope; ``build_metadata`` renders them."""

    template_id: str
    template_title: str
    template_version: str
    mode: RunMode
    provenance_hash: str
    schema_version: int
    provenance_present: bool


def resolve_envelope(
    *,
    metadata_json: Mapping[str, Any],
    model: Mapping[str, Any],
    run_json: Mapping[str, Any],
    model_bytes: bytes,
    provenance_present: bool,
) -> MetadataEnvelope:
    """Apply §2's fallbacks; violations raise ``RunInvalid``, disagreeing hashes ``ProvenanceMismatch``."""
    model_meta = _mapping(model.get("metadata"))
    model_prov = _mapping(model.get("provenance"))

    template_id = text_value(ci_get(metadata_json, "templateId")) or text_value(model_meta.get("id"))
    if template_id is None:
        raise RunInvalid("The run has no templateId (model/metadata.json or the model's metadata.id).")
    template_title = (
        text_value(ci_get(metadata_json, "templateTitle"))
        or text_value(model_meta.get("title"))
        or template_id
    )
    template_version = (
        text_value(ci_get(metadata_json, "templateVersion"))
        or text_value(model_meta.get("version"))
        or "0.0.0"
    )

    mode_text = (
        text_value(ci_get(metadata_json, "mode"))
        or text_value(model.get("mode"))
        or text_value(model_prov.get("mode"))
        or "simulation"
    ).lower()
    mode = _MODES.get(mode_text)
    if mode is None:
        raise RunInvalid(f"The run mode '{mode_text}' is neither simulation nor telemetry.")

    stored_hash = text_value(ci_get(metadata_json, "modelHash"))
    if stored_hash is not None:
        provenance_hash = normalise_hash(stored_hash) or stored_hash
    else:
        provenance_hash = sha256_prefixed(model_bytes)

    raw_schema = ci_get(metadata_json, "schemaVersion")
    if raw_schema is None:
        raw_schema = model.get("schemaVersion", 1)
    schema_version = positive_int(raw_schema)
    if schema_version is None:
        raise RunInvalid("The run's schemaVersion must be a positive integer.")

    run_hash = normalise_hash(ci_get(run_json, "modelHash"))
    envelope_hash = normalise_hash(provenance_hash)
    if run_hash is not None and envelope_hash is not None and run_hash != envelope_hash:
        raise ProvenanceMismatch(
            f"run.json modelHash {run_hash} does not match the provenance hash {envelope_hash}."
        )

    return MetadataEnvelope(
        template_id=template_id,
        template_title=template_title,
        template_version=template_version,
        mode=mode,
        provenance_hash=provenance_hash,
        schema_version=schema_version,
        provenance_present=provenance_present,
    )


def build_metadata(run: ReplayRun) -> RunMetadata:
    """The §2 envelope, keys in contract order; storage paths relative to the data root. Spec 07 §5.5
    adds ``edgeQuality`` last."""
    env = run.envelope
    base = f"runs/{run.run_id}/model"
    return {
        "runId": run.run_id,
        "templateId": env.template_id,
        "templateTitle": env.template_title,
        "templateVersion": env.template_version,
        "mode": env.mode,
        "provenanceHash": env.provenance_hash,
        "telemetrySourcesResolved": run.telemetry_sources_resolved,
        "schema": {
            "id": f"time-travel/v{env.schema_version}",
            "version": str(env.schema_version),
            "hash": env.provenance_hash,
        },
        "storage": {
            "modelPath": f"{base}/model.yaml",
            "metadataPath": f"{base}/metadata.json",
            "provenancePath": f"{base}/provenance.json" if env.provenance_present else None,
        },
        "edgeQuality": run.edge_quality,
    }
