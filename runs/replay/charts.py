"""Small server-side SVG line charts of each topology node for the admin run page.

Self-contained markup (no scripts, no external resources); every text is escaped. A bin without a
finite value breaks the line: the next finite point starts a new ``M`` segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from runs.replay.loading import load_replay_run
from runs.replay.metrics import load_node_series
from runs.replay.series_cache import FloatArray

CHART_METRICS = ("arrivals", "served", "errors", "queue")
_COLOURS = {"arrivals": "#1f77b4", "served": "#2ca02c", "errors": "#d62728", "queue": "#9467bd"}
_WIDTH = 320
_HEIGHT = 120
_PLOT_LEFT = 36
_PLOT_RIGHT = 8
_PLOT_TOP = 8
_PLOT_BOTTOM = 30


@dataclass(frozen=True)
class NodeChart:
    node_id: str
    svg: str


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


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


def line_path(values: FloatArray, y_min: float, y_max: float) -> str:
    """The ``d`` attribute for ``values``: ``M`` at each segment start, ``L`` after; gaps skipped."""
    plot_width = _WIDTH - _PLOT_LEFT - _PLOT_RIGHT
    plot_height = _HEIGHT - _PLOT_TOP - _PLOT_BOTTOM
    count = len(values)
    step = plot_width / (count - 1) if count > 1 else 0.0
    scale = plot_height / (y_max - y_min) if y_max > y_min else 0.0
    if count > 2 * plot_width:
        positions, points = _envelope(values, plot_width)
    else:
        positions, points = np.arange(count, dtype=np.float64), values
    commands: list[str] = []
    pen_down = False
    for position, value in zip(positions.tolist(), points.tolist(), strict=True):
        if not np.isfinite(value):
            pen_down = False
            continue
        x = _PLOT_LEFT + position * step
        y = _PLOT_TOP + plot_height - (value - y_min) * scale
        commands.append(f"{'L' if pen_down else 'M'}{_number(x)} {_number(y)}")
        pen_down = True
    return " ".join(commands)


def node_chart_svg(node_id: str, series: dict[str, FloatArray]) -> str:
    """One chart: a ``<path>`` per series in ``series`` (order kept), axis labels and a legend."""
    finite_maxima = [float(np.nanmax(v)) for v in series.values() if np.isfinite(v).any()]
    y_max = max([0.0, *finite_maxima])
    y_min = min([0.0, *(float(np.nanmin(v)) for v in series.values() if np.isfinite(v).any())])
    title = escape(node_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{title}">',
        f"<title>{title}</title>",
        f'<rect x="{_PLOT_LEFT}" y="{_PLOT_TOP}" width="{_WIDTH - _PLOT_LEFT - _PLOT_RIGHT}" '
        f'height="{_HEIGHT - _PLOT_TOP - _PLOT_BOTTOM}" fill="none" stroke="#ccc"/>',
        f'<text x="{_PLOT_LEFT - 4}" y="{_PLOT_TOP + 8}" font-size="9" text-anchor="end">'
        f"{escape(_number(y_max))}</text>",
        f'<text x="{_PLOT_LEFT - 4}" y="{_HEIGHT - _PLOT_BOTTOM}" font-size="9" text-anchor="end">'
        f"{escape(_number(y_min))}</text>",
    ]
    for metric, values in series.items():
        colour = _COLOURS.get(metric, "#555")
        parts.append(
            f'<path d="{line_path(values, y_min, y_max)}" fill="none" stroke="{colour}" stroke-width="1.5" '
            f'data-series="{escape(metric)}"/>'
        )
    for position, metric in enumerate(series):
        x = _PLOT_LEFT + position * 70
        colour = _COLOURS.get(metric, "#555")
        parts.append(
            f'<rect x="{x}" y="{_HEIGHT - 14}" width="8" height="8" fill="{colour}"/>'
            f'<text x="{x + 11}" y="{_HEIGHT - 7}" font-size="9">{escape(metric)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@np.errstate(all="ignore")
def node_charts_svg(data_root: Path, run_id: str) -> list[NodeChart]:
    """One chart per topology node over the whole run: arrivals, served, errors, queue when present."""
    run = load_replay_run(data_root, run_id)
    charts: list[NodeChart] = []
    for item in load_node_series(run):
        series: dict[str, FloatArray] = {}
        for metric in CHART_METRICS:
            values = item.values[metric]
            if values is not None:
                series[metric] = values
        charts.append(NodeChart(item.node.id, node_chart_svg(item.node.id, series)))
    return charts
