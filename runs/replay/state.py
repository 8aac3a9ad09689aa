"""The ``/state`` and ``/state_window`` bodies (spec 06 §5, §6), keys in contract order.

Errors come in the order of §8: query syntax → run load → bin ranges → window size → simulation
validation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path

import numpy as np

from runs.artifacts.run_store import snapshot_of_run
from runs.canonical import format_timestamp
from runs.errors import InvalidParameter, WindowTooLarge
from runs.replay.edges import TopologyEdge
from runs.replay.loading import METRIC_KEYS, ReplayRun, clear_run_cache, is_file_uri, load_replay_run
from runs.replay.metadata import build_metadata
from runs.replay.metrics import (
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
from runs.replay.numbers import JsonNumber, json_scalar
from runs.replay.queries import NON_OPERATIONAL_KINDS, check_bin_range, parse_bin_query, parse_mode_query
from runs.replay.rendered import (
    RENDERED_CACHE,
    NodeRendering,
    RenderedSeries,
    rendered,
    rendered_node,
    rendered_timestamps,
)
from runs.replay.series_cache import FloatArray, read_series
from runs.replay.series_cache import clear_caches as clear_series_caches
from runs.shapes import (
    EdgeHead,
    NodeTelemetry,
    SnapshotEdge,
    StateEdge,
    StateNode,
    StateSnapshot,
    StateWindow,
    WindowNode,
)

# Derived metrics may overflow to ±inf (then reported as null): silence numpy once per request. As a
# decorator numpy (≥ 2) keeps the state per call, so concurrent requests do not share it.
QUIET = np.errstate(all="ignore")


def clear_caches() -> None:
    """Forget every cached run, document, series and rendered series (tests; memory pressure)."""
    clear_series_caches()
    clear_run_cache()
    RENDERED_CACHE.clear()


def bin_start_text(run: ReplayRun, index: int) -> str | None:
    if run.grid.start is None:
        return None
    return format_timestamp(run.grid.start + timedelta(minutes=index * run.grid.bin_minutes))


def _telemetry(run: ReplayRun, item: NodeSeries) -> NodeTelemetry:
    return {"sources": node_sources(item), "warnings": node_warnings(run, item)}


# --- whole-run renderings, keyed by the identity of what they are computed from ---------------------
# A series' source is its series-cache key (file identity and bins) or ("nan", bins); a derived series
# names its inputs' sources and every other number it reads (bin minutes, an edge fraction).


def _all_nan(bins: int) -> RenderedSeries:
    return rendered(("nan", bins), partial(np.full, bins, np.nan))


def _same(values: FloatArray) -> FloatArray:
    return values


def _node_arrays(run: ReplayRun, item: NodeSeries) -> dict[str, FloatArray]:
    """A node's window series over the whole run, in contract order (§6)."""
    v = item.values
    arrivals, served = v["arrivals"], v["served"]
    assert arrivals is not None and served is not None  # required by loading
    errors = v["errors"]
    out: dict[str, FloatArray] = {
        "arrivals": arrivals,
        "served": served,
        "errors": np.full(run.grid.bins, np.nan) if errors is None else errors,
    }
    for metric in ("externalDemand", "queue", "capacity"):
        values = v[metric]
        if values is not None:
            out[metric] = values
    util = utilization(served, v["capacity"])
    if util is not None:
        out["utilization"] = util
    latency = latency_minutes(item.node, v["queue"], served, run.grid.bin_minutes)
    if latency is not None:
        out["latencyMinutes"] = latency
    out["throughputRatio"] = throughput_ratio(served, arrivals)
    return out


def _node_rendering(run: ReplayRun, item: NodeSeries) -> NodeRendering:
    """Cached under everything the arrays depend on: each metric's source (series-cache key, or
    ``None`` when absent), whether the node is a queue (latency) and the bin length."""
    sources = tuple(item.sources[metric] for metric in METRIC_KEYS)
    key = ("node", sources, item.node.is_queue, run.grid.bin_minutes, run.grid.bins)
    return rendered_node(key, partial(_node_arrays, run, item))


def _flow_volumes(run: ReplayRun, series: list[NodeSeries]) -> list[tuple[TopologyEdge, RenderedSeries]]:
    """Each flow edge (spec 07 §5.2) with ``served_src × f(e)`` over the run; NaN/inf give null."""
    served = {item.node.id: item for item in series}
    out: list[tuple[TopologyEdge, RenderedSeries]] = []
    for flow in run.flow_edges:
        item = served.get(flow.edge.src)
        source = None if item is None else item.values["served"]
        assert item is not None and source is not None  # flow edges leave topology nodes (served required)
        key = ("flowVolume", item.sources["served"], flow.fraction)
        out.append((flow.edge, rendered(key, partial(np.multiply, source, flow.fraction))))
    return out


def _edge_head(edge: TopologyEdge) -> EdgeHead:
    return {
        "id": edge.id,
        "from": edge.src,
        "to": edge.dst,
        "edgeType": edge.edge_type,
        "weight": edge.weight,
    }


def _snapshot_edges(run: ReplayRun, series: list[NodeSeries], bin_index: int) -> list[SnapshotEdge]:
    edges: list[SnapshotEdge] = []
    for edge, volume in _flow_volumes(run, series):
        value = volume.at(bin_index)
        edges.append({**_edge_head(edge), "flowVolume": value, "series": {"flowVolume": [value]}})
    return edges


def _window_edges(run: ReplayRun, series: list[NodeSeries], start: int, stop: int) -> list[StateEdge]:
    return [
        {**_edge_head(edge), "series": {"flowVolume": volume.window(start, stop)}}
        for edge, volume in _flow_volumes(run, series)
    ]


def _loaded_series(run: ReplayRun) -> list[NodeSeries]:
    series = load_node_series(run)
    validate_simulation(run, series)
    return series


def _at(values: RenderedSeries | None, index: int) -> JsonNumber:
    return None if values is None else values.at(index)


@snapshot_of_run
@QUIET
def state_snapshot(data_root: Path, run_id: str, query: Mapping[str, Sequence[str]]) -> StateSnapshot:
    """The ``GET /v1/runs/{runId}/state?binIndex=N`` body."""
    bin_index = parse_bin_query(query, "binIndex")
    run = load_replay_run(data_root, run_id)
    check_bin_range("binIndex", bin_index, run.grid.bins)
    series = _loaded_series(run)

    nodes: list[StateNode] = []
    for item in series:
        v = item.values
        parts = _node_rendering(run, item).parts
        util_value = _at(parts.get("utilization"), bin_index)
        latency_value = _at(parts.get("latencyMinutes"), bin_index)
        nodes.append(
            {
                "id": item.node.id,
                "kind": item.node.kind,
                "metrics": {
                    "arrivals": json_scalar(v["arrivals"], bin_index),
                    "served": json_scalar(v["served"], bin_index),
                    "errors": json_scalar(v["errors"], bin_index),
                    "queue": json_scalar(v["queue"], bin_index),
                    "capacity": json_scalar(v["capacity"], bin_index),
                    "externalDemand": json_scalar(v["externalDemand"], bin_index),
                },
                "derived": {
                    "utilization": util_value,
                    "latencyMinutes": latency_value,
                    "throughputRatio": parts["throughputRatio"].at(bin_index),
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


def _window_node(run: ReplayRun, item: NodeSeries, start: int, stop: int) -> WindowNode:
    parts = _node_rendering(run, item).parts
    return {
        "id": item.node.id,
        "kind": item.node.kind,
        "series": {name: part.window(start, stop) for name, part in parts.items()},
        "telemetry": _telemetry(run, item),
    }


def _model_only_nodes(run: ReplayRun, start: int, stop: int) -> list[WindowNode]:
    """``full`` mode: indexed model nodes that are not topology ids, in definition order."""
    topology_ids = {node.id for node in run.topology}
    by_id = {entry.id: entry for entry in reversed(run.series_entries)}
    by_prefix = {entry.id.split("@", 1)[0]: entry for entry in reversed(run.series_entries)}
    bins = run.grid.bins
    nodes: list[WindowNode] = []
    for model_node in run.model_nodes:
        if model_node.id in topology_ids:
            continue
        entry = by_id.get(model_node.id) or by_prefix.get(model_node.id)
        if entry is None:
            continue
        parsed = None if entry.real_path is None else read_series(entry.real_path, bins)
        if parsed is None or parsed.identity is None:
            values = _all_nan(bins)
        else:
            values = rendered(("series", parsed.identity), partial(_same, parsed.values))
        source = model_node.source
        nodes.append(
            {
                "id": model_node.id,
                "kind": model_node.kind,
                "series": {"values": values.window(start, stop)},
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
) -> StateWindow:
    """The ``GET /v1/runs/{runId}/state_window?startBin=A&endBin=B[&mode=]`` body. Series arrays are
    ``orjson.Fragment`` values (JSON text): render the body with orjson."""
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

    stop = end_bin + 1
    nodes = [
        _window_node(run, item, start_bin, stop)
        for item in series
        if mode == "full" or item.node.kind.lower() not in NON_OPERATIONAL_KINDS
    ]
    if mode == "full":
        nodes.extend(_model_only_nodes(run, start_bin, stop))

    grid = run.grid
    timestamps = (
        None
        if grid.start is None
        else rendered_timestamps(grid.start, grid.bin_minutes, bins).window(start_bin, stop)
    )
    return {
        "metadata": build_metadata(run),
        "window": {"startBin": start_bin, "endBin": end_bin, "binCount": count},
        "timestampsUtc": timestamps,
        "nodes": nodes,
        "edges": _window_edges(run, series, start_bin, stop),
        "edgeWarnings": {},
        "warnings": top_warnings(run),
    }
