"""The artifact writer: every file of a run, written into a staging directory (spec 03 §2–§4, §6)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from runs.artifacts.document_cache import remember_document
from runs.artifacts.documents import get_key, get_mapping, load_model_mapping, read_json_file
from runs.artifacts.hashes import model_hash, scenario_hash
from runs.artifacts.ids import component_id_for, series_id_for
from runs.artifacts.metadata import derive_metadata, manifest_provenance, model_provenance
from runs.artifacts.series_csv import series_csv_text
from runs.canonical import format_timestamp, json_file_text, sha256_prefixed

SERIES_UNIT = "entities/bin"
GOLD_TABLE_DESCRIPTOR: dict[str, Any] = {
    "path": "gold/node_time_bin.parquet",
    "dimensions": ["time_bin", "component_id", "class"],
    "measures": ["arrivals", "served", "errors"],
}


@dataclass(frozen=True)
class GridInfo:
    bins: int
    bin_size: int
    bin_unit: str


@dataclass(frozen=True, kw_only=True)
class RunContent:
    """Everything the writer needs for one run; the catalog fields are ``None`` for model-file runs."""

    model_text: str
    series: Sequence[tuple[str, npt.NDArray[np.float64]]]
    grid: GridInfo
    engine_version: str
    run_seed: int | None = None
    model_seed: int | None = None
    warnings: Sequence[str] = ()
    template_id: str | None = None
    template_title: str | None = None
    template_version: str | None = None
    mode: str | None = None
    input_hash: str | None = None
    parameters: Mapping[str, Any] | None = None
    generated_at_utc: datetime | None = None
    # The supplied provenance document; when None the model's ``provenance:`` mapping is used.
    provenance: Mapping[str, Any] | None = None
    # The parsed form of ``model_text`` when the caller has it (it always does after evaluation):
    # saves parsing the text again, which dominates the cost of writing a large run.
    model_tree: Mapping[str, Any] | None = None
    # ``load_yaml(model_text)`` when the caller already parsed it (generation does): readers of the
    # staged model.yaml get it from the document cache instead of parsing the file again.
    model_document: Any = None


@dataclass(frozen=True)
class WrittenRun:
    run_id: str
    model_hash: str
    scenario_hash: str
    series_hashes: dict[str, str]
    created_utc: datetime
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def created_utc_text(self) -> str:
        return format_timestamp(self.created_utc)


def _whole_seconds_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).replace(microsecond=0)


def _model_mapping(content: RunContent) -> dict[str, Any]:
    if content.model_tree is not None:
        return dict(content.model_tree)
    return load_model_mapping(content.model_text)


def effective_provenance(
    content: RunContent, model: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The supplied provenance document, else the model's ``provenance:`` mapping, else ``None``."""
    if content.provenance is not None:
        return dict(content.provenance)
    return model_provenance(model if model is not None else _model_mapping(content))


def effective_seed(content: RunContent, model: Mapping[str, Any] | None = None) -> int:
    """manifest ``rng.seed``: the run seed, else the model's ``rng.seed`` as an int, else 0."""
    if content.run_seed is not None:
        return int(content.run_seed)
    if content.model_seed is not None:
        return int(content.model_seed)
    seed = get_key(get_mapping(model if model is not None else _model_mapping(content), "rng"), "seed")
    if isinstance(seed, bool):
        return 0
    if isinstance(seed, int):
        return seed
    if isinstance(seed, float) and seed.is_integer():
        return int(seed)
    if isinstance(seed, str) and seed.strip().lstrip("-").isdigit():
        return int(seed.strip())
    return 0


def metadata_document(
    content: RunContent, created_utc: datetime, *, model: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """model/metadata.json, keys in the order of spec 03 §3.3."""
    if model is None:
        model = _model_mapping(content)
    derived = derive_metadata(
        model,
        effective_provenance(content, model),
        template_id=content.template_id,
        template_title=content.template_title,
        template_version=content.template_version,
        mode=content.mode,
        parameters=content.parameters,
        generated_at_utc=content.generated_at_utc,
    )
    return {
        "schemaVersion": derived["schemaVersion"],
        "templateId": derived["templateId"],
        "templateTitle": derived["templateTitle"],
        "templateVersion": derived["templateVersion"],
        "mode": derived["mode"],
        "modelHash": model_hash(content.model_text.encode("utf-8")),
        "inputHash": content.input_hash,
        "source": derived["source"],
        "generator": derived["generator"],
        "modelId": derived["modelId"],
        "generatedAtUtc": derived["generatedAtUtc"],
        "receivedAtUtc": format_timestamp(_whole_seconds_utc(created_utc)),
        "parameters": derived["parameters"],
    }


def _fsync_dir(path: Path) -> None:
    # Directory fsync makes the new entries durable; not every platform allows opening a directory.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_durably(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` (parents created), flush and fsync it: the one durable file writer of
    runs and captures. ``exclusive`` refuses an existing name or a symlink (``O_EXCL | O_NOFOLLOW``),
    so nothing that appeared in a stage meanwhile is written through."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) if exclusive else os.O_TRUNC
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _write_json(path: Path, document: Mapping[str, Any]) -> None:
    write_file_durably(path, json_file_text(document).encode("utf-8"))


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(str(item) for item in items))


def write_run_files(
    stage_dir: Path, content: RunContent, *, run_id: str, created_utc: datetime
) -> WrittenRun:
    """Write every file of spec 03 §2 except ``model/telemetry/`` (left untouched) into ``stage_dir``.

    ``created_utc`` is truncated to whole seconds and used for createdUtc and receivedAtUtc.
    """
    created = _whole_seconds_utc(created_utc)
    created_text = format_timestamp(created)
    model = _model_mapping(content)
    grid = content.grid
    bin_unit = grid.bin_unit.lower()

    series_ids: list[str] = []
    component_ids: dict[str, str] = {}
    series_hashes: dict[str, str] = {}
    index_text = [str(i) for i in range(grid.bins)]
    for node_id, values in content.series:
        if len(values) != grid.bins:
            raise ValueError(f"series '{node_id}' has {len(values)} values, the grid has {grid.bins} bins")
        sid = series_id_for(node_id)
        if sid in series_hashes:
            raise ValueError(f"node '{node_id}' appears twice in the series")
        data = series_csv_text(values, index_text=index_text).encode("utf-8")
        write_file_durably(stage_dir / "series" / f"{sid}.csv", data)
        series_ids.append(sid)
        component_ids[sid] = component_id_for(node_id)
        series_hashes[sid] = sha256_prefixed(data)

    model_bytes = content.model_text.encode("utf-8")
    m_hash = model_hash(model_bytes)
    s_hash = scenario_hash(content.model_text, content.run_seed)
    write_file_durably(stage_dir / "model" / "model.yaml", model_bytes)
    if content.model_document is not None:
        remember_document(str(stage_dir / "model" / "model.yaml"), model_bytes, content.model_document)
    write_file_durably(stage_dir / "spec.yaml", model_bytes)

    metadata = metadata_document(content, created, model=model)
    _write_json(stage_dir / "model" / "metadata.json", metadata)
    provenance = effective_provenance(content, model)
    if provenance is not None:
        _write_json(stage_dir / "model" / "provenance.json", provenance)

    _write_json(
        stage_dir / "series" / "index.json",
        {
            "schemaVersion": 1,
            "grid": {"bins": grid.bins, "binSize": grid.bin_size, "binUnit": bin_unit, "timezone": "UTC"},
            "series": [
                {
                    "id": sid,
                    "kind": "flow",
                    "path": f"series/{sid}.csv",
                    "unit": SERIES_UNIT,
                    "componentId": component_ids[sid],
                    "class": "DEFAULT",
                    "points": grid.bins,
                    "hash": series_hashes[sid],
                }
                for sid in series_ids
            ],
            "formats": {"goldTable": GOLD_TABLE_DESCRIPTOR},
        },
    )
    _write_json(
        stage_dir / "manifest.json",
        {
            "schemaVersion": 1,
            "scenarioHash": s_hash,
            "rng": {"kind": "pcg32", "seed": effective_seed(content, model)},
            "seriesHashes": dict(series_hashes),
            "eventCount": 0,
            "createdUtc": created_text,
            "modelHash": m_hash,
            "provenance": manifest_provenance(provenance),
        },
    )
    _write_json(
        stage_dir / "run.json",
        run_document(
            content,
            run_id=run_id,
            model_hash_value=m_hash,
            scenario_hash_value=s_hash,
            created_utc_text=created_text,
            series_ids=series_ids,
        ),
    )
    for directory in (stage_dir / "series", stage_dir / "model", stage_dir):
        _fsync_dir(directory)
    return WrittenRun(
        run_id=run_id,
        model_hash=m_hash,
        scenario_hash=s_hash,
        series_hashes=series_hashes,
        created_utc=created,
        metadata=metadata,
    )


def run_document(
    content: RunContent,
    *,
    run_id: str,
    model_hash_value: str,
    scenario_hash_value: str,
    created_utc_text: str,
    series_ids: Sequence[str],
) -> dict[str, Any]:
    """run.json, keys in the order of spec 03 §3.1."""
    grid = content.grid
    return {
        "schemaVersion": 1,
        "runId": run_id,
        "engineVersion": content.engine_version,
        "source": "engine",
        "grid": {
            "bins": grid.bins,
            "binSize": grid.bin_size,
            "binUnit": grid.bin_unit.lower(),
            "timezone": "UTC",
            "align": "left",
        },
        "modelHash": model_hash_value,
        "scenarioHash": scenario_hash_value,
        "createdUtc": created_utc_text,
        "warnings": _unique(content.warnings),
        "series": [{"id": sid, "path": f"series/{sid}.csv", "unit": SERIES_UNIT} for sid in series_ids],
    }


def restamp_run_id(run_dir: Path, run_id: str) -> None:
    """Rewrite run.json's ``runId`` (the only file naming the run) before publishing under a new id."""
    path = run_dir / "run.json"
    document = read_json_file(path)
    document["runId"] = run_id
    _write_json(path, document)
