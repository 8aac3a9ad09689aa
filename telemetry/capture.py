"""Capture: a run directory → a capture directory of per-node metric CSVs and ``manifest.json``.

Spec 04 §2. ``plan_capture`` reads and checks everything and builds every byte in memory;
``publish_capture`` stages the files next to the target and publishes them with one rename.
Pure Python: no Django.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from runs.artifacts.documents import get_key, get_mapping, read_json_file
from runs.artifacts.run_store import STAGING_DIR_NAME, publish_dir, staged_dir, withdraw_dir
from runs.artifacts.writer import write_file_durably
from runs.canonical import (
    format_number,
    format_timestamp,
    json_file_text,
    parse_timestamp,
    sha256_prefixed,
    utc_now_seconds,
)
from runs.engine.sources import FileUri, parse_file_uri
from runs.engine.yaml_loader import YamlLoadError, load_yaml
from runs.errors import CaptureError, PathForbidden, RunNotFound
from telemetry.manifest import BIN_UNIT_MINUTES, METRICS, Metric, capture_manifest_document
from telemetry.paths import MANIFEST_NAME, allowed_roots, resolve_output_dir

GapMode = Literal["ignore", "warn", "fill_zero"]
TargetState = Literal["new", "empty", "replace"]

CSV_HEADER = "bin_index,value\n"

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_NAN = {"nan", "+nan", "-nan"}
_POS_INF = {"inf", "+inf", "infinity", "+infinity"}
_NEG_INF = {"-inf", "-infinity"}
# Fallback suffixes, in the order they are tried (spec 04 §2.1): `_queue_depth` before `_queue`.
_FALLBACK_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_arrivals", "Arrivals"),
    ("_served", "Served"),
    ("_errors", "Errors"),
    ("_queue_depth", "QueueDepth"),
    ("_queue", "QueueDepth"),
    ("_external_demand", "ExternalDemand"),
    ("_capacity", "Capacity"),
)
_METRIC_BY_NAME = {m.name: m for m in METRICS}


@dataclass(frozen=True)
class CaptureOptions:
    """``gap_mode``: ignore (default), warn (``--gap-detect``) or fill_zero (``--gap-fill-gaps``)."""

    gap_mode: GapMode = "ignore"
    fill_nan: bool = False


@dataclass(frozen=True)
class CaptureBinding:
    """One series to capture: which node and metric, where it comes from, the file it becomes."""

    node_id: str
    metric: Metric
    source_id: str  # the series id, or the run-relative path of a file: source
    source_path: Path
    expected_points: int
    file_name: str


@dataclass(frozen=True)
class CapturedFile:
    binding: CaptureBinding
    data: bytes
    points: int

    @property
    def hash(self) -> str:
        return sha256_prefixed(self.data)


@dataclass(frozen=True)
class CapturePlan:
    """Everything a capture would write, computed without touching the output side."""

    run_id: str
    run_dir: Path
    output_dir: Path
    target_state: TargetState
    files: tuple[CapturedFile, ...]
    warnings: tuple[dict[str, Any], ...]
    manifest: dict[str, Any]

    @property
    def manifest_path(self) -> Path:
        return self.output_dir / MANIFEST_NAME

    def manifest_bytes(self) -> bytes:
        """The bytes ``publish_capture`` writes as manifest.json."""
        return json_file_text(self.manifest).encode("utf-8")

    def as_dict(self) -> dict[str, Any]:
        """The dry-run plan of spec 04 §2.3."""
        return {
            "runId": self.run_id,
            "outputDirectory": str(self.output_dir),
            "files": [
                {
                    "nodeId": f.binding.node_id,
                    "metric": f.binding.metric.name,
                    "sourceSeriesId": f.binding.source_id,
                    "path": f.binding.file_name,
                }
                for f in self.files
            ],
            "warnings": [dict(w) for w in self.warnings],
        }


def capture_file_name(node_id: str, metric: Metric) -> str:
    """``<node>_<token>.csv`` with node characters outside ``[A-Za-z0-9._-]`` replaced by ``_``."""
    return f"{_UNSAFE_NAME_CHARS.sub('_', node_id)}_{metric.token}.csv"


def _artifact_invalid(detail: str) -> CaptureError:
    return CaptureError("run_artifact_invalid", detail)


def _within(path: Path, root: Path) -> bool:
    return os.path.commonpath([str(path), str(root)]) == str(root)


def _read_run_json(run_dir: Path, relative: str) -> dict[str, Any]:
    path = run_dir / relative
    if not path.is_file():
        raise _artifact_invalid(f"The run has no {relative}.")
    try:
        return read_json_file(path)
    except (OSError, ValueError) as exc:
        raise _artifact_invalid(f"{relative} cannot be parsed: {exc}") from exc


def _read_model(run_dir: Path) -> Mapping[str, Any]:
    for relative in ("model/model.yaml", "spec.yaml"):
        path = run_dir / relative
        if path.is_file():
            try:
                data = load_yaml(path.read_bytes())
            except (OSError, YamlLoadError) as exc:
                raise _artifact_invalid(f"{relative} cannot be parsed: {exc}") from exc
            if not isinstance(data, Mapping):
                raise _artifact_invalid(f"{relative} does not hold a mapping.")
            return data
    raise _artifact_invalid("The run has neither model/model.yaml nor spec.yaml.")


def _grid_int(grid: Mapping[str, Any], key: str) -> int | None:
    value = get_key(grid, key)
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value >= 1 else None


@dataclass(frozen=True)
class _RunSource:
    run_dir: Path
    run_json: Mapping[str, Any]
    model: Mapping[str, Any]
    bins: int
    bin_size: int
    bin_unit: str
    # node id → (series id, run-relative CSV path, expected points)
    index: dict[str, tuple[str, str, int]]


def _read_run(run_dir: Path) -> _RunSource:
    run_json = _read_run_json(run_dir, "run.json")
    index_doc = _read_run_json(run_dir, "series/index.json")
    model = _read_model(run_dir)

    grid = get_mapping(index_doc, "grid") or get_mapping(run_json, "grid")
    bins, bin_size = _grid_int(grid, "bins"), _grid_int(grid, "binSize")
    unit = get_key(grid, "binUnit")
    bin_unit = unit.strip().lower() if isinstance(unit, str) else ""
    if bins is None or bin_size is None or bin_unit not in BIN_UNIT_MINUTES:
        raise _artifact_invalid("series/index.json has no valid grid (bins, binSize, binUnit).")

    entries = get_key(index_doc, "series")
    if not isinstance(entries, list):
        raise _artifact_invalid("series/index.json has no series list.")
    index: dict[str, tuple[str, str, int]] = {}
    for entry in entries:
        series_id = get_key(entry, "id") if isinstance(entry, Mapping) else None
        path = get_key(entry, "path") if isinstance(entry, Mapping) else None
        if not isinstance(series_id, str) or not isinstance(path, str) or not path:
            raise _artifact_invalid("series/index.json has an entry without an id and a path.")
        points = get_key(entry, "points")
        expected = points if isinstance(points, int) and not isinstance(points, bool) else bins
        node_id = series_id.split("@", 1)[0]
        index.setdefault(node_id, (series_id, path, expected))
    return _RunSource(run_dir, run_json, model, bins, bin_size, bin_unit, index)


def _inside_run(run: _RunSource, relative: str, *, what: str) -> Path:
    """``run_dir/relative`` after checking that it (symlinks resolved) stays inside the run."""
    if "\x00" in relative:
        raise PathForbidden(f"{what} '{relative}' contains a NUL byte.", field="runDir")
    candidate = Path(os.path.normpath(os.path.join(run.run_dir, relative)))
    if not _within(Path(os.path.realpath(candidate)), run.run_dir):
        raise PathForbidden(f"{what} '{relative}' leaves the run directory.", field="runDir")
    return candidate


def _file_source(run: _RunSource, uri: str) -> tuple[str, Path]:
    parsed = parse_file_uri(uri)
    if not isinstance(parsed, FileUri) or parsed.absolute:
        raise PathForbidden(
            f"Semantics source '{uri}' is not a file: path inside the run.", field="semantics"
        )
    relative = f"model/{parsed.path}"
    return os.path.normpath(relative).replace(os.sep, "/"), _inside_run(
        run, relative, what="Semantics source"
    )


def _topology_bindings(run: _RunSource) -> list[CaptureBinding]:
    topology = get_mapping(run.model, "topology")
    nodes = get_key(topology, "nodes")
    bindings: list[CaptureBinding] = []
    for node in nodes if isinstance(nodes, list) else []:
        node_id = get_key(node, "id") if isinstance(node, Mapping) else None
        if not isinstance(node_id, str) or not node_id.strip():
            continue
        semantics = get_mapping(node, "semantics")
        for metric in METRICS:
            value = get_key(semantics, metric.key)
            for alias in metric.aliases:
                if value is None:
                    value = get_key(semantics, alias)
            if not isinstance(value, str) or not value.strip():
                continue
            value = value.strip()
            if value in run.index:
                series_id, path, expected = run.index[value]
                source = _inside_run(run, path, what="Series path")
                bindings.append(
                    CaptureBinding(
                        node_id, metric, series_id, source, expected, capture_file_name(node_id, metric)
                    )
                )
            elif value[:5].lower() == "file:":
                relative, source = _file_source(run, value)
                bindings.append(
                    CaptureBinding(
                        node_id, metric, relative, source, run.bins, capture_file_name(node_id, metric)
                    )
                )
    return bindings


def _fallback_bindings(run: _RunSource) -> list[CaptureBinding]:
    outputs = get_key(run.model, "outputs")
    bindings: list[CaptureBinding] = []
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, Mapping):
            continue
        series = get_key(output, "series")
        if not isinstance(series, str) or series not in run.index:
            continue
        name = get_key(output, "as")
        if not isinstance(name, str) or not name.strip():
            name = series
        name = re.split(r"[/\\]", name.strip())[-1]
        if name.lower().endswith(".csv"):
            name = name[:-4]
        lowered = name.lower()
        for suffix, metric_name in _FALLBACK_SUFFIXES:
            if lowered.endswith(suffix):
                node_id = name[: -len(suffix)].rstrip("_")
                if node_id:
                    metric = _METRIC_BY_NAME[metric_name]
                    series_id, path, expected = run.index[series]
                    source = _inside_run(run, path, what="Series path")
                    bindings.append(
                        CaptureBinding(
                            node_id, metric, series_id, source, expected, capture_file_name(node_id, metric)
                        )
                    )
                break
    return bindings


def _parse_cell(text: str) -> float | None:
    """A trimmed CSV value: ``None`` for a gap, NaN/±∞ in any case, a decimal number; else ValueError."""
    if text == "":
        return None
    lowered = text.lower()
    if lowered in _NAN:
        return math.nan
    if lowered in _POS_INF:
        return math.inf
    if lowered in _NEG_INF:
        return -math.inf
    if _NUMBER.fullmatch(text):
        return float(text)
    raise ValueError(text)


def _capture_series(
    binding: CaptureBinding, options: CaptureOptions
) -> tuple[CapturedFile, list[dict[str, Any]]]:
    file_name = binding.source_path.name
    try:
        raw = binding.source_path.read_bytes()
    except FileNotFoundError as exc:
        raise _artifact_invalid(f"Series '{binding.source_id}' has no file in the run.") from exc
    except OSError as exc:
        raise _artifact_invalid(f"Series '{binding.source_id}' cannot be read: {exc.strerror}.") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _artifact_invalid(f"Series '{file_name}' is not UTF-8 text.") from exc

    node, metric = binding.node_id, binding.metric.name
    rows: list[str] = []
    bin_warnings: list[dict[str, Any]] = []
    lines = text.split("\n")
    for line_number, raw_line in enumerate(lines[1:], start=2):
        line = raw_line.rstrip("\r")
        if not line.strip():
            continue
        i = len(rows)
        _, comma, cell = line.partition(",")
        try:
            if not comma:
                raise ValueError(line)
            value = _parse_cell(cell.strip())
        except ValueError:
            raise _artifact_invalid(
                f"Series '{file_name}' line {line_number}: value '{cell.strip() if comma else line}' "
                "is not a number."
            ) from None
        if value is None:
            if options.gap_mode == "ignore":
                written = ""
            else:
                written = "0" if options.gap_mode == "fill_zero" else ""
                bin_warnings.append(
                    _warning("data_gap", f"Missing value at bin {i} for {node}:{metric}.", node, i)
                )
        elif not math.isfinite(value):
            if options.fill_nan:
                written = "0"
                bin_warnings.append(
                    _warning("nan_fill", f"Filled NaN/∞ at bin {i} for {node}:{metric}.", node, i)
                )
            else:
                written = format_number(value)
                bin_warnings.append(
                    _warning("nan_detected", f"Detected NaN/∞ at bin {i} for {node}:{metric}.", node, i)
                )
        else:
            written = format_number(value)
        rows.append(f"{i},{written}\n")

    warnings: list[dict[str, Any]] = []
    expected = binding.expected_points
    if expected > 0 and len(rows) != expected:
        warnings.append(
            {
                "code": "length_mismatch",
                "message": f"Series '{file_name}' contained {len(rows)} points but expected {expected}.",
                "nodeId": node,
                "bins": None,  # every warning has the four keys (04 §2.2); the manifest drops nulls
            }
        )
    warnings.extend(bin_warnings)
    data = (CSV_HEADER + "".join(rows)).encode("utf-8")
    return CapturedFile(binding, data, len(rows)), warnings


def _warning(code: str, message: str, node_id: str, bin_index: int) -> dict[str, Any]:
    return {"code": code, "message": message, "nodeId": node_id, "bins": [bin_index]}


def _start_time(model: Mapping[str, Any]) -> str | None:
    for value in (
        get_key(get_mapping(model, "grid"), "startTimeUtc"),
        get_key(get_mapping(model, "window"), "start"),
    ):
        if isinstance(value, datetime):
            return format_timestamp(value)
        if isinstance(value, str) and value.strip():
            try:
                return format_timestamp(parse_timestamp(value))
            except ValueError:
                return None
    return None


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def target_state(output_dir: Path, *, overwrite: bool) -> TargetState:
    """How publication must treat the target (spec 04 §2.4); ``capture_exists`` when it must not."""
    if not os.path.lexists(output_dir):
        return "new"
    if output_dir.is_dir() and not output_dir.is_symlink():
        entries = list(output_dir.iterdir())
        if not entries:
            return "empty"
        if (output_dir / MANIFEST_NAME).is_file():
            if overwrite:
                return "replace"
            raise CaptureError(
                "capture_exists",
                f"Capture directory '{output_dir}' already holds a capture; pass --overwrite to replace it.",
            )
    raise CaptureError(
        "capture_exists", f"'{output_dir}' already exists and is not a capture directory; it is left alone."
    )


def plan_capture(
    *,
    run_dir: Path | str,
    data_root: Path,
    output_dir: Path | str | None = None,
    extra_roots: str = "",
    options: CaptureOptions | None = None,
    overwrite: bool = False,
    captured_at: datetime | None = None,
) -> CapturePlan:
    """Read the run, bind its series, build every capture file and the manifest; write nothing."""
    options = options or CaptureOptions()
    run_text = str(run_dir)
    if "\x00" in run_text or not os.path.isdir(run_text):
        raise RunNotFound(run_text.replace("\x00", "\\0"))
    real_run = Path(os.path.realpath(run_text))
    run = _read_run(real_run)
    run_id = real_run.name

    roots = allowed_roots(data_root=data_root, extra_roots=extra_roots)
    if output_dir is None:
        output_dir = Path(data_root) / "telemetry" / run_id
    target = resolve_output_dir(output_dir, roots=roots)

    bindings = _topology_bindings(run) or _fallback_bindings(run)
    seen: dict[str, str] = {}
    for binding in bindings:
        folded = binding.file_name.lower()
        if folded in seen:
            raise CaptureError(
                "capture_name_collision",
                f"Capture file names '{seen[folded]}' and '{binding.file_name}' are equal ignoring case.",
            )
        seen[folded] = binding.file_name

    files: list[CapturedFile] = []
    warnings: list[dict[str, Any]] = []
    for binding in bindings:
        captured, file_warnings = _capture_series(binding, options)
        files.append(captured)
        warnings.extend(file_warnings)

    state = target_state(target, overwrite=overwrite)
    instant = captured_at or utc_now_seconds()
    manifest = capture_manifest_document(
        start_time_utc=_start_time(run.model),
        duration_minutes=run.bins * run.bin_size * BIN_UNIT_MINUTES[run.bin_unit],
        bins=run.bins,
        bin_size=run.bin_size,
        bin_unit=run.bin_unit,
        files=[
            {
                "nodeId": f.binding.node_id,
                "metric": f.binding.metric.name,
                "path": f.binding.file_name,
                "hash": f.hash,
                "points": f.points,
            }
            for f in files
        ],
        warnings=warnings,
        provenance={
            "runId": run_id,
            "scenarioHash": _text_or_none(get_key(run.run_json, "scenarioHash")),
            "modelHash": _text_or_none(get_key(run.run_json, "modelHash")),
            "capturedAtUtc": format_timestamp(instant.replace(microsecond=0)),
        },
    )
    return CapturePlan(run_id, real_run, target, state, tuple(files), tuple(warnings), manifest)


def publish_capture(plan: CapturePlan, *, overwrite: bool = False) -> Path:
    """Stage the planned files in ``<output parent>/.staging/`` and publish them as runs are published
    (``runs.artifacts.run_store``): one rename, or one atomic exchange for ``--overwrite``.

    Returns the path of the published manifest. On any failure (or interrupt) the stage is removed.
    """
    target = plan.output_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with staged_dir(target.parent) as stage:
            for captured in plan.files:
                write_file_durably(stage.path / captured.binding.file_name, captured.data)
            write_file_durably(stage.path / MANIFEST_NAME, plan.manifest_bytes())
            state = target_state(target, overwrite=overwrite)
            if publish_dir(stage, target, overwrite=state == "replace") == "taken":
                raise CaptureError(
                    "capture_exists", f"'{target}' appeared while the capture was being written."
                )
    finally:
        # Other captures may be staging there too; then the directory stays.
        with contextlib.suppress(OSError):
            (target.parent / STAGING_DIR_NAME).rmdir()
    return plan.manifest_path


def withdraw_capture(target: Path) -> bool:
    """Delete a published capture atomically: one rename into ``<parent>/.staging/`` (readers then see
    no capture), then the removal. False when ``target`` is gone already (a concurrent delete won)."""
    return withdraw_dir(target.parent, target.name)


def summary_lines(plan: CapturePlan, *, dry_run: bool) -> list[str]:
    """The human output of ``telemetry_capture`` (spec 04 §4)."""
    lines = [
        f"Run ID: {plan.run_id}",
        f"Output Directory: {plan.output_dir}",
        f"Files ({len(plan.files)}):",
    ]
    for f in plan.files:
        b = f.binding
        lines.append(f"  - {b.file_name} ({b.node_id}:{b.metric.name}, source={b.source_id})")
    # Warnings follow the file lines directly, as spec 04 §4 lists the output.
    lines.extend(f"  - {w['code']}: {w['message']}" for w in plan.warnings)
    if dry_run:
        lines.append("Dry-run complete. No files were written.")
    else:
        lines.append(f"Capture complete. Manifest written to {plan.manifest_path}")
    return lines
