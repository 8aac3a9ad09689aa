"""The ``/state`` and ``/state_window`` bodies (spec 06 §5, §6), keys in contract order.

Errors come in the order of §8: query syntax → run load → bin ranges → window size → simulation
validation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from runs.artifacts.run_store import snapshot_of_run
from runs.canonical import format_timestamp
from runs.errors import InvalidParameter, WindowTooLarge
from runs.replay.edges import TopologyEdge
from runs.replay.loading import ReplayRun, clear_run_cache, is_file_uri, load_replay_run
from runs.replay.metadata import build_metadata
from runs.replay.metrics import (
    METRIC_KEYS,
    NodeSeries,
    color,
    latency_minutes,
    load_node_series,
    node_sources,
    node_warnings,
    throughput_ratio,
    top_warnings,
    utilization,
    validate_simulation,
)
from runs.replay.numbers import json_scalar, json_values
from runs.replay.queries import check_bin_range, parse_bin_query, parse_mode_query
from runs.replay.series_cache import FloatArray, read_series
from runs.replay.series_cache import clear_caches as clear_series_caches

# Derived metrics may overflow to ±inf (then reported as null): silence numpy once per request. As a
# decorator numpy (≥ 2) keeps the state per call, so concurrent requests do not share it.
QUIET = np.errstate(all="ignore")

# --- finished window bodies -------------------------------------------------------------------------
# Building a 500-bin × 50-node window (derived metrics, number conversion) costs far more than finding
# it again. A body is reused only for the very same loaded run object and the very same cached series
# arrays: a changed run or CSV yields new objects (the caches are keyed by file identity), so a stale
# body can never match. Entries hold those objects, so their ids cannot be reused while cached.
# Bounded by cells (bins × series), as a full-size window is several MB of Python objects.

DEFAULT_BODY_CACHE_CELLS = 1_000_000
_BODY_CACHE_CELLS = DEFAULT_BODY_CACHE_CELLS  # set from FLOWTIME_STATE_BODY_CACHE_CELLS at start-up


@dataclass(frozen=True)
class _CachedBody:
    run: ReplayRun
    arrays: tuple[FloatArray | None, ...]
    body: dict[str, Any]
    cells: int


_bodies: OrderedDict[tuple[int, int, int], _CachedBody] = OrderedDict()
_bodies_cells = 0
_bodies_lock = threading.Lock()


def configure_body_cache(*, cells: int) -> None:
    """Bound the finished-body cache (bins × series; 0 turns it off), dropping what no longer fits."""
    global _BODY_CACHE_CELLS, _bodies_cells
    with _bodies_lock:
        _BODY_CACHE_CELLS = max(0, cells)
        while _bodies_cells > _BODY_CACHE_CELLS and _bodies:
            _, evicted = _bodies.popitem(last=False)
            _bodies_cells -= evicted.cells


def _series_arrays(series: list[NodeSeries]) -> tuple[FloatArray | None, ...]:
    return tuple(item.values[metric] for item in series for metric in METRIC_KEYS)


def _cached_body(
    key: tuple[int, int, int], run: ReplayRun, arrays: tuple[FloatArray | None, ...]
) -> dict[str, Any] | None:
    with _bodies_lock:
        entry = _bodies.get(key)
        if entry is None or entry.run is not run or len(entry.arrays) != len(arrays):
            return None
        if not all(a is b for a, b in zip(entry.arrays, arrays, strict=True)):
            return None
        _bodies.move_to_end(key)
        return entry.body


def _remember_body(
    key: tuple[int, int, int], run: ReplayRun, arrays: tuple[FloatArray | None, ...], body: dict[str, Any]
) -> None:
    global _bodies_cells
    cells = (key[2] - key[1] + 1) * max(len(arrays), 1)
    if cells > _BODY_CACHE_CELLS:
        return
    with _bodies_lock:
        old = _bodies.pop(key, None)
        if old is not None:
            _bodies_cells -= old.cells
        _bodies[key] = _CachedBody(run, arrays, body, cells)
        _bodies_cells += cells
        while _bodies_cells > _BODY_CACHE_CELLS and _bodies:
            _, evicted = _bodies.popitem(last=False)
            _bodies_cells -= evicted.cells


def clear_caches() -> None:
    """Forget every cached run, document, series and window body (tests; memory pressure)."""
    global _bodies_cells
    clear_series_caches()
    clear_run_cache()
    with _bodies_lock:
        _bodies.clear()
        _bodies_cells = 0


# Topology kinds that are model plumbing rather than operational components (§6 `operational`).
_NON_OPERATIONAL_KINDS = frozenset({"const", "expr", "pmf", "backlog"})


def bin_start_text(run: ReplayRun, index: int) -> str | None:
    if run.grid.start is None:
        return None
    return format_timestamp(run.grid.start + timedelta(minutes=index * run.grid.bin_minutes))


def _telemetry(run: ReplayRun, item: NodeSeries) -> dict[str, Any]:
    return {"sources": node_sources(item), "warnings": node_warnings(run, item)}


def _flow_volumes(
    run: ReplayRun, series: list[NodeSeries], window: slice
) -> list[tuple[TopologyEdge, FloatArray]]:
    """Each flow edge (spec 07 §5.2) with ``served_src × f(e)`` over ``window``; NaN/inf give null."""
    served = {item.node.id: item.values["served"] for item in series}
    out: list[tuple[TopologyEdge, FloatArray]] = []
    for flow in run.flow_edges:
        source = served.get(flow.edge.src)
        assert source is not None  # flow edges leave topology nodes, whose served is required
        out.append((flow.edge, source[window] * flow.fraction))
    return out


def _edge_head(edge: TopologyEdge) -> dict[str, Any]:
    return {
        "id": edge.id,
        "from": edge.src,
        "to": edge.dst,
        "edgeType": edge.edge_type,
        "weight": edge.weight,
    }


def _snapshot_edges(run: ReplayRun, series: list[NodeSeries], bin_index: int) -> list[dict[str, Any]]:
    edges: list[dict[str, Any]] = []
    for edge, volume in _flow_volumes(run, series, slice(bin_index, bin_index + 1)):
        value = json_scalar(volume, 0)
        edges.append({**_edge_head(edge), "flowVolume": value, "series": {"flowVolume": [value]}})
    return edges


def _window_edges(run: ReplayRun, series: list[NodeSeries], window: slice) -> list[dict[str, Any]]:
    return [
        {**_edge_head(edge), "series": {"flowVolume": json_values(volume)}}
        for edge, volume in _flow_volumes(run, series, window)
    ]


def _loaded_series(run: ReplayRun) -> list[NodeSeries]:
    series = load_node_series(run)
    validate_simulation(run, series)
    return series


@snapshot_of_run
@QUIET
def state_snapshot(data_root: Path, run_id: str, query: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The ``GET /v1/runs/{runId}/state?binIndex=N`` body."""
    bin_index = parse_bin_query(query, "binIndex")
    run = load_replay_run(data_root, run_id)
    check_bin_range("binIndex", bin_index, run.grid.bins)
    series = _loaded_series(run)

    at = slice(bin_index, bin_index + 1)
    nodes: list[dict[str, Any]] = []
    for item in series:
        v = item.values
        arrivals, served = v["arrivals"], v["served"]
        assert arrivals is not None and served is not None  # required by loading
        capacity, queue = v["capacity"], v["queue"]
        util = utilization(served[at], None if capacity is None else capacity[at])
        latency = latency_minutes(
            item.node, None if queue is None else queue[at], served[at], run.grid.bin_minutes
        )
        ratio = throughput_ratio(served[at], arrivals[at])
        util_value = json_scalar(util, 0)
        latency_value = json_scalar(latency, 0)
        nodes.append(
            {
                "id": item.node.id,
                "kind": item.node.kind,
                "metrics": {
                    "arrivals": json_scalar(arrivals, bin_index),
                    "served": json_scalar(served, bin_index),
                    "errors": json_scalar(v["errors"], bin_index),
                    "queue": json_scalar(queue, bin_index),
                    "capacity": json_scalar(capacity, bin_index),
                    "externalDemand": json_scalar(v["externalDemand"], bin_index),
                },
                "derived": {
                    "utilization": util_value,
                    "latencyMinutes": latency_value,
                    "throughputRatio": json_scalar(ratio, 0),
                    "color": color(
                        item.node,
                        None if util_value is None else float(util_value),
                        None if latency_value is None else float(latency_value),
                    ),
                },
                "telemetry": _telemetry(run, item),
            }
        )
    return {
        "metadata": build_metadata(run),
        "bin": {
            "index": bin_index,
            "startUtc": bin_start_text(run, bin_index),
            "endUtc": bin_start_text(run, bin_index + 1),
            "durationMinutes": run.grid.bin_minutes,
        },
        "nodes": nodes,
        "edges": _snapshot_edges(run, series, bin_index),
        "edgeWarnings": {},  # this project produces no edge-scoped warnings (spec 07 §5.4)
        "warnings": top_warnings(run),
    }


def _window_node(run: ReplayRun, item: NodeSeries, window: slice) -> dict[str, Any]:
    v = item.values
    arrivals, served = v["arrivals"], v["served"]
    assert arrivals is not None and served is not None  # required by loading
    arrivals_w, served_w = arrivals[window], served[window]
    errors = v["errors"]
    out: dict[str, Any] = {
        "arrivals": json_values(arrivals_w),
        "served": json_values(served_w),
        "errors": [None] * len(arrivals_w) if errors is None else json_values(errors[window]),
    }
    capacity_w: FloatArray | None = None
    queue_w: FloatArray | None = None
    for metric in ("externalDemand", "queue", "capacity"):
        values = v[metric]
        if values is not None:
            part = values[window]
            out[metric] = json_values(part)
            if metric == "capacity":
                capacity_w = part
            elif metric == "queue":
                queue_w = part
    util = utilization(served_w, capacity_w)
    if util is not None:
        out["utilization"] = json_values(util)
    latency = latency_minutes(item.node, queue_w, served_w, run.grid.bin_minutes)
    if latency is not None:
        out["latencyMinutes"] = json_values(latency)
    out["throughputRatio"] = json_values(throughput_ratio(served_w, arrivals_w))
    return {"id": item.node.id, "kind": item.node.kind, "series": out, "telemetry": _telemetry(run, item)}


def _model_only_nodes(run: ReplayRun, window: slice) -> list[dict[str, Any]]:
    """``full`` mode: indexed model nodes that are not topology ids, in definition order."""
    topology_ids = {node.id for node in run.topology}
    by_id = {entry.id: entry for entry in reversed(run.series_entries)}
    by_prefix = {entry.id.split("@", 1)[0]: entry for entry in reversed(run.series_entries)}
    count = window.stop - window.start
    nodes: list[dict[str, Any]] = []
    for model_node in run.model_nodes:
        if model_node.id in topology_ids:
            continue
        entry = by_id.get(model_node.id) or by_prefix.get(model_node.id)
        if entry is None:
            continue
        if entry.real_path is None:
            values: list[Any] = [None] * count
        else:
            values = json_values(read_series(entry.real_path, run.grid.bins).values[window])
        source = model_node.source
        nodes.append(
            {
                "id": model_node.id,
                "kind": model_node.kind,
                "series": {"values": values},
                "telemetry": {
                    "sources": [source] if source is not None and is_file_uri(source) else [],
                    "warnings": [],
                },
            }
        )
    return nodes


@snapshot_of_run
@QUIET
def state_window(
    data_root: Path, run_id: str, query: Mapping[str, Sequence[str]], *, max_window_bins: int
) -> dict[str, Any]:
    """The ``GET /v1/runs/{runId}/state_window?startBin=A&endBin=B[&mode=]`` body."""
    start_bin = parse_bin_query(query, "startBin")
    end_bin = parse_bin_query(query, "endBin")
    mode = parse_mode_query(query)
    run = load_replay_run(data_root, run_id)
    bins = run.grid.bins
    check_bin_range("startBin", start_bin, bins)
    check_bin_range("endBin", end_bin, bins)
    if end_bin < start_bin:
        raise InvalidParameter("endBin", "endBin must be greater than or equal to startBin.")
    count = end_bin - start_bin + 1
    if count > max_window_bins:
        raise WindowTooLarge(count, max_window_bins)
    series = _loaded_series(run)
    # Only operational windows (what a UI polls) are kept: ``full`` also reads model-only series.
    arrays = _series_arrays(series) if mode == "operational" else ()
    key = (id(run), start_bin, end_bin)
    if arrays:
        found = _cached_body(key, run, arrays)
        if found is not None:
            return found

    window = slice(start_bin, end_bin + 1)
    nodes = [
        _window_node(run, item, window)
        for item in series
        if mode == "full" or item.node.kind.lower() not in _NON_OPERATIONAL_KINDS
    ]
    if mode == "full":
        nodes.extend(_model_only_nodes(run, window))

    timestamps: list[str] | None = None
    if run.grid.start is not None:
        start = run.grid.start
        step = run.grid.bin_minutes
        timestamps = [
            format_timestamp(start + timedelta(minutes=i * step)) for i in range(start_bin, end_bin + 1)
        ]
    body = {
        "metadata": build_metadata(run),
        "window": {"startBin": start_bin, "endBin": end_bin, "binCount": count},
        "timestampsUtc": timestamps,
        "nodes": nodes,
        "edges": _window_edges(run, series, window),
        "edgeWarnings": {},
        "warnings": top_warnings(run),
    }
    if arrays:
        _remember_body(key, run, arrays, body)
    return body
