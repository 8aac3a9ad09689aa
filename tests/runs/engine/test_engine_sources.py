"""File source resolution, confinement and the strict CSV reader (spec 02 §8)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from runs.engine import evaluate, load_model, read_series_csv, resolve_file_source
from runs.errors import ModelError

URI = "file:x.csv"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def read(tmp_path: Path, text: str | bytes, bins: int = 3) -> list[float]:
    return read_series_csv(write(tmp_path / "x.csv", text), bins=bins, uri=URI).tolist()


def csv_error(tmp_path: Path, text: str | bytes, bins: int = 3) -> tuple[str, str]:
    with pytest.raises(ModelError) as caught:
        read(tmp_path, text, bins)
    (issue,) = caught.value.errors
    return issue.code, issue.message


# --- CSV ---------------------------------------------------------------------------------------


def test_empty_value_is_nan(tmp_path: Path) -> None:
    values = read(tmp_path, "bin_index,value\n0,10\n1,\n2,30\n")
    assert values[0] == 10 and values[2] == 30
    assert math.isnan(values[1])


def test_nan_and_infinity_spellings(tmp_path: Path) -> None:
    values = read(tmp_path, "bin_index,value\n0,\n1,NaN\n2,-Infinity\n")
    assert math.isnan(values[0]) and math.isnan(values[1])
    assert values[2] == -math.inf
    values = read(tmp_path, "bin_index,value\n0,inf\n1,+INF\n2,infinity\n")
    assert values == [math.inf, math.inf, math.inf]


def test_numbers_bom_crlf_header_case_blank_lines_and_any_row_order(tmp_path: Path) -> None:
    text = "\ufeffBIN_INDEX,Value \r\n\r\n2, 1e3 \r\n 0 ,.5\r\n\r\n1,-5.\r\n"
    assert read(tmp_path, text.encode("utf-8")) == [0.5, -5.0, 1000.0]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("bin_index,value\n0,10\n2,30\n", None),  # bin 1 missing
        ("index,value\n0,1\n1,2\n2,3\n", 1),
        ("\nbin_index,value\n0,1\n1,2\n2,3\n", 1),
        ("bin_index,value\n0,1\n1,2\n3,3\n", 4),
        ("bin_index,value\n0,1\n1,2\n1,3\n", 4),
        ("bin_index,value\n0,1\n1,abc\n2,3\n", 3),
        ("bin_index,value\n0,1\n1,2,3\n2,3\n", 3),
        ("bin_index,value\n0,1\n1\n2,3\n", 3),
        ("bin_index,value\n0,1\n-1,2\n2,3\n", 3),
        ("bin_index,value\n0,1\n1.0,2\n2,3\n", 3),
        ("bin_index,value\n0,1\n1,1_000\n2,3\n", 3),
        ("bin_index,value\n0,1\n1,0x10\n2,3\n", 3),
        ("bin_index,value\n0,1\n1,+nan\n2,3\n", 3),
        ("", 1),
    ],
)
def test_csv_invalid_names_the_uri_and_the_line(tmp_path: Path, text: str, line: int | None) -> None:
    code, message = csv_error(tmp_path, text)
    assert code == "csv_invalid"
    assert message.startswith(URI)
    if line is None:
        assert "missing bin 1" in message
    else:
        assert f"line {line}:" in message


def test_csv_that_is_not_utf8(tmp_path: Path) -> None:
    code, message = csv_error(tmp_path, b"bin_index,value\n0,1\n1,\xff\n2,3\n")
    assert (code, "line 3" in message) == ("csv_invalid", True)


def test_missing_file_is_source_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        read_series_csv(tmp_path / "nope.csv", bins=3, uri="file:nope.csv")
    (issue,) = caught.value.errors
    assert issue.code == "source_not_found"
    assert "file:nope.csv" in issue.message


# --- resolution --------------------------------------------------------------------------------


def invalid(uri: str, **kwargs: Path | None) -> str:
    with pytest.raises(ModelError) as caught:
        resolve_file_source(uri, **{"model_dir": None, "confine_to": None, **kwargs})  # type: ignore[arg-type]
    (issue,) = caught.value.errors
    assert issue.code == "source_invalid"
    return issue.message


def test_relative_forms_resolve_against_the_model_dir(tmp_path: Path) -> None:
    model_dir = tmp_path / "run" / "model"
    run_dir = tmp_path / "run"
    assert resolve_file_source("file:x.csv", model_dir=model_dir, confine_to=run_dir) == model_dir / "x.csv"
    assert (
        resolve_file_source("file:sub/x.csv", model_dir=model_dir, confine_to=None)
        == model_dir / "sub" / "x.csv"
    )
    expected = model_dir / "telemetry" / "a" / "b.csv"
    assert (
        resolve_file_source("file://telemetry/a/b.csv", model_dir=model_dir, confine_to=run_dir) == expected
    )
    assert (
        resolve_file_source("FILE://Telemetry/a/b.csv", model_dir=model_dir, confine_to=run_dir) == expected
    )


def test_percent_escapes_are_decoded_once(tmp_path: Path) -> None:
    got = resolve_file_source("file:my%20data%25252e.csv", model_dir=tmp_path, confine_to=tmp_path)
    assert got == tmp_path / "my data%252e.csv"


def test_absolute_forms_only_when_unconfined(tmp_path: Path) -> None:
    assert resolve_file_source("file:///etc/x.csv", model_dir=None, confine_to=None) == Path("/etc/x.csv")
    assert resolve_file_source("file:/etc/x.csv", model_dir=None, confine_to=None) == Path("/etc/x.csv")
    invalid("file:///etc/x.csv", model_dir=tmp_path, confine_to=tmp_path)
    invalid("file:/etc/x.csv", model_dir=tmp_path, confine_to=tmp_path)


def test_dot_dot_is_invalid_under_confinement_only(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    invalid("file:../x.csv", model_dir=model_dir, confine_to=tmp_path)
    invalid("file:%2e%2e/x.csv", model_dir=model_dir, confine_to=tmp_path)
    invalid("file://telemetry/../../x.csv", model_dir=model_dir, confine_to=tmp_path)
    assert (
        resolve_file_source("file:../x.csv", model_dir=model_dir, confine_to=None)
        == model_dir / ".." / "x.csv"
    )


@pytest.mark.parametrize(
    "uri",
    [
        "file://otherhost/x.csv",
        "http://example.com/x.csv",
        "x.csv",
        "/abs/x.csv",
        "file:a\\b.csv",
        "file:a%5Cb.csv",
        "file:",
        "file://telemetry/",
        "file:%2Fetc%2Fx.csv",
        "file:%ff.csv",
    ],
)
def test_malformed_uris(tmp_path: Path, uri: str) -> None:
    invalid(uri, model_dir=tmp_path)


def test_relative_form_without_model_dir(tmp_path: Path) -> None:
    assert "model directory" in invalid("file:x.csv")


def test_symlink_escaping_confinement_is_invalid(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.csv", "bin_index,value\n0,1\n")
    run_dir = tmp_path / "run"
    (run_dir / "model").mkdir(parents=True)
    os.symlink(outside, run_dir / "model" / "link.csv")
    os.symlink(tmp_path / "outside", run_dir / "model" / "dir")
    invalid("file:link.csv", model_dir=run_dir / "model", confine_to=run_dir)
    invalid("file:dir/secret.csv", model_dir=run_dir / "model", confine_to=run_dir)
    # Unconfined (trusted callers), the same link is followed.
    assert (
        resolve_file_source("file:link.csv", model_dir=run_dir / "model", confine_to=None)
        == run_dir / "model" / "link.csv"
    )


def test_symlink_inside_confinement_is_fine(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    target = write(run_dir / "data" / "x.csv", "bin_index,value\n0,1\n")
    (run_dir / "model").mkdir()
    os.symlink(target, run_dir / "model" / "x.csv")
    assert (
        resolve_file_source("file:x.csv", model_dir=run_dir / "model", confine_to=run_dir)
        == run_dir / "model" / "x.csv"
    )


# --- sources in evaluate -----------------------------------------------------------------------

GRID_3 = {"bins": 3, "binSize": 1, "binUnit": "hours"}


def test_source_wins_over_values_without_length_error(tmp_path: Path) -> None:
    write(tmp_path / "x.csv", "bin_index,value\n0,7\n1,8\n2,9\n")
    model = load_model(
        {
            "grid": GRID_3,
            "nodes": [
                {"id": "a", "values": [1, 2], "source": "file:x.csv"},
                {"id": "b", "kind": "expr", "expr": "a * 2"},
            ],
        }
    )
    series = evaluate(model, model_dir=tmp_path, confine_to=tmp_path).series
    assert series["a"].tolist() == [7, 8, 9]
    assert series["b"].tolist() == [14, 16, 18]


def test_every_source_issue_is_raised_together_before_computing(tmp_path: Path) -> None:
    write(tmp_path / "run" / "model" / "bad.csv", "bin_index,value\n0,1\n")
    model = load_model(
        {
            "grid": GRID_3,
            "nodes": [
                {"id": "a", "source": "file:../x.csv"},
                {"id": "b", "source": "file:///etc/x.csv"},
                {"id": "c", "source": "file:missing.csv"},
                {"id": "d", "source": "file:bad.csv"},
            ],
        }
    )
    calls: list[None] = []
    with pytest.raises(ModelError) as caught:
        evaluate(
            model,
            model_dir=tmp_path / "run" / "model",
            confine_to=tmp_path / "run",
            cancel=lambda: calls.append(None),
        )
    assert [(i.code, i.path) for i in caught.value.errors] == [
        ("source_invalid", "nodes[0].source"),
        ("source_invalid", "nodes[1].source"),
        ("source_not_found", "nodes[2].source"),
        ("csv_invalid", "nodes[3].source"),
    ]
    assert calls == []


def test_telemetry_host_source_in_a_run(tmp_path: Path) -> None:
    write(tmp_path / "model" / "telemetry" / "arr.csv", "bin_index,value\n0,1\n1,2\n2,3\n")
    model = load_model({"grid": GRID_3, "nodes": [{"id": "a", "source": "file://telemetry/arr.csv"}]})
    assert evaluate(model, model_dir=tmp_path / "model", confine_to=tmp_path).series["a"].tolist() == [
        1,
        2,
        3,
    ]


def test_the_flowtime_fixture_bundle_reads_strictly() -> None:
    from tests_fixtures import FIXTURE_BUNDLE as bundle

    files = sorted(bundle.glob("*.csv"))
    assert len(files) == 9
    for path in files:
        assert read_series_csv(path, bins=6, uri=f"file:{path.name}").shape == (6,)
    arrivals = read_series_csv(
        bundle / "AuthService_arrivals.csv", bins=6, uri="file:AuthService_arrivals.csv"
    )
    assert arrivals[:2].tolist() == [95, 145]


@pytest.mark.parametrize("cell", ["\u0661", "1\u0660", "\uff11"])  # Arabic-Indic and full-width digits
def test_csv_values_are_ascii_digits_only(tmp_path: Path, cell: str) -> None:
    from runs.engine import read_series_csv
    from runs.errors import ModelError

    path = tmp_path / "x.csv"
    path.write_text(f"bin_index,value\n0,{cell}\n", encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        read_series_csv(path, bins=1, uri="file:x.csv")
    assert caught.value.errors[0].code == "csv_invalid"
