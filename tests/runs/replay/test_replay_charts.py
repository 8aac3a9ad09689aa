"""Admin run page charts: one small SVG per topology node, one ``<path>`` per present series."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import numpy as np
from replay_helpers import FixtureRun

from runs.replay import node_charts_svg
from runs.replay.charts import line_path, node_chart_svg

MakeRun = Callable[..., FixtureRun]
SVG = "{http://www.w3.org/2000/svg}"


def test_one_path_per_present_series(fixture_run: FixtureRun) -> None:
    charts = node_charts_svg(fixture_run.data_root, fixture_run.run_id)
    assert [c.node_id for c in charts] == ["OrderService", "SupportQueue"]
    for chart, expected in zip(
        charts, [["arrivals", "served", "errors"], ["arrivals", "served", "errors", "queue"]], strict=True
    ):
        root = ET.fromstring(chart.svg)
        paths = root.findall(f"{SVG}path")
        assert [p.get("data-series") for p in paths] == expected
        legend = [t.text for t in root.findall(f"{SVG}text")]
        assert all(name in legend for name in expected)
        assert root.find(f"{SVG}title").text == chart.node_id  # type: ignore[union-attr]
        assert "http://" not in chart.svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "<script" not in chart.svg


def test_gaps_break_the_line() -> None:
    values = np.array([1.0, np.nan, 3.0, 4.0, np.inf, 2.0])
    d = line_path(values, 0.0, 4.0)
    assert re.findall(r"[ML]", d) == ["M", "M", "L", "M"]


def test_all_null_series_still_has_its_path_and_text_is_escaped() -> None:
    svg = node_chart_svg("<Node&1>", {"arrivals": np.array([np.nan, np.nan]), "served": np.array([1.0, 2.0])})
    root = ET.fromstring(svg)
    paths = root.findall(f"{SVG}path")
    assert len(paths) == 2 and paths[0].get("d") == ""
    assert "<Node&1>" not in svg and "&lt;Node&amp;1&gt;" in svg


def test_long_series_are_drawn_as_an_envelope_that_keeps_extremes_and_gaps() -> None:
    from runs.replay.charts import line_path

    values = np.zeros(10_000)
    values[1234] = 100.0  # a one-bin spike must survive the reduction
    values[5000:6000] = np.nan  # a long gap must stay a gap
    path = line_path(values, 0.0, 100.0)
    points = path.split(" M")
    assert len(points) == 2  # one break, at the gap
    coordinates = [c for c in path.replace("M", "").replace("L", "").split()]
    assert len(coordinates) // 2 <= 2 * 276  # about two points per pixel of the plot, not 10,000
    ys = [float(y) for y in coordinates[1::2]]
    assert min(ys) == 8.0  # the spike reaches the top of the plot (y = _PLOT_TOP)
    assert max(ys) == 90.0  # zeros sit on the bottom (y = _HEIGHT - _PLOT_BOTTOM)


def test_short_series_keep_every_point() -> None:
    from runs.replay.charts import line_path

    path = line_path(np.array([0.0, 5.0, 10.0]), 0.0, 10.0)
    assert path == "M36 90 L174 49 L312 8"
