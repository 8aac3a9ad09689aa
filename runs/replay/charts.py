"""Server-side SVG charts of each topology node for the admin run page.

One figure per node at full content width: a flow panel (arrivals, served, errors, capacity on one
per-bin axis), a queue panel when the node has a queue (its own axis: a backlog of 700 must not flatten
flows of 15), and a utilisation panel when it has capacity (latency against the SLA for queue nodes).
Bins the node is yellow or red in by the ``/state`` colour rules (spec 06 §4) are shaded across all
panels. Every panel shares one labelled UTC time axis. Non-finite values break a line (never an
invalid number in the SVG). Markup is self-contained, and every text is escaped; the per-bin values
for hover read-outs travel as JSON beside the SVG (``NodeChart.data``) for ``runs/static/runs/charts.js``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from pathlib import Path

import numpy as np

from runs.replay.loading import ReplayRun, load_replay_run
from runs.replay.metrics import NodeSeries, color, latency_minutes, load_node_series, utilization
from runs.replay.series_cache import FloatArray
from runs.shapes import Color

FLOW_METRICS = ("arrivals", "served", "errors", "capacity")


@dataclass(frozen=True)
class SeriesStyle:
    colour: str
    width: float
    dash: str | None = None
    opacity: float = 1.0


# Drawn in this order, widest first, so a series that coincides with another still shows: arrivals is
# a wide pale band under served, capacity is dashed over both.
STYLES: dict[str, SeriesStyle] = {
    "arrivals": SeriesStyle("#1f77b4", 6.0, opacity=0.35),
    "served": SeriesStyle("#2ca02c", 2.0),
    "errors": SeriesStyle("#d62728", 1.5, dash="2 3"),
    "capacity": SeriesStyle("#ff7f0e", 2.0, dash="8 5"),
    "queue": SeriesStyle("#9467bd", 2.0),
    "utilization": SeriesStyle("#8c564b", 2.0),
    "latencyMinutes": SeriesStyle("#17becf", 2.0),
}
STATE_FILLS = {"yellow": ("#f2c200", 0.22), "red": ("#d62728", 0.16)}

WIDTH = 1000
PLOT_LEFT = 70
PLOT_RIGHT = 20
PLOT_WIDTH = WIDTH - PLOT_LEFT - PLOT_RIGHT
LEGEND_HEIGHT = 28
PANEL_GAP = 26
FLOW_HEIGHT = 200
SMALL_HEIGHT = 80
AXIS_HEIGHT = 44
FONT = 'font-family="system-ui, sans-serif"'


@dataclass(frozen=True)
class NodeChart:
    node_id: str
    svg: str
    data: str  # JSON: per-bin values for the hover read-out


@dataclass(frozen=True)
class Panel:
    label: str
    series: dict[str, FloatArray]
    references: tuple[tuple[float, str], ...] = ()  # (value, label): dotted threshold lines
    min_top: float = 0.0


def _number(value: float) -> str:
    """A coordinate or label: at most two decimals, no trailing zeros, never ``nan``/``inf``."""
    if not math.isfinite(value):
        raise ValueError("non-finite values are gaps, never coordinates")
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _label(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 × 10^k apart) covering ``low..high``; the last ≥ ``high``."""
    if not high > low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = [first]
    while ticks[-1] < high - 1e-9 * step:
        ticks.append(round(first + len(ticks) * step, 10))
    return ticks


def _envelope(values: FloatArray, buckets: int) -> tuple[FloatArray, FloatArray]:
    """Bin positions and values reduced to a min and a max per bucket, in that order: a long series
    keeps its peaks and troughs at about two points a pixel. An all-gap bucket stays a gap."""
    count = len(values)
    starts = np.searchsorted(np.arange(count) * buckets // count, np.arange(buckets))
    lows = np.fmin.reduceat(values, starts)  # fmin/fmax skip NaN unless a bucket has nothing else
    highs = np.fmax.reduceat(values, starts)
    ends = np.append(starts[1:], count)
    centres = (starts + ends - 1) / 2.0
    positions = np.repeat(centres, 2)
    reduced = np.empty(2 * buckets)
    reduced[0::2], reduced[1::2] = lows, highs
    return positions, reduced


def bin_x(position: float, bins: int) -> float:
    """x of a bin's centre (``position`` may be fractional)."""
    return PLOT_LEFT + (position + 0.5) * PLOT_WIDTH / bins


def line_path(values: FloatArray, *, top: float, height: float, y_min: float, y_max: float) -> str:
    """The ``d`` attribute for ``values``: ``M`` at each segment start, ``L`` after; gaps skipped."""
    count = len(values)
    scale = height / (y_max - y_min) if y_max > y_min else 0.0
    if count > 2 * PLOT_WIDTH:
        positions, points = _envelope(values, PLOT_WIDTH)
    else:
        positions, points = np.arange(count, dtype=np.float64), values
    commands: list[str] = []
    pen_down = False
    for position, value in zip(positions.tolist(), points.tolist(), strict=True):
        if not math.isfinite(value):
            pen_down = False
            continue
        y = top + height - (value - y_min) * scale
        commands.append(f"{'L' if pen_down else 'M'}{_number(bin_x(position, count))} {_number(y)}")
        pen_down = True
    return " ".join(commands)


def _finite(values: FloatArray) -> FloatArray:
    return values[np.isfinite(values)]


def _y_range(panel: Panel) -> tuple[float, list[float]]:
    finite = [_finite(v) for v in panel.series.values()]
    finite = [v for v in finite if v.size]
    high = max([panel.min_top, *(float(v.max()) for v in finite), *(r for r, _ in panel.references)])
    low = min([0.0, *(float(v.min()) for v in finite)])
    ticks = nice_ticks(low, high if high > low else low + 1.0)
    return ticks[0], ticks


def _stroke(name: str) -> tuple[SeriesStyle, str]:
    """The style of series ``name`` and its dash and opacity attributes: its line and its legend key
    are drawn alike."""
    style = STYLES.get(name, SeriesStyle("#555", 1.5))
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    opacity = f' stroke-opacity="{style.opacity}"' if style.opacity < 1 else ""
    return style, dash + opacity


def _panel_svg(panel: Panel, top: float, height: float) -> list[str]:
    y_min, ticks = _y_range(panel)
    y_max = ticks[-1]
    scale = height / (y_max - y_min)
    parts = [f'<g class="panel" data-panel="{escape(panel.label)}">']
    for tick in ticks:
        y = top + height - (tick - y_min) * scale
        parts.append(
            f'<line x1="{PLOT_LEFT}" x2="{PLOT_LEFT + PLOT_WIDTH}" y1="{_number(y)}" y2="{_number(y)}" '
            f'stroke="#e3e7eb" stroke-width="1"/>'
            f'<text class="y-tick" x="{PLOT_LEFT - 6}" y="{_number(y + 4)}" font-size="12" '
            f'text-anchor="end" fill="#444" {FONT}>{escape(_label(tick))}</text>'
        )
    for value, label in panel.references:
        y = top + height - (value - y_min) * scale
        parts.append(
            f'<line class="reference" x1="{PLOT_LEFT}" x2="{PLOT_LEFT + PLOT_WIDTH}" y1="{_number(y)}" '
            f'y2="{_number(y)}" stroke="#888" stroke-width="1" stroke-dasharray="1 3"/>'
            f'<text x="{PLOT_LEFT + PLOT_WIDTH - 4}" y="{_number(y - 3)}" font-size="11" text-anchor="end" '
            f'fill="#666" {FONT}>{escape(label)}</text>'
        )
    parts.append(
        f'<text class="axis-title" x="14" y="{_number(top + height / 2)}" font-size="12" fill="#333" '
        f'text-anchor="middle" transform="rotate(-90 14 {_number(top + height / 2)})" {FONT}>'
        f"{escape(panel.label)}</text>"
        f'<rect x="{PLOT_LEFT}" y="{_number(top)}" width="{PLOT_WIDTH}" height="{_number(height)}" '
        f'fill="none" stroke="#bbb"/>'
    )
    for metric, values in panel.series.items():
        style, extra = _stroke(metric)
        parts.append(
            f'<path d="{line_path(values, top=top, height=height, y_min=y_min, y_max=y_max)}" fill="none" '
            f'stroke="{style.colour}" stroke-width="{_number(style.width)}"{extra} '
            f'stroke-linejoin="round" stroke-linecap="round" data-series="{escape(metric)}"/>'
        )
    parts.append("</g>")
    return parts


def time_ticks(bins: int, bin_minutes: int, start: datetime | None) -> list[tuple[int, str]]:
    """(bin boundary, label) pairs, at most about ten, on round multiples of the bin size."""
    steps = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 24, 30, 48, 60, 96, 120, 144, 168, 288, 336, 672, 1440]
    step = next((s for s in steps if bins / s <= 10), max(1, math.ceil(bins / 10)))
    boundaries = list(range(0, bins + 1, step))
    if start is None:
        return [(b, f"bin {b}") for b in boundaries]
    span_days = bins * bin_minutes / 1440
    fmt = "%H:%M" if span_days <= 1 else ("%m-%d %H:%M" if span_days <= 14 else "%Y-%m-%d")
    return [(b, (start + timedelta(minutes=bin_minutes * b)).strftime(fmt)) for b in boundaries]


def _boundary_x(boundary: float, bins: int) -> float:
    return PLOT_LEFT + boundary * PLOT_WIDTH / bins


def _shading(colours: Sequence[str], top: float, bottom: float) -> list[str]:
    """One rect per run of consecutive yellow or red bins."""
    parts: list[str] = []
    bins = len(colours)
    start = 0
    while start < bins:
        end = start
        while end + 1 < bins and colours[end + 1] == colours[start]:
            end += 1
        if colours[start] in STATE_FILLS:
            fill, opacity = STATE_FILLS[colours[start]]
            x = _boundary_x(start, bins)
            parts.append(
                f'<rect class="state-{colours[start]}" x="{_number(x)}" y="{_number(top)}" '
                f'width="{_number(_boundary_x(end + 1, bins) - x)}" height="{_number(bottom - top)}" '
                f'fill="{fill}" fill-opacity="{opacity}"/>'
            )
        start = end + 1
    return parts


def _legend(names: list[str], shaded: set[str]) -> list[str]:
    parts = ['<g class="legend">']
    x = float(PLOT_LEFT)
    for name in names:
        style, extra = _stroke(name)
        parts.append(
            f'<g class="legend-item" data-series="{escape(name)}">'
            f'<line x1="{_number(x)}" x2="{_number(x + 26)}" y1="14" y2="14" stroke="{style.colour}" '
            f'stroke-width="{_number(max(style.width, 2.5))}"{extra}/>'
            f'<text x="{_number(x + 32)}" y="18" font-size="13" fill="#222" {FONT}>{escape(name)}</text></g>'
        )
        x += 40 + 8 * len(name)
    for state in ("yellow", "red"):
        if state in shaded:
            swatch, swatch_opacity = STATE_FILLS[state]
            parts.append(
                f'<g class="legend-item" data-series="state-{state}">'
                f'<rect x="{_number(x)}" y="5" width="18" height="18" fill="{swatch}" '
                f'fill-opacity="{swatch_opacity * 2}"/><text x="{_number(x + 24)}" y="18" font-size="13" '
                f'fill="#222" {FONT}>{state} bins</text></g>'
            )
            x += 100
    parts.append("</g>")
    return parts


def _json_values(values: FloatArray) -> list[float | None]:
    return [round(v, 6) if math.isfinite(v) else None for v in values.tolist()]


def node_chart(
    *,
    node_id: str,
    panels: list[Panel],
    colours: Sequence[str],
    bins: int,
    bin_minutes: int,
    start: datetime | None,
) -> NodeChart:
    """The figure of one node: the panels stacked over one time axis, shading and a legend."""
    heights = [FLOW_HEIGHT] + [SMALL_HEIGHT] * (len(panels) - 1)
    tops: list[float] = []
    y = float(LEGEND_HEIGHT + 8)
    for height in heights:
        tops.append(y)
        y += height + PANEL_GAP
    plot_bottom = y - PANEL_GAP
    total_height = plot_bottom + AXIS_HEIGHT
    title = escape(node_id)
    names = [name for panel in panels for name in panel.series]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_number(total_height)}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="{title}" '
        f'data-plot-left="{PLOT_LEFT}" data-plot-width="{PLOT_WIDTH}" data-bins="{bins}">',
        f"<title>{title}</title>",
        *_shading(colours, LEGEND_HEIGHT + 8, plot_bottom),
        *_legend(names, set(colours)),
    ]
    for panel, top, height in zip(panels, tops, heights, strict=True):
        parts.extend(_panel_svg(panel, top, height))
    parts.append('<g class="x-axis">')
    for boundary, label in time_ticks(bins, bin_minutes, start):
        x = _number(_boundary_x(boundary, bins))
        anchor = "start" if boundary == 0 else ("end" if boundary == bins else "middle")
        parts.append(
            f'<line x1="{x}" x2="{x}" y1="{_number(plot_bottom)}" y2="{_number(plot_bottom + 5)}" '
            'stroke="#666"/>'
            f'<text class="time-label" x="{x}" y="{_number(plot_bottom + 18)}" font-size="12" '
            f'text-anchor="{anchor}" fill="#444" {FONT}>{escape(label)}</text>'
        )
    axis_title = "time (UTC)" if start is None else f"time (UTC), from {start.strftime('%Y-%m-%d %H:%M')}"
    parts.append(
        f'<text class="axis-title" x="{PLOT_LEFT + PLOT_WIDTH / 2}" y="{_number(total_height - 6)}" '
        f'font-size="12" text-anchor="middle" fill="#333" {FONT}>{escape(axis_title)} · '
        f"{bins} bins of {bin_minutes} min</text></g>",
    )
    parts.append(
        f'<line class="cursor" x1="0" x2="0" y1="{LEGEND_HEIGHT + 8}" y2="{_number(plot_bottom)}" '
        'stroke="#333" stroke-width="1" visibility="hidden"/>'
    )
    parts.append("</svg>")
    data = {
        "bins": bins,
        "binMinutes": bin_minutes,
        "startUtc": start.strftime("%Y-%m-%dT%H:%M:%SZ") if start is not None else None,
        "series": {name: _json_values(v) for panel in panels for name, v in panel.series.items()},
        "colours": colours,
    }
    return NodeChart(node_id, "".join(parts), json.dumps(data, separators=(",", ":")))


def node_panels(run: ReplayRun, item: NodeSeries) -> tuple[list[Panel], list[Color]]:
    """The panels of one node and its per-bin ``/state`` colour."""
    v = item.values
    flows = {m: v[m] for m in FLOW_METRICS if v.get(m) is not None}
    panels = [Panel("per bin", flows)]  # type: ignore[arg-type]
    queue = v.get("queue")
    if queue is not None:
        panels.append(Panel("queue", {"queue": queue}))
    served = v["served"]
    capacity = v.get("capacity")
    util = utilization(served, capacity) if served is not None else None
    latency = latency_minutes(item.node, queue, served, run.grid.bin_minutes) if served is not None else None
    if util is not None:
        panels.append(
            Panel("utilisation", {"utilization": util}, references=((0.7, "0.7"), (0.9, "0.9")), min_top=1.0)
        )
    if latency is not None:
        sla = item.node.sla_min
        refs = ((sla, f"SLA {_label(sla)} min"), (1.5 * sla, "1.5 × SLA")) if sla and sla > 0 else ()
        panels.append(Panel("latency (min)", {"latencyMinutes": latency}, references=refs))
    # One owner of the colour rule (spec 06 §4): the same function /state uses, bin by bin.
    colours = [
        color(
            item.node,
            None if util is None or not math.isfinite(u) else u,
            None if latency is None or not math.isfinite(lat) else lat,
        )
        for u, lat in zip(
            (util if util is not None else np.full(run.grid.bins, np.nan)).tolist(),
            (latency if latency is not None else np.full(run.grid.bins, np.nan)).tolist(),
            strict=True,
        )
    ]
    return panels, colours


@np.errstate(all="ignore")
def node_charts_svg(data_root: Path, run_id: str) -> list[NodeChart]:
    """One figure per topology node over the whole run."""
    run = load_replay_run(data_root, run_id)
    charts: list[NodeChart] = []
    for item in load_node_series(run):
        panels, colours = node_panels(run, item)
        charts.append(
            node_chart(
                node_id=item.node.id,
                panels=panels,
                colours=colours,
                bins=run.grid.bins,
                bin_minutes=run.grid.bin_minutes,
                start=run.grid.start,
            )
        )
    return charts
