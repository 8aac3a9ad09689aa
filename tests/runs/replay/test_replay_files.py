"""Spec 06 §9 (/index, /series, /model) and spec 05 §2 ``canReplay``."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from replay_helpers import FixtureRun, series_id

from runs.errors import FlowtimeError
from runs.replay import can_replay, index_body, load_replay_run, model_bytes, series_csv

MakeRun = Callable[..., FixtureRun]


def test_index_body(fixture_run: FixtureRun) -> None:
    body = index_body(fixture_run.data_root, fixture_run.run_id)
    assert list(body) == ["schemaVersion", "grid", "series"]  # formats omitted
    assert json.dumps(body["grid"]) == json.dumps(
        {"bins": 4, "binSize": 5, "binUnit": "minutes", "timezone": "UTC", "align": "left", "binMinutes": 5}
    )
    assert body["series"] == [
        {
            "id": "extra_node@EXTRA_NODE@DEFAULT",
            "kind": "flow",
            "path": "series/extra_node@EXTRA_NODE@DEFAULT.csv",
            "unit": "entities/bin",
            "componentId": "EXTRA_NODE",
            "class": "DEFAULT",
            "points": 4,
            "hash": "sha256:" + "0" * 64,
        }
    ]


def test_index_grid_defaults_and_case_insensitive_keys(fixture_run: FixtureRun) -> None:
    path = fixture_run.run_dir / "series" / "index.json"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps(
            {
                "SchemaVersion": 1,
                "Grid": {"Bins": 4, "BinSize": 1, "BinUnit": "Hours", "Timezone": "", "align": "right"},
                "Series": [{"Id": "a@A@DEFAULT", "PATH": "series/a.csv"}],
            }
        ).encode()
    )
    body = index_body(fixture_run.data_root, fixture_run.run_id)
    assert body["grid"] == {
        "bins": 4,
        "binSize": 1,
        "binUnit": "hours",
        "timezone": "UTC",
        "align": "right",
        "binMinutes": 60,
    }
    assert body["series"][0]["id"] == "a@A@DEFAULT"
    assert body["series"][0]["path"] == "series/a.csv"
    assert body["series"][0]["hash"] is None


@pytest.mark.parametrize("content", [None, "{broken"])
def test_index_missing_or_unreadable_is_run_invalid(fixture_run: FixtureRun, content: str | None) -> None:
    path = fixture_run.run_dir / "series" / "index.json"
    if content is None:
        path.unlink()
    else:
        path.write_text(content)
    with pytest.raises(FlowtimeError) as err:
        index_body(fixture_run.data_root, fixture_run.run_id)
    assert (err.value.status, err.value.code) == (409, "run_invalid")
    with pytest.raises(FlowtimeError) as err:
        series_csv(fixture_run.data_root, fixture_run.run_id, "extra_node")
    assert err.value.code == "run_invalid"


def test_series_by_full_id_and_by_prefix(fixture_run: FixtureRun) -> None:
    expected = "t,value\n0,1\n1,2.5\n2,3\n3,4\n"
    assert series_csv(fixture_run.data_root, fixture_run.run_id, "extra_node@EXTRA_NODE@DEFAULT") == expected
    assert series_csv(fixture_run.data_root, fixture_run.run_id, "extra_node") == expected


def test_series_csv_is_canonical(make_run: MakeRun) -> None:
    run = make_run(mode="simulation")
    path = run.run_dir / "series" / f"{series_id('os_served')}.csv"
    path.write_bytes(b"\xef\xbb\xbfbin_index,value\r\n0,9.0\r\n1,6E0\r\n2,nan\r\n3,-0.0\r\n")
    text = series_csv(run.data_root, run.run_id, "os_served")
    assert text == "t,value\n0,9\n1,6\n2,NaN\n3,0\n"
    assert "\r" not in text and not text.startswith("\ufeff")


@pytest.mark.parametrize("wanted", ["nope", "extra", "EXTRA_NODE", "extra_node@EXTRA"])
def test_series_not_found(fixture_run: FixtureRun, wanted: str) -> None:
    with pytest.raises(FlowtimeError) as err:
        series_csv(fixture_run.data_root, fixture_run.run_id, wanted)
    assert (err.value.status, err.value.code) == (404, "series_not_found")


def test_series_file_missing_or_malformed_is_run_invalid(fixture_run: FixtureRun) -> None:
    path = fixture_run.run_dir / "series" / "extra_node@EXTRA_NODE@DEFAULT.csv"
    path.write_text("garbage")
    with pytest.raises(FlowtimeError) as err:
        series_csv(fixture_run.data_root, fixture_run.run_id, "extra_node")
    assert err.value.code == "run_invalid"
    path.unlink()
    with pytest.raises(FlowtimeError) as err:
        series_csv(fixture_run.data_root, fixture_run.run_id, "extra_node")
    assert err.value.code == "run_invalid"
    assert can_replay(load_replay_run(fixture_run.data_root, fixture_run.run_id)) is False


def test_index_path_outside_the_run_is_never_served(fixture_run: FixtureRun) -> None:
    (fixture_run.data_root / "outside.csv").write_text("t,value\n0,1\n1,1\n2,1\n3,1\n")
    path = fixture_run.run_dir / "series" / "index.json"
    data = json.loads(path.read_text())
    data["series"][0]["path"] = "../../outside.csv"
    path.write_text(json.dumps(data))
    with pytest.raises(FlowtimeError) as err:
        series_csv(fixture_run.data_root, fixture_run.run_id, "extra_node")
    assert err.value.code == "run_invalid"


def test_model_bytes_byte_for_byte(fixture_run: FixtureRun) -> None:
    raw = b"\xef\xbb\xbf" + (fixture_run.run_dir / "model" / "model.yaml").read_bytes().replace(
        b"\n", b"\r\n"
    )
    (fixture_run.run_dir / "model" / "model.yaml").write_bytes(raw)
    # The recorded hashes still name the old bytes: drop them so the run loads.
    for relative in ("run.json", "model/metadata.json"):
        data = json.loads((fixture_run.run_dir / relative).read_text())
        data.pop("modelHash")
        (fixture_run.run_dir / relative).write_text(json.dumps(data))
    assert model_bytes(fixture_run.data_root, fixture_run.run_id) == raw
    run = load_replay_run(fixture_run.data_root, fixture_run.run_id)
    import hashlib

    assert run.envelope.provenance_hash == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_model_of_missing_run_is_404(fixture_run: FixtureRun) -> None:
    with pytest.raises(FlowtimeError) as err:
        model_bytes(fixture_run.data_root, "other")
    assert err.value.code == "run_not_found"


def test_can_replay(fixture_run: FixtureRun, make_run: MakeRun) -> None:
    assert can_replay(load_replay_run(fixture_run.data_root, fixture_run.run_id)) is True
    # An optional metric that does not resolve does not stop replay …
    optional = make_run(run_id="run_optional", missing_csv={("OrderService", "capacity")})
    assert can_replay(load_replay_run(optional.data_root, optional.run_id)) is True
    # … a required one does.
    required = make_run(run_id="run_required", missing_csv={("SupportQueue", "queue")})
    assert can_replay(load_replay_run(required.data_root, required.run_id)) is False


def test_provenance_path_is_null_without_provenance(make_run: MakeRun) -> None:
    run = make_run(omit={"model/provenance.json"})
    metadata = load_replay_run(run.data_root, run.run_id)
    from runs.replay import build_metadata

    assert build_metadata(metadata)["storage"] == {
        "modelPath": "runs/run_state_fixture/model/model.yaml",
        "metadataPath": "runs/run_state_fixture/model/metadata.json",
        "provenancePath": None,
    }


def test_can_replay_dir(fixture_run: FixtureRun, make_run: MakeRun) -> None:
    from runs.replay import can_replay_dir

    assert can_replay_dir(fixture_run.data_root, fixture_run.run_id) is True
    assert can_replay_dir(fixture_run.data_root, "../etc") is False
    broken = make_run(run_id="run_broken", omit={"run.json"})
    assert can_replay_dir(broken.data_root, broken.run_id) is False


def test_run_warnings_for_the_run_response(make_run: MakeRun) -> None:
    from runs.replay import run_warnings

    run = make_run(run_warnings=["gap filled", {"message": "from an object"}, {"no": "message"}, "  "])
    assert run_warnings(load_replay_run(run.data_root, run.run_id)) == [
        {"code": "run_warning", "message": "gap filled", "severity": "info", "nodeId": None},
        {"code": "run_warning", "message": "from an object", "severity": "info", "nodeId": None},
    ]
