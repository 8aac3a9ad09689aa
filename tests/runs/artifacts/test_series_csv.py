"""Series CSV text (spec 03 §3.5): byte-exact with format_number, and fast."""

from __future__ import annotations

import hashlib

import numpy as np

from runs.artifacts import format_values, series_csv_bytes
from runs.canonical import format_number

TRICKY = [
    0.1,
    1e-05,
    1e16,
    1e15 + 0.5,
    -0.0,
    0.0,
    float("nan"),
    float("inf"),
    float("-inf"),
    1 / 3,
    123456789012345.0,
    10.0,
    -3.0,
    9999999999999998.0,
    -1e16,
    2.0**60,
    5e-324,
    1.7976931348623157e308,
    -0.64,
    0.0001,
]


def test_csv_vector_of_the_spec() -> None:
    data = series_csv_bytes(np.array([10.0, 20.0, 30.0]))
    assert data == b"t,value\n0,10\n1,20\n2,30\n"
    assert (
        "sha256:" + hashlib.sha256(data).hexdigest()
        == "sha256:9306bf58b048d23a0e8e4ba0a64c6fc5301b48bd98ff452ce464e64ff374bfc9"
    )


def test_tricky_values_match_format_number() -> None:
    assert format_values(np.array(TRICKY)) == [format_number(v) for v in TRICKY]


def test_tricky_values_by_hand() -> None:
    assert format_values(np.array([0.1, 1e-05, 1e16, -0.0, float("nan"), float("inf"), float("-inf")])) == [
        "0.1",
        "1e-05",
        "1e+16",
        "0",
        "NaN",
        "Infinity",
        "-Infinity",
    ]
    assert format_values(np.array([1 / 3, 123456789012345.0, 1e15 + 0.5])) == [
        "0.3333333333333333",
        "123456789012345",
        "1000000000000000.5",
    ]


def test_all_integral_array_takes_the_bulk_path_correctly() -> None:
    values = np.array([0.0, -0.0, 1.0, -7.0, 9007199254740992.0, 1e15])
    assert format_values(values) == ["0", "0", "1", "-7", "9007199254740992", "1000000000000000"]


def test_random_values_match_format_number() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [
            rng.normal(0, 1e6, 2000),
            np.round(rng.normal(0, 1e3, 2000)),
            rng.random(2000) * 1e-6,
            np.round(rng.random(2000), 2),
            [np.nan, np.inf, -np.inf, -0.0],
        ]
    )
    assert format_values(values) == [format_number(float(v)) for v in values]


def test_csv_lines_have_index_and_final_lf() -> None:
    text = series_csv_bytes(np.array([0.5, np.nan, -0.0])).decode()
    assert text == "t,value\n0,0.5\n1,NaN\n2,0\n"


def test_a_written_series_reads_back_as_its_values_plus_zero() -> None:
    # What the staged RunResponse takes from memory instead of parsing the CSVs it just wrote.
    from runs.replay.series_cache import parse_series_csv

    for values in (np.array(TRICKY, dtype=np.float64), np.array([3.0, -0.0, 2.5]), np.array([1.0, 2.0])):
        parsed = parse_series_csv(series_csv_bytes(values), len(values))
        memory = values + 0.0
        assert [repr(v) for v in parsed.values.tolist()] == [repr(v) for v in memory.tolist()]
        assert parsed.valid == bool(np.isfinite(memory).all()) and not parsed.malformed
