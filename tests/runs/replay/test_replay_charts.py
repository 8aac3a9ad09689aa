"""Admin run page charts: full-width SVG per topology node with a time axis, y ticks, a legend, per-panel
axes, state shading by the /state colour rules and hover data."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import numpy as np
from replay_helpers import FixtureRun

from runs.replay import node_charts_svg
from runs.replay.charts import Panel, line_path, nice_ticks, node_chart, time_ticks

SVG = "{http://www.w3.org/2000/svg}"


def series_of(svg: str) -> list[str]:
    return [p.get("data-series") or "" for p in ET.fromstring(svg).iter(f"{SVG}path")]


def test_panels_per_node_flows_queue_utilisation_latency(fixture_run: FixtureRun) -> None:
    charts = node_charts_svg(fixture_run.data_root, fixture_run.run_id)
    assert [c.node_id for c in charts] == ["OrderService", "SupportQueue"]
    # OrderService has capacity: utilisation gets its own panel. SupportQueue is a queue node with
    # slaMin: the queue on its own axis, latency against the SLA.
    assert series_of(charts[0].svg) == ["arrivals", "served", "errors", "capacity", "utilization"]
    assert series_of(charts[1].svg) == ["arrivals", "served", "errors", "queue", "latencyMinutes"]
    panels = [
        g.get("data-panel") for g in ET.fromstring(charts[1].svg).iter(f"{SVG}g") if g.get("data-panel")
    ]
    assert panels == ["per bin", "queue", "latency (min)"]
    for chart in charts:
        root = ET.fromstring(chart.svg)
        legend = [g.get("data-series") for g in root.iter(f"{SVG}g") if g.get("class") == "legend-item"]
        assert legend[: len(series_of(chart.svg))] == series_of(chart.svg)
        assert root.find(f"{SVG}title").text == chart.node_id  # type: ignore[union-attr]
        assert "<script" not in chart.svg
        assert "http://" not in chart.svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_state_shading_follows_the_spec_06_worked_example(fixture_run: FixtureRun) -> None:
    """Spec 06 §10: OrderService yellow, yellow, red, red; SupportQueue green, red, red, green."""
    charts = node_charts_svg(fixture_run.data_root, fixture_run.run_id)
    assert json.loads(charts[0].data)["colours"] == ["yellow", "yellow", "red", "red"]
    assert json.loads(charts[1].data)["colours"] == ["green", "red", "red", "green"]
    rects = [
        (r.get("class"), r.get("x"), r.get("width"))
        for r in ET.fromstring(charts[0].svg).iter(f"{SVG}rect")
        if (r.get("class") or "").startswith("state-")
    ]
    # Plot from x=70, 910 wide, 4 bins of 227.5: one rect per run of equal colours.
    assert rects == [("state-yellow", "70", "455"), ("state-red", "525", "455")]
    queue_rects = [r.get("class") for r in ET.fromstring(charts[1].svg).iter(f"{SVG}rect") if r.get("class")]
    assert queue_rects == ["state-red"]  # green bins are not shaded


def test_hover_data_holds_every_value_per_bin(fixture_run: FixtureRun) -> None:
    data = json.loads(node_charts_svg(fixture_run.data_root, fixture_run.run_id)[0].data)
    assert data["bins"] == 4 and data["binMinutes"] == 5 and data["startUtc"] == "2025-01-01T00:00:00Z"
    assert data["series"]["arrivals"] == [10, 10, 10, 10]
    assert data["series"]["capacity"] == [12, 7, 9, 4]
    assert data["series"]["utilization"] == [0.75, round(6 / 7, 6), 1.0, 1.0]


def test_time_axis_is_labelled_in_utc() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert time_ticks(4, 5, start) == [(0, "00:00"), (1, "00:05"), (2, "00:10"), (3, "00:15"), (4, "00:20")]
    # 288 five-minute bins (a day): a label every 30 bins (2.5 h), never more than about ten.
    day = time_ticks(288, 5, start)
    assert day[:3] == [(0, "00:00"), (30, "02:30"), (60, "05:00")] and len(day) == 10
    assert time_ticks(48, 60, start)[:2] == [(0, "01-01 00:00"), (5, "01-01 05:00")]
    assert time_ticks(3, 5, None) == [(0, "bin 0"), (1, "bin 1"), (2, "bin 2"), (3, "bin 3")]


def test_y_ticks_are_round_numbers() -> None:
    assert nice_ticks(0, 18) == [0, 5, 10, 15, 20]
    assert nice_ticks(0, 719) == [0, 200, 400, 600, 800]
    assert nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_infinities_and_nan_are_gaps_and_the_svg_stays_valid() -> None:
    values = np.array([1.0, np.inf, 3.0, -np.inf, np.nan, 2.0])
    chart = node_chart(
        node_id="<Node&1>",
        panels=[Panel("per bin", {"arrivals": values, "served": np.full(6, np.nan)})],
        colours=["gray"] * 6,
        bins=6,
        bin_minutes=5,
        start=None,
    )
    root = ET.fromstring(chart.svg)  # parses: no 'inf' or 'nan' coordinates
    assert not re.search(r"nan|inf", chart.svg.replace("Infinity", ""), re.I)
    paths = {p.get("data-series"): p.get("d") for p in root.iter(f"{SVG}path")}
    assert re.findall(r"[ML]", paths["arrivals"] or "") == ["M", "M", "M"]
    assert paths["served"] == ""
    # The y axis covers the finite values only: ticks 0..3.
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "y-tick"]
    assert ticks == ["0", "1", "2", "3"]
    assert json.loads(chart.data)["series"]["arrivals"] == [1.0, None, 3.0, None, None, 2.0]
    assert "<Node&1>" not in chart.svg and "&lt;Node&amp;1&gt;" in chart.svg


def test_short_series_keep_every_point_at_bin_centres() -> None:
    # 3 bins over x 70..980: centres at 70 + (i + 0.5) * 910 / 3; y from 100 (value 0) to 0 (value 10).
    assert line_path(np.array([0.0, 5.0, 10.0]), top=0, height=100, y_min=0, y_max=10) == (
        "M221.67 100 L525 50 L828.33 0"
    )


def test_long_series_are_drawn_as_an_envelope_that_keeps_extremes_and_gaps() -> None:
    values = np.zeros(10_000)
    values[1234] = 100.0  # a one-bin spike must survive the reduction
    values[5000:6000] = np.nan  # a long gap must stay a gap
    path = line_path(values, top=10, height=200, y_min=0, y_max=100)
    assert len(path.split(" M")) == 2  # one break, at the gap
    coordinates = path.replace("M", "").replace("L", "").split()
    assert len(coordinates) // 2 <= 2 * 910  # about two points per pixel of the plot, not 10,000
    ys = [float(y) for y in coordinates[1::2]]
    assert min(ys) == 10.0 and max(ys) == 210.0
