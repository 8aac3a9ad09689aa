"""Reading a published run for replay (spec 06 §1–§3): files, grid, topology, metric resolution.

The model is not re-validated: only ``grid``, ``nodes[]{id, kind, source}``, ``topology`` and the
envelope keys are read. Every path that comes from the run's own files is confined to the run
directory (symlinks followed) before anything is opened.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from runs.artifacts.document_cache import read_document
from runs.artifacts.ids import is_valid_run_id
from runs.artifacts.reader import check_documents_confined
from runs.canonical import parse_timestamp
from runs.errors import RunInvalid, RunNotFound
from runs.replay.edges import FlowEdge, finite_number, flow_edges, topology_edges
from runs.replay.metadata import MetadataEnvelope, ci_get, positive_int, resolve_envelope, text_value
from runs.replay.series_cache import SizedCache

if TYPE_CHECKING:
    from runs.shapes import EdgeQuality, RunMode

# telemetry.sources order (spec 06 §5); also the order of node warnings.
METRIC_KEYS = ("arrivals", "served", "errors", "externalDemand", "queue", "capacity")
SEMANTICS_ALIASES: dict[str, tuple[str, ...]] = {
    "queue": ("queue", "queueDepth"),
    "externalDemand": ("externalDemand", "external_demand"),
}
BIN_UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080}
# Far beyond any real run; keeps a damaged grid from asking for gigabytes of NaN.
_MAX_REPLAY_BINS = 10_000_000
_DRIVE_LETTER = re.compile(r"[A-Za-z]:")

MetricStatus = Literal["absent", "series", "file", "unresolved"]


@dataclass(frozen=True)
class Grid:
    bins: int
    bin_size: int
    bin_unit: str
    bin_minutes: int
    start: datetime | None


@dataclass(frozen=True)
class MetricRef:
    """One semantics value of a topology node and where it resolved (§3)."""

    metric: str
    value: str | None
    status: MetricStatus
    real_path: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class TopologyNode:
    id: str
    kind: str
    sla_min: float | None
    metrics: Mapping[str, MetricRef]

    @property
    def is_queue(self) -> bool:
        return self.kind.lower() == "queue"

    @property
    def is_service(self) -> bool:
        return self.kind.lower() == "service"


@dataclass(frozen=True)
class ModelNode:
    id: str
    kind: str
    source: str | None


@dataclass(frozen=True)
class SeriesEntry:
    """One ``series/index.json`` entry; ``real_path`` is set when its CSV exists inside the run."""

    id: str
    path: str | None
    raw: Mapping[str, Any]
    real_path: str | None


@dataclass(frozen=True)
class ReplayRun:
    """A loaded run: everything the state API needs except the series values themselves."""

    run_id: str
    run_dir: Path
    grid: Grid
    envelope: MetadataEnvelope
    topology: tuple[TopologyNode, ...]
    model_nodes: tuple[ModelNode, ...]
    index: Mapping[str, Any] | None
    series_entries: tuple[SeriesEntry, ...]
    model_bytes: bytes
    run_warnings: tuple[str, ...]
    has_file_reference: bool
    telemetry_sources_resolved: bool
    flow_edges: tuple[FlowEdge, ...] = ()  # spec 07 §5.2

    @property
    def mode(self) -> RunMode:
        return self.envelope.mode

    @property
    def edge_quality(self) -> EdgeQuality:
        """``metadata.edgeQuality`` (spec 07 §5.5): from the topology alone."""
        return "exact" if self.flow_edges else "missing"


def is_file_uri(value: str) -> bool:
    return value[:5].lower() == "file:"


def _json_object(path: Path, label: str) -> Mapping[str, Any]:
    document = read_document(str(path), "json")
    if document is None:
        raise RunInvalid(f"The run has no {label}.")
    if document.error is not None:
        raise RunInvalid(f"{label} could not be read: {document.error}.")
    if not isinstance(document.value, Mapping):
        raise RunInvalid(f"{label} must hold a JSON object.")
    return document.value


def _parse_grid(model: Mapping[str, Any]) -> Grid:
    grid = model.get("grid")
    if not isinstance(grid, Mapping):
        raise RunInvalid("The model has no grid.")
    bins = positive_int(grid.get("bins"))
    if bins is None or bins > _MAX_REPLAY_BINS:
        raise RunInvalid("The model grid is invalid: bins must be a positive integer.")
    bin_size = positive_int(grid.get("binSize"))
    if bin_size is None:
        raise RunInvalid("The model grid is invalid: binSize must be a positive integer.")
    unit = grid.get("binUnit")
    unit_text = unit.strip().lower() if isinstance(unit, str) else ""
    if unit_text not in BIN_UNIT_MINUTES:
        raise RunInvalid("The model grid is invalid: binUnit must be minutes, hours, days or weeks.")
    raw_start = grid.get("startTimeUtc")
    start: datetime | None = None
    if isinstance(raw_start, str) and raw_start.strip():
        try:
            start = parse_timestamp(raw_start, utc_only=True)
        except ValueError as exc:
            raise RunInvalid(f"The model grid is invalid: startTimeUtc {exc}.") from exc
    elif raw_start is not None and raw_start != "":
        raise RunInvalid("The model grid is invalid: startTimeUtc must be an ISO-8601 text.")
    return Grid(bins, bin_size, unit_text, bin_size * BIN_UNIT_MINUTES[unit_text], start)


def _semantics_value(semantics: Mapping[str, Any], metric: str) -> str | None:
    for key in SEMANTICS_ALIASES.get(metric, (metric,)):
        text = text_value(semantics.get(key))
        if text is not None:
            return text
    return None


class _Resolver:
    """Resolves semantics values and index paths against one run directory (§3)."""

    def __init__(self, run_dir: Path, entries: tuple[SeriesEntry, ...], model_nodes: tuple[ModelNode, ...]):
        self.run_dir = str(run_dir)
        self.run_real = os.path.realpath(run_dir)
        self._parents: dict[str, str] = {}
        self._by_id: dict[str, SeriesEntry] = {}
        self._by_prefix: dict[str, SeriesEntry] = {}
        for entry in entries:
            self._by_id.setdefault(entry.id, entry)
            self._by_prefix.setdefault(entry.id.split("@", 1)[0], entry)
        self._model_sources = {node.id: node.source for node in model_nodes}

    def confined_file(self, relative: str) -> str | None:
        """The real path of a regular file at ``relative`` inside the run directory, else ``None``."""
        if (
            not relative
            or "\x00" in relative
            or "\\" in relative
            or relative.startswith("/")
            or _DRIVE_LETTER.match(relative)
        ):
            return None
        parent, name = os.path.split(os.path.join(self.run_dir, relative))
        if name in ("", ".", ".."):
            return None
        parent_real = self._parents.get(parent)
        if parent_real is None:
            parent_real = os.path.realpath(parent)
            self._parents[parent] = parent_real
        if parent_real != self.run_real and not parent_real.startswith(self.run_real + os.sep):
            return None
        full = os.path.join(parent_real, name)
        try:
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                full = os.path.realpath(full)
                if not full.startswith(self.run_real + os.sep):
                    return None
                st = os.stat(full)
        except (OSError, ValueError):
            return None
        return full if stat.S_ISREG(st.st_mode) else None

    def series_entry(self, value: str) -> SeriesEntry | None:
        return self._by_id.get(value) or self._by_prefix.get(value)

    def resolve(self, metric: str, value: str | None) -> MetricRef:
        if value is None:
            return MetricRef(metric, None, "absent")
        entry = self.series_entry(value)
        if entry is not None:
            if entry.real_path is None:
                return MetricRef(metric, value, "unresolved")
            node_source = self._model_sources.get(entry.id.split("@", 1)[0])
            source = node_source if node_source is not None and is_file_uri(node_source) else None
            return MetricRef(metric, value, "series", entry.real_path, source)
        if is_file_uri(value):
            relative = file_uri_run_path(value)
            real = self.confined_file(relative) if relative is not None else None
            if real is not None:
                return MetricRef(metric, value, "file", real, value)
        return MetricRef(metric, value, "unresolved")


def file_uri_run_path(value: str) -> str | None:
    """``file://telemetry/<rel>`` → ``model/telemetry/<rel>``, ``file:<rel>`` → ``model/<rel>``; other
    forms (absolute, another host, a drive letter) → ``None``. Percent-escapes are decoded once."""
    rest = value[5:]
    if rest.startswith("//"):
        host, slash, path = rest[2:].partition("/")
        if host.lower() != "telemetry" or not slash:
            return None
        base, relative = "model/telemetry", unquote(path)
    else:
        base, relative = "model", unquote(rest)
    if (
        not relative
        or relative.startswith(("/", "\\"))
        or "\\" in relative
        or "\x00" in relative
        or _DRIVE_LETTER.match(relative)
    ):
        return None
    return f"{base}/{relative}"


def _model_nodes(model: Mapping[str, Any]) -> tuple[ModelNode, ...]:
    nodes = model.get("nodes")
    found: list[ModelNode] = []
    seen: set[str] = set()
    for raw in nodes if isinstance(nodes, list) else []:
        if not isinstance(raw, Mapping):
            continue
        node_id = text_value(raw.get("id")) if isinstance(raw.get("id"), str) else None
        if node_id is None or node_id in seen:
            continue
        seen.add(node_id)
        kind = raw.get("kind")
        source = raw.get("source")
        found.append(
            ModelNode(
                node_id,
                kind.strip() if isinstance(kind, str) and kind.strip() else "const",
                source.strip() if isinstance(source, str) and source.strip() else None,
            )
        )
    return tuple(found)


def _series_entries(index: Mapping[str, Any] | None, resolver_root: _Resolver) -> tuple[SeriesEntry, ...]:
    if index is None:
        return ()
    raw_series = ci_get(index, "series")
    entries: list[SeriesEntry] = []
    for raw in raw_series if isinstance(raw_series, list) else []:
        if not isinstance(raw, Mapping):
            continue
        series_id = ci_get(raw, "id")
        if not isinstance(series_id, str) or not series_id:
            continue
        path = ci_get(raw, "path")
        path_text = path if isinstance(path, str) else None
        real = resolver_root.confined_file(path_text) if path_text else None
        entries.append(SeriesEntry(series_id, path_text, raw, real))
    return tuple(entries)


def _topology(model: Mapping[str, Any], resolver: _Resolver) -> tuple[TopologyNode, ...]:
    topology = model.get("topology")
    raw_nodes = topology.get("nodes") if isinstance(topology, Mapping) else None
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise RunInvalid("The model has no topology.")
    nodes: list[TopologyNode] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_nodes):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str) or not raw["id"].strip():
            raise RunInvalid(f"Topology node {position} has no id.")
        node_id = raw["id"].strip()
        if node_id in seen:
            raise RunInvalid(f"Topology node id '{node_id}' is used twice.")
        seen.add(node_id)
        kind = raw.get("kind")
        kind_text = kind.strip() if isinstance(kind, str) and kind.strip() else "service"
        semantics = raw.get("semantics")
        semantics = semantics if isinstance(semantics, Mapping) else {}
        metrics: dict[str, MetricRef] = {}
        for metric in METRIC_KEYS:
            value = _semantics_value(semantics, metric)
            if value is None and metric in ("arrivals", "served"):
                raise RunInvalid(f"Topology node '{node_id}' has no {metric} semantics.")
            metrics[metric] = resolver.resolve(metric, value)
        # slaMin only when it is a finite number (06 §3); text such as "5" is not a number here.
        nodes.append(TopologyNode(node_id, kind_text, finite_number(semantics.get("slaMin")), metrics))
    return tuple(nodes)


def _run_warnings(run_json: Mapping[str, Any]) -> tuple[str, ...]:
    raw = ci_get(run_json, "warnings")
    messages: list[str] = []
    for item in raw if isinstance(raw, list) else []:
        message = item if isinstance(item, str) else None
        if isinstance(item, Mapping):
            inner = ci_get(item, "message")
            message = inner if isinstance(inner, str) else None
        if message is not None and message.strip():
            messages.append(message)
    return tuple(messages)


def run_directory(data_root: Path, run_id: str) -> Path:
    """``<data>/runs/<runId>`` for a well-formed, existing run id; else ``RunNotFound`` (§1).

    The id is checked before any disk access.
    """
    if not is_valid_run_id(run_id):
        raise RunNotFound(run_id)
    run_dir = Path(data_root) / "runs" / run_id
    if not run_dir.is_dir():
        raise RunNotFound(run_id)
    return run_dir


# --- loaded runs, reused while nothing they were built from has changed ---------------------------
# A run's resolution (which metric reads which file) depends on its documents and on which files
# exist in the directories it looked in. The fingerprint stats exactly those: the documents, and every
# directory holding a file the run resolved (creating, deleting or renaming a file there changes the
# directory's mtime). A run replaced by the publishing rename has a new run-directory inode. Series
# values are not part of it: they are read per request through the identity-keyed series cache.

_FINGERPRINT_FILES = (
    "run.json",
    "model/model.yaml",
    "model/metadata.json",
    "model/provenance.json",
    "series/index.json",
)
_FINGERPRINT_DIRS = ("", "model", "model/telemetry", "series")
DEFAULT_MAX_RUNS = 64

StatKey = tuple[int, int, int, int] | None


@dataclass(frozen=True)
class _CachedRun:
    dirs: tuple[str, ...]
    fingerprint: tuple[StatKey, ...]
    run: ReplayRun


# Bounded by FLOWTIME_REPLAY_RUN_CACHE_MAX_RUNS (runs held), applied at start-up (RunsConfig.ready).
RUN_CACHE: SizedCache[_CachedRun] = SizedCache(DEFAULT_MAX_RUNS, lambda _entry: 1)


def configure_run_cache(*, max_runs: int) -> None:
    """Set the bound (loaded runs held) of the process-wide loaded-run cache."""
    RUN_CACHE.configure(max_runs)


def _stat_key(path: str) -> StatKey:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _fingerprint(run_dir: Path, dirs: tuple[str, ...]) -> tuple[StatKey, ...]:
    base = str(run_dir)
    files = tuple(_stat_key(os.path.join(base, rel)) for rel in _FINGERPRINT_FILES)
    return files + tuple(_stat_key(directory) for directory in dirs)


def _watched_dirs(run: ReplayRun) -> tuple[str, ...]:
    base = str(run.run_dir)
    dirs = {os.path.join(base, rel) if rel else base for rel in _FINGERPRINT_DIRS}
    paths = [entry.real_path for entry in run.series_entries]
    paths += [ref.real_path for node in run.topology for ref in node.metrics.values()]
    dirs.update(os.path.dirname(path) for path in paths if path is not None)
    return tuple(sorted(dirs))


def clear_run_cache() -> None:
    RUN_CACHE.clear()


def load_replay_run(data_root: Path, run_id: str) -> ReplayRun:
    """Load ``<data>/runs/<runId>`` for replay: 404 ``run_not_found``, 409 ``run_invalid`` or
    ``provenance_mismatch`` as spec 06 §1–§2 say. Series values are read later, on demand."""
    run_dir = run_directory(data_root, run_id)
    key = str(run_dir)
    cached = RUN_CACHE.get(key)
    if cached is not None and _fingerprint(run_dir, cached.dirs) == cached.fingerprint:
        return cached.run
    fixed_dirs = tuple(sorted(os.path.join(key, rel) if rel else key for rel in _FINGERPRINT_DIRS))
    before = _fingerprint(run_dir, fixed_dirs)
    run = load_replay_dir(run_dir, run_id)
    dirs = _watched_dirs(run)
    fingerprint = _fingerprint(run_dir, dirs)
    # Keep it only if nothing changed while it was being read (the fixed part is the same files).
    if _fingerprint(run_dir, fixed_dirs) == before:
        RUN_CACHE.put(key, _CachedRun(dirs, fingerprint, run))
    return run


@dataclass(frozen=True)
class RunDocuments:
    """The three documents every run must have (§1), parsed; ``grid`` already checked."""

    run_json: Mapping[str, Any]
    model: Mapping[str, Any]
    model_bytes: bytes
    metadata_json: Mapping[str, Any]
    grid: Grid


def read_run_documents(run_dir: Path) -> RunDocuments:
    """run.json, model/model.yaml and model/metadata.json, present and parseable, and a valid grid;
    409 ``run_invalid`` otherwise (§1), also when a document is a link out of the run directory.
    Shared by the state loader and ``/graph``."""
    check_documents_confined(run_dir)
    run_json = _json_object(run_dir / "run.json", "run.json")
    model_document = read_document(str(run_dir / "model" / "model.yaml"), "yaml")
    if model_document is None:
        raise RunInvalid("The run has no model/model.yaml.")
    if model_document.error is not None:
        raise RunInvalid(f"model/model.yaml could not be read: {model_document.error}.")
    model = model_document.value
    if not isinstance(model, Mapping):
        raise RunInvalid("model/model.yaml must hold a mapping.")
    metadata_json = _json_object(run_dir / "model" / "metadata.json", "model/metadata.json")
    return RunDocuments(run_json, model, model_document.data, metadata_json, _parse_grid(model))


def load_replay_dir(run_dir: Path, run_id: str) -> ReplayRun:
    """Load the run in ``run_dir`` (published or still staged) as ``run_id``, without any cache."""
    documents = read_run_documents(run_dir)
    run_json, model, metadata_json = documents.run_json, documents.model, documents.metadata_json
    grid = documents.grid
    model_nodes = _model_nodes(model)
    index_document = read_document(str(run_dir / "series" / "index.json"), "json")
    index = (
        index_document.value
        if index_document is not None and isinstance(index_document.value, Mapping)
        else None
    )
    bootstrap = _Resolver(run_dir, (), model_nodes)
    entries = _series_entries(index, bootstrap)
    resolver = _Resolver(run_dir, entries, model_nodes)
    topology = _topology(model, resolver)

    envelope = resolve_envelope(
        metadata_json=metadata_json,
        model=model,
        run_json=run_json,
        model_bytes=documents.model_bytes,
        provenance_present=(run_dir / "model" / "provenance.json").is_file(),
    )

    file_semantics = [
        ref for node in topology for ref in node.metrics.values() if ref.value and is_file_uri(ref.value)
    ]
    has_file_reference = bool(file_semantics) or any(
        node.source is not None and is_file_uri(node.source) for node in model_nodes
    )
    resolved = has_file_reference and all(ref.status == "file" for ref in file_semantics)

    return ReplayRun(
        run_id=run_id,
        run_dir=run_dir,
        grid=grid,
        envelope=envelope,
        topology=topology,
        model_nodes=model_nodes,
        index=index,
        series_entries=entries,
        model_bytes=documents.model_bytes,
        run_warnings=_run_warnings(run_json),
        has_file_reference=has_file_reference,
        telemetry_sources_resolved=resolved,
        flow_edges=flow_edges(topology_edges(model), {node.id for node in topology}),
    )
