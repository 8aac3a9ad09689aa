"""Spec 06 §8: every error with its status, code, message and field, in the specified order."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from replay_helpers import FixtureRun, q

from runs.errors import FlowtimeError
from runs.replay import load_replay_run, parse_bin_query, parse_mode_query, state_snapshot, state_window
from runs.replay import loading as loading_module

MakeRun = Callable[..., FixtureRun]


def snapshot_error(run: FixtureRun, query: dict[str, list[str]]) -> FlowtimeError:
    with pytest.raises(FlowtimeError) as err:
        state_snapshot(run.data_root, run.run_id, query)
    return err.value


def window_error(run: FixtureRun, query: dict[str, list[str]], maximum: int = 500) -> FlowtimeError:
    with pytest.raises(FlowtimeError) as err:
        state_window(run.data_root, run.run_id, query, max_window_bins=maximum)
    return err.value


def summary(error: FlowtimeError) -> tuple[int, str, str, str | None]:
    field = error.errors[0].path if error.errors else None
    return error.status, error.code, error.detail, field


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"binIndex": []},
        {"binIndex": ["1", "2"]},
        {"binIndex": ["1.5"]},
        {"binIndex": ["abc"]},
        {"binIndex": ["1e3"]},
        {"binIndex": [""]},
        {"binIndex": [" 1"]},
        {"binIndex": ["+1"]},
        {"binIndex": ["1234567890"]},
        {"binIndex": ["1\n"]},
        {"binindex": ["1"]},
    ],
)
def test_bin_index_syntax(fixture_run: FixtureRun, query: dict[str, list[str]]) -> None:
    assert summary(snapshot_error(fixture_run, query)) == (
        400,
        "invalid_parameter",
        "binIndex query parameter is required and must be an integer.",
        "binIndex",
    )


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("-0", 0), ("123456789", 123456789), ("-5", -5)])
def test_parse_bin_query_accepts_integers(value: str, expected: int) -> None:
    assert parse_bin_query({"startBin": [value]}, "startBin") == expected


@pytest.mark.parametrize("value", ["-1", "4", "999999999"])
def test_bin_index_out_of_range(fixture_run: FixtureRun, value: str) -> None:
    assert summary(snapshot_error(fixture_run, {"binIndex": [value]})) == (
        400,
        "invalid_parameter",
        "binIndex must be between 0 and 3.",
        "binIndex",
    )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (q(endBin=3), "startBin", "startBin query parameter is required and must be an integer."),
        (q(startBin=0), "endBin", "endBin query parameter is required and must be an integer."),
        (
            q(startBin="1.5", endBin=3),
            "startBin",
            "startBin query parameter is required and must be an integer.",
        ),
        (q(startBin=0, endBin="abc"), "endBin", "endBin query parameter is required and must be an integer."),
        ({"startBin": ["0", "0"], "endBin": ["3"]}, "startBin", None),
        (q(startBin=-1, endBin=3), "startBin", "startBin must be between 0 and 3."),
        (q(startBin=4, endBin=3), "startBin", "startBin must be between 0 and 3."),
        (q(startBin=0, endBin=4), "endBin", "endBin must be between 0 and 3."),
        (q(startBin=2, endBin=1), "endBin", "endBin must be greater than or equal to startBin."),
        (q(startBin=0, endBin=3, mode="detailed"), "mode", "mode must be 'operational' or 'full'."),
        ({"startBin": ["0"], "endBin": ["3"], "mode": ["full", "full"]}, "mode", None),
        (q(startBin=0, endBin=3, mode=""), "mode", None),
    ],
)
def test_window_parameter_errors(
    fixture_run: FixtureRun, query: dict[str, list[str]], field: str, message: str | None
) -> None:
    status, code, detail, error_field = summary(window_error(fixture_run, query))
    assert (status, code, error_field) == (400, "invalid_parameter", field)
    if message is not None:
        assert detail == message


def test_parse_mode_query() -> None:
    assert parse_mode_query({}) == "operational"
    assert parse_mode_query({"mode": ["Operational"]}) == "operational"
    assert parse_mode_query({"mode": ["fULL"]}) == "full"


def test_query_syntax_comes_before_run_load(data_root: Path) -> None:
    with pytest.raises(FlowtimeError) as err:
        state_snapshot(data_root, "no_such_run", q(binIndex="x"))
    assert err.value.code == "invalid_parameter"
    with pytest.raises(FlowtimeError) as err:
        state_window(data_root, "../etc", q(startBin=0, endBin="y"), max_window_bins=500)
    assert err.value.code == "invalid_parameter"


def test_run_load_comes_before_bin_range(data_root: Path) -> None:
    with pytest.raises(FlowtimeError) as err:
        state_snapshot(data_root, "missing", q(binIndex=999))
    assert (err.value.status, err.value.code) == (404, "run_not_found")


def test_bin_range_comes_before_window_size_and_validation(make_run: MakeRun) -> None:
    run = make_run(
        mode="simulation",
        csv_overrides={("OrderService", "served"): "t,value\n0,NaN\n1,NaN\n2,NaN\n3,NaN\n"},
    )
    assert window_error(run, q(startBin=0, endBin=9), maximum=2).code == "invalid_parameter"
    assert window_error(run, q(startBin=0, endBin=3), maximum=2).code == "window_too_large"
    assert window_error(run, q(startBin=0, endBin=3), maximum=4).code == "mode_validation_failed"


@pytest.mark.parametrize("run_id", ["../etc", "..", ".staging", "", "a/b", "a" * 129, "run id", "-x"])
def test_bad_run_id_is_404_without_disk_access(
    data_root: Path, monkeypatch: pytest.MonkeyPatch, run_id: str
) -> None:
    def no_disk(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("disk access before the run id was checked")

    monkeypatch.setattr(loading_module.Path, "is_dir", no_disk)
    monkeypatch.setattr(loading_module, "read_document", no_disk)
    with pytest.raises(FlowtimeError) as err:
        load_replay_run(data_root, run_id)
    assert (err.value.status, err.value.code) == (404, "run_not_found")


def test_missing_run_directory_is_404(data_root: Path) -> None:
    with pytest.raises(FlowtimeError) as err:
        state_snapshot(data_root, "run_nope", q(binIndex=0))
    assert (err.value.status, err.value.code, err.value.detail) == (
        404,
        "run_not_found",
        "Run 'run_nope' was not found.",
    )


def test_a_file_named_like_a_run_is_404(data_root: Path) -> None:
    (data_root / "runs").mkdir()
    (data_root / "runs" / "run_file").write_text("x")
    with pytest.raises(FlowtimeError) as err:
        load_replay_run(data_root, "run_file")
    assert err.value.code == "run_not_found"


@pytest.mark.parametrize("missing", ["run.json", "model/model.yaml", "model/metadata.json"])
def test_missing_required_file_is_run_invalid(make_run: MakeRun, missing: str) -> None:
    run = make_run(omit={missing})
    error = snapshot_error(run, q(binIndex=0))
    assert (error.status, error.code) == (409, "run_invalid")
    assert str(run.data_root) not in error.detail


@pytest.mark.parametrize(
    ("relative", "content"),
    [
        ("run.json", "{not json"),
        ("run.json", "[1, 2]"),
        ("model/metadata.json", '"text"'),
        ("model/model.yaml", "grid: [unclosed"),
        ("model/model.yaml", "- a list\n"),
        ("model/model.yaml", "a: 1\na: 2\n"),
    ],
)
def test_unparseable_required_file_is_run_invalid(make_run: MakeRun, relative: str, content: str) -> None:
    run = make_run()
    (run.run_dir / relative).write_text(content)
    error = window_error(run, q(startBin=0, endBin=1))
    assert (error.status, error.code) == (409, "run_invalid")


def _edit_model(run: FixtureRun, old: str, new: str) -> None:
    """Change the model text and drop the recorded hashes so only the edit matters."""
    path = run.run_dir / "model" / "model.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    for relative in ("run.json", "model/metadata.json"):
        data = json.loads((run.run_dir / relative).read_text())
        data.pop("modelHash")
        (run.run_dir / relative).write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("topology:", "topology_gone:"),
        ("binUnit: minutes", "binUnit: seconds"),
        ("bins: 4", "bins: 0"),
        ("bins: 4", "bins: four"),
        ("binSize: 5", "binSize: -5"),
        ("startTimeUtc: '2025-01-01T00:00:00Z'", "startTimeUtc: yesterday"),
        ("startTimeUtc: '2025-01-01T00:00:00Z'", "startTimeUtc: '2025-01-01T00:00:00+02:00'"),
        ("grid:", "grid: 7\nold_grid:"),
    ],
)
def test_bad_model_is_run_invalid(make_run: MakeRun, old: str, new: str) -> None:
    run = make_run()
    _edit_model(run, old, new)
    error = snapshot_error(run, q(binIndex=0))
    assert (error.status, error.code) == (409, "run_invalid")


@pytest.mark.parametrize(
    "overrides",
    [
        {("OrderService", "arrivals"): ""},
        {("OrderService", "arrivals"): "   "},
        {("SupportQueue", "served"): None},
    ],
)
def test_topology_node_without_arrivals_or_served_is_run_invalid(
    make_run: MakeRun, overrides: dict[tuple[str, str], str | None]
) -> None:
    run = make_run(semantics_overrides=overrides)
    assert summary(snapshot_error(run, q(binIndex=0)))[:2] == (409, "run_invalid")


def test_empty_topology_is_run_invalid(make_run: MakeRun) -> None:
    run = make_run()
    path = run.run_dir / "model" / "model.yaml"
    text = path.read_text()
    start = text.index("topology:")
    end = text.index("nodes:\n- id: os") if "nodes:\n- id: os" in text else text.index("\nnodes:")
    path.write_text(text[:start] + "topology: {nodes: []}" + text[end:])
    for relative in ("run.json", "model/metadata.json"):
        data = json.loads((run.run_dir / relative).read_text())
        data.pop("modelHash")
        (run.run_dir / relative).write_text(json.dumps(data))
    assert snapshot_error(run, q(binIndex=0)).code == "run_invalid"


@pytest.mark.parametrize(
    ("key", "value"),
    [("mode", "replay"), ("schemaVersion", 0), ("schemaVersion", "two")],
)
def test_bad_metadata_values_are_run_invalid(make_run: MakeRun, key: str, value: Any) -> None:
    run = make_run()
    path = run.run_dir / "model" / "metadata.json"
    data = json.loads(path.read_text())
    data[key] = value
    path.write_text(json.dumps(data))
    assert snapshot_error(run, q(binIndex=0)).code == "run_invalid"


def test_missing_template_id_is_run_invalid(make_run: MakeRun) -> None:
    run = make_run()
    path = run.run_dir / "model" / "metadata.json"
    data = json.loads(path.read_text())
    data.pop("templateId")
    path.write_text(json.dumps(data))
    # Falls back to the model's metadata.id …
    assert (
        state_snapshot(run.data_root, run.run_id, q(binIndex=0))["metadata"]["templateId"] == "order-system"
    )
    _edit_model(run, "id: order-system", "name: order-system")
    # … and with neither it is invalid.
    assert snapshot_error(run, q(binIndex=0)).code == "run_invalid"


def test_provenance_mismatch_message_has_no_path(make_run: MakeRun) -> None:
    run = make_run(run_model_hash="ABAB" * 16)
    error = snapshot_error(run, q(binIndex=0))
    assert (error.status, error.code) == (409, "provenance_mismatch")
    assert "sha256:" + "abab" * 16 in error.detail
    assert str(run.data_root) not in error.detail


def test_malformed_informational_hash_is_not_compared(make_run: MakeRun) -> None:
    run = make_run(run_model_hash="sha256:demo")
    body = state_snapshot(run.data_root, run.run_id, q(binIndex=0))
    assert body["metadata"]["provenanceHash"] == run.model_hash
