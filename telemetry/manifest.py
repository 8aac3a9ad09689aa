"""Capture manifests (spec 04 §2.3, §3.1 step 2, §3.3): reading, validating and normalising.

Readers accept FlowTime's manifests as they are: keys in any case, bare-hex hashes, nulls omitted,
``window: null``. Pure Python: no Django.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runs.artifacts.documents import get_key
from runs.canonical import canonical_json, normalise_hash, parse_timestamp, sha256_prefixed
from runs.errors import CaptureError, Issue, PathForbidden
from telemetry.paths import relative_path_problem

if TYPE_CHECKING:
    from runs.shapes import PlanWarning

BIN_UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080}


@dataclass(frozen=True)
class Metric:
    """One telemetry metric: its enum name, topology semantics key and file-name token."""

    name: str
    key: str
    token: str
    aliases: tuple[str, ...] = ()


METRICS: tuple[Metric, ...] = (
    Metric("Arrivals", "arrivals", "arrivals"),
    Metric("Served", "served", "served"),
    Metric("Errors", "errors", "errors"),
    Metric("ExternalDemand", "externalDemand", "external_demand", ("external_demand",)),
    Metric("QueueDepth", "queue", "queue_depth", ("queueDepth",)),
    Metric("Capacity", "capacity", "capacity"),
)
_METRIC_BY_NAME = {m.name.lower(): m for m in METRICS}


def metric_named(text: object) -> Metric | None:
    """The metric whose enum name equals ``text`` ignoring case."""
    if not isinstance(text, str):
        return None
    return _METRIC_BY_NAME.get(text.strip().lower())


@dataclass(frozen=True)
class CaptureFile:
    node_id: str
    metric: str
    path: str
    hash: str  # normalised: sha256:<lower hex>
    points: int

    @property
    def basename(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class CaptureManifest:
    """A validated capture manifest; ``document`` is its normalised form (telemetry-manifest.json)."""

    bins: int
    bin_size: int
    bin_unit: str
    start_time_utc: str | None
    files: tuple[CaptureFile, ...]
    warnings: tuple[dict[str, Any], ...]
    document: dict[str, Any] = field(repr=False)

    @property
    def manifest_hash(self) -> str:
        """``sha256:`` of the canonical JSON of ``document`` without ``provenance.capturedAtUtc``."""
        hashed = dict(self.document)
        provenance = hashed.get("provenance")
        if isinstance(provenance, Mapping):
            hashed["provenance"] = {k: v for k, v in provenance.items() if k != "capturedAtUtc"}
        return sha256_prefixed(canonical_json(hashed))


def _without_nulls(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    return {key: value for key, value in pairs if value is not None}


def capture_manifest_document(
    *,
    start_time_utc: str | None,
    duration_minutes: int | float,
    bins: int,
    bin_size: int,
    bin_unit: str,
    files: Sequence[Mapping[str, Any]],
    warnings: Sequence[Mapping[str, Any]],
    provenance: Mapping[str, Any],
) -> dict[str, Any]:
    """manifest.json of a capture, keys in the order of spec 04 §2.3 with null values omitted."""
    return {
        "schemaVersion": 1,
        "window": _without_nulls([("startTimeUtc", start_time_utc), ("durationMinutes", duration_minutes)]),
        "grid": {"bins": bins, "binSize": bin_size, "binUnit": bin_unit},
        "files": [
            _without_nulls([(k, f.get(k)) for k in ("nodeId", "metric", "path", "hash", "points")])
            for f in files
        ],
        "warnings": [normalised_warning(w) for w in warnings],
        "provenance": _without_nulls(
            [(k, provenance.get(k)) for k in ("runId", "scenarioHash", "modelHash", "capturedAtUtc")]
        ),
    }


def normalised_warning(warning: Mapping[str, Any]) -> dict[str, Any]:
    """``{code, message, nodeId, bins}`` in that order; absent and null keys omitted."""
    return _without_nulls([(k, get_key(warning, k)) for k in ("code", "message", "nodeId", "bins")])


def plan_warning(warning: Mapping[str, Any]) -> PlanWarning:
    """A manifest warning as the API shows it: every key present, null where the file has none."""
    return {
        "code": warning.get("code"),
        "message": warning.get("message"),
        "nodeId": warning.get("nodeId"),
        "bins": warning.get("bins"),
    }


def _int_at_least(value: object, minimum: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= minimum:
        return value
    return None


class _Problems:
    def __init__(self) -> None:
        self.invalid: list[Issue] = []
        self.forbidden: list[Issue] = []

    def add(self, path: str, message: str) -> None:
        self.invalid.append(Issue("capture_invalid", path, message))

    def raise_if_any(self) -> None:
        if self.forbidden:
            first = self.forbidden[0]
            raise PathForbidden(first.message, field=first.path)
        if self.invalid:
            raise capture_invalid(self.invalid)


def capture_invalid(issues: Sequence[Issue]) -> CaptureError:
    """``capture_invalid`` carrying every problem; the detail is the only message or a count."""
    detail = issues[0].message if len(issues) == 1 else f"The capture has {len(issues)} problems."
    return CaptureError("capture_invalid", detail, errors=issues)


def _parse_files(raw_files: object, problems: _Problems) -> list[CaptureFile]:
    if not isinstance(raw_files, list):
        problems.add("files", "files must be a list.")
        return []
    files: list[CaptureFile] = []
    seen_paths: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for i, entry in enumerate(raw_files):
        where = f"files[{i}]"
        if not isinstance(entry, Mapping):
            problems.add(where, f"{where} must be an object.")
            continue
        ok = True
        node_id = get_key(entry, "nodeId")
        if not isinstance(node_id, str) or not node_id.strip():
            problems.add(f"{where}.nodeId", f"{where}.nodeId must be a non-blank string.")
            ok = False
        metric = metric_named(get_key(entry, "metric"))
        if metric is None:
            allowed = ", ".join(m.name for m in METRICS)
            problems.add(f"{where}.metric", f"{where}.metric must be one of {allowed}.")
            ok = False
        path = get_key(entry, "path")
        why = relative_path_problem(path)
        if why is not None:
            # A path that could leave the capture is a security matter, not a malformed manifest.
            if isinstance(path, str) and path != "":
                problems.forbidden.append(
                    Issue("path_forbidden", f"{where}.path", f"Telemetry file path '{path}' {why}.")
                )
            else:
                problems.add(f"{where}.path", f"{where}.path {why}.")
            ok = False
        digest = normalise_hash(get_key(entry, "hash"))
        if digest is None:
            problems.add(f"{where}.hash", f"{where}.hash must be a sha256 hash (64 hex digits).")
            ok = False
        points = _int_at_least(get_key(entry, "points"), 0)
        if points is None:
            problems.add(f"{where}.points", f"{where}.points must be an integer ≥ 0.")
            ok = False
        if isinstance(path, str) and why is None:
            folded = path.lower()
            name = folded.rsplit("/", 1)[-1]
            if folded in seen_paths:
                problems.add(f"{where}.path", f"Telemetry file path '{path}' appears twice in the manifest.")
                ok = False
            elif name in seen_names:
                problems.add(f"{where}.path", f"Telemetry file name '{path}' appears twice in the manifest.")
                ok = False
            seen_paths.setdefault(folded, i)
            seen_names.setdefault(name, i)
        if ok:
            assert isinstance(node_id, str) and metric is not None and isinstance(path, str)
            assert digest is not None and points is not None
            files.append(CaptureFile(node_id, metric.name, path, digest, points))
    return files


def parse_manifest(raw: bytes) -> CaptureManifest:
    """Validate a capture manifest (spec 04 §3.1 step 2) and normalise it (§3.3).

    Every problem is collected into one ``capture_invalid``; a file path that would leave the
    capture is ``path_forbidden``.
    """
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise capture_invalid(
            [Issue("capture_invalid", "manifest.json", f"manifest.json is not valid JSON: {exc}")]
        ) from exc
    if not isinstance(data, Mapping):
        raise capture_invalid(
            [Issue("capture_invalid", "manifest.json", "manifest.json must hold a JSON object.")]
        )
    problems = _Problems()

    schema_version = get_key(data, "schemaVersion")
    if isinstance(schema_version, bool) or schema_version != 1:
        problems.add("schemaVersion", "schemaVersion must be 1.")

    grid = get_key(data, "grid")
    bins = bin_size = None
    bin_unit = ""
    if not isinstance(grid, Mapping):
        problems.add("grid", "grid must be an object with bins, binSize and binUnit.")
    else:
        bins = _int_at_least(get_key(grid, "bins"), 1)
        if bins is None:
            problems.add("grid.bins", "grid.bins must be an integer ≥ 1.")
        bin_size = _int_at_least(get_key(grid, "binSize"), 1)
        if bin_size is None:
            problems.add("grid.binSize", "grid.binSize must be an integer ≥ 1.")
        unit = get_key(grid, "binUnit")
        bin_unit = unit.strip().lower() if isinstance(unit, str) else ""
        if bin_unit not in BIN_UNIT_MINUTES:
            problems.add("grid.binUnit", "grid.binUnit must be minutes, hours, days or weeks.")

    window = get_key(data, "window")
    window_doc: dict[str, Any] | None = None
    start: str | None = None
    if window is not None and not isinstance(window, Mapping):
        problems.add("window", "window must be an object or null.")
    elif isinstance(window, Mapping):
        raw_start = get_key(window, "startTimeUtc")
        if raw_start is not None:
            if not isinstance(raw_start, str):
                problems.add("window.startTimeUtc", "window.startTimeUtc must be a timestamp string.")
            else:
                try:
                    parse_timestamp(raw_start, utc_only=True)
                except ValueError as exc:
                    problems.add("window.startTimeUtc", f"window.startTimeUtc: {exc}.")
                else:
                    start = raw_start
        window_doc = _without_nulls(
            [("startTimeUtc", raw_start), ("durationMinutes", get_key(window, "durationMinutes"))]
        )

    files = _parse_files(get_key(data, "files"), problems)

    raw_warnings = get_key(data, "warnings")
    warnings: list[dict[str, Any]] = []
    if raw_warnings is not None and not isinstance(raw_warnings, list):
        problems.add("warnings", "warnings must be a list.")
    for i, warning in enumerate(raw_warnings if isinstance(raw_warnings, list) else []):
        if not isinstance(warning, Mapping):
            problems.add(f"warnings[{i}]", f"warnings[{i}] must be an object.")
        else:
            warnings.append(normalised_warning(warning))

    provenance = get_key(data, "provenance")
    if provenance is not None and not isinstance(provenance, Mapping):
        problems.add("provenance", "provenance must be an object or null.")

    problems.raise_if_any()
    assert bins is not None and bin_size is not None

    document: dict[str, Any] = {"schemaVersion": 1}
    if window_doc is not None:
        document["window"] = window_doc
    document["grid"] = {"bins": bins, "binSize": bin_size, "binUnit": bin_unit}
    document["files"] = [
        {"nodeId": f.node_id, "metric": f.metric, "path": f.path, "hash": f.hash, "points": f.points}
        for f in files
    ]
    document["warnings"] = warnings
    if isinstance(provenance, Mapping):
        document["provenance"] = _without_nulls(
            [(k, get_key(provenance, k)) for k in ("runId", "scenarioHash", "modelHash", "capturedAtUtc")]
        )
    return CaptureManifest(
        bins=bins,
        bin_size=bin_size,
        bin_unit=bin_unit,
        start_time_utc=start,
        files=tuple(files),
        warnings=tuple(warnings),
        document=document,
    )
