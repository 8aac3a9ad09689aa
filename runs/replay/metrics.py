"""Node metric series, simulation validation, warnings and derived metrics (spec 06 §3, §4, §7)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from runs.errors import ModeValidationFailed
from runs.replay.loading import METRIC_KEYS, ReplayRun, TopologyNode
from runs.replay.series_cache import FloatArray, ParsedSeries, read_series
from runs.shapes import Color, NodeWarning, RunWarning

MISSING_ANY_MESSAGE = "One or more telemetry sources could not be resolved for this run."
NO_SOURCES_MESSAGE = "Telemetry mode run resolved no telemetry sources."

# ``read_series``'s signature: (real path, bins) → the parsed series.
SeriesReader = Callable[[str, int], ParsedSeries]


@dataclass(frozen=True)
class NodeSeries:
    """A topology node's whole-run metric arrays (``None`` when the semantics key is not set)."""

    node: TopologyNode
    values: dict[str, FloatArray | None]
    invalid: tuple[str, ...]
    unresolved: tuple[str, ...]
    # What each array was read from (the series cache key; ``("nan", bins)`` for no readable file):
    # the identity the rendered-series cache keys on.
    sources: dict[str, Hashable | None]


def _all_nan(bins: int) -> FloatArray:
    values = np.full(bins, np.nan)
    values.setflags(write=False)
    return values


def load_node_series(run: ReplayRun, *, read: SeriesReader = read_series) -> list[NodeSeries]:
    """Every topology node's metrics over the whole run, read through the series cache (or ``read``)."""
    bins = run.grid.bins
    empty = _all_nan(bins)
    result: list[NodeSeries] = []
    for node in run.topology:
        values: dict[str, FloatArray | None] = {}
        sources: dict[str, Hashable | None] = {}
        invalid: list[str] = []
        unresolved: list[str] = []
        for metric in METRIC_KEYS:
            ref = node.metrics[metric]
            if ref.status == "absent":
                values[metric] = None
                sources[metric] = None
            elif ref.status == "unresolved" or ref.real_path is None:
                values[metric] = empty
                sources[metric] = ("nan", bins)
                unresolved.append(metric)
            else:
                parsed = read(ref.real_path, bins)
                values[metric] = parsed.values
                sources[metric] = parsed.identity if parsed.identity is not None else ("nan", bins)
                if not parsed.valid:
                    invalid.append(metric)
        result.append(NodeSeries(node, values, tuple(invalid), tuple(unresolved), sources))
    return result


def required_metrics(node: TopologyNode) -> tuple[str, ...]:
    """Metrics simulation validation requires of a node (§3)."""
    required = ["arrivals"]
    if node.is_service:
        required.append("served")
    if node.is_queue:
        required.append("queue")
    return tuple(required)


def simulation_problem(series: list[NodeSeries]) -> str | None:
    """The §3 message for the first node (topology order) failing simulation validation, else None."""
    for item in series:
        required = required_metrics(item.node)
        missing = [m for m in required if item.node.metrics[m].status == "absent" or m in item.unresolved]
        if missing:
            return (
                f"Node '{item.node.id}' is missing required {', '.join(missing)} series for simulation mode."
            )
        bad = [m for m in required if m in item.invalid]
        if bad:
            return f"Node '{item.node.id}' contains invalid values for {', '.join(bad)} in simulation mode."
    return None


def validate_simulation(run: ReplayRun, series: list[NodeSeries]) -> None:
    """Raise 422 ``mode_validation_failed`` for a simulation run whose required series fail (§3)."""
    if run.mode != "simulation":
        return
    problem = simulation_problem(series)
    if problem is not None:
        raise ModeValidationFailed(problem)


def node_warnings(run: ReplayRun, item: NodeSeries) -> list[NodeWarning]:
    """``telemetry.warnings`` of one node: unresolved sources, then one invalid-series warning."""
    warnings: list[NodeWarning] = []
    for metric in item.unresolved:
        warnings.append(
            {
                "code": "telemetry_sources_unresolved",
                "message": (
                    f"Source '{item.node.metrics[metric].value}' for {metric} could not be resolved "
                    f"for node '{item.node.id}'."
                ),
                "severity": "warning",
            }
        )
    invalid = item.invalid
    if run.mode == "simulation":
        required = required_metrics(item.node)
        invalid = tuple(m for m in invalid if m not in required)
    if invalid:
        warnings.append(
            {
                "code": "telemetry_series_invalid",
                "message": f"Invalid values in {', '.join(invalid)}.",
                "severity": "warning",
            }
        )
    return warnings


def node_sources(item: NodeSeries) -> list[str]:
    """``telemetry.sources``: resolved ``file:`` values and referenced nodes' ``file:`` sources (§5)."""
    sources: list[str] = []
    seen: set[str] = set()
    for metric in METRIC_KEYS:
        source = item.node.metrics[metric].source
        if source is not None and source.lower() not in seen:
            seen.add(source.lower())
            sources.append(source)
    return sources


def run_warnings(run: ReplayRun) -> list[RunWarning]:
    """run.json ``warnings`` as ``run_warning`` infos (§7; also RunResponse ``warnings``, spec 05 §2)."""
    return [
        {"code": "run_warning", "message": message, "severity": "info", "nodeId": None}
        for message in run.run_warnings
    ]


def top_warnings(run: ReplayRun) -> list[RunWarning]:
    """Top-level warnings: run warnings first, then run-wide telemetry source warnings (§7)."""
    warnings = run_warnings(run)
    if any(ref.status == "unresolved" for node in run.topology for ref in node.metrics.values()):
        warnings.append(
            {
                "code": "telemetry_sources_missing",
                "message": MISSING_ANY_MESSAGE,
                "severity": "warning",
                "nodeId": None,
            }
        )
    if run.mode == "telemetry" and not run.has_file_reference:
        warnings.append(
            {
                "code": "telemetry_sources_missing",
                "message": NO_SOURCES_MESSAGE,
                "severity": "warning",
                "nodeId": None,
            }
        )
    return warnings


# --- derived metrics (§4), vectorised over any slice of bins ------------------------------------
# Overflow to ±inf is possible (and turned into NaN here); numpy's warnings for it are silenced once
# per request by the public entry points (``QUIET``), not per division: entering np.errstate costs
# more than a 500-bin division.


def _divide(numerator: FloatArray, denominator: FloatArray, allowed: npt.NDArray[np.bool_]) -> FloatArray:
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=allowed)
    out[~np.isfinite(out)] = np.nan
    return out


def utilization(served: FloatArray, capacity: FloatArray | None) -> FloatArray | None:
    """served / capacity; NaN where an input is not finite or capacity ≤ 0."""
    if capacity is None:
        return None
    allowed = np.isfinite(served) & np.isfinite(capacity) & (capacity > 0)
    return _divide(served, capacity, allowed)


def latency_minutes(
    node: TopologyNode, queue: FloatArray | None, served: FloatArray, bin_minutes: float
) -> FloatArray | None:
    """(queue / served) × binMinutes for queue nodes; NaN where served ≤ 0 or an input is not finite."""
    if not node.is_queue or queue is None:
        return None
    allowed = np.isfinite(queue) & np.isfinite(served) & (served > 0)
    ratio = _divide(queue, served, allowed)
    latency = ratio * bin_minutes
    latency[~np.isfinite(latency)] = np.nan
    return latency


def throughput_ratio(served: FloatArray, arrivals: FloatArray) -> FloatArray:
    """served / arrivals; NaN where arrivals = 0 or an input is not finite."""
    allowed = np.isfinite(served) & np.isfinite(arrivals) & (arrivals != 0)
    return _divide(served, arrivals, allowed)


def color(node: TopologyNode, utilization_value: float | None, latency_value: float | None) -> Color:
    """The snapshot colour (§4): queue nodes by latency against slaMin, others by utilization."""
    if node.is_queue:
        sla = node.sla_min
        if latency_value is None or sla is None or sla <= 0:
            return "gray"
        if latency_value <= sla:
            return "green"
        return "yellow" if latency_value <= 1.5 * sla else "red"
    if utilization_value is None:
        return "gray"
    if utilization_value < 0.7:
        return "green"
    return "yellow" if utilization_value < 0.9 else "red"
