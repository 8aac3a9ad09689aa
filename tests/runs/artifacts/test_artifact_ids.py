"""Run ids and series ids (spec 03 §3.5, §5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from runs.artifacts import (
    RUN_ID_PATTERN,
    component_id_for,
    deterministic_run_id,
    is_valid_run_id,
    random_run_id,
    series_id_for,
)


@pytest.mark.parametrize(
    "run_id",
    [
        "a",
        "7",
        "run_it-system-microservices_f4c6844ce64e95db",
        "run_deterministic_2dce5ec5",
        "run_20251129T101502Z_0a1b2c3d",
        "My.Run-1_x",
        "A" * 128,
    ],
)
def test_valid_run_ids(run_id: str) -> None:
    assert is_valid_run_id(run_id)


@pytest.mark.parametrize(
    "run_id",
    [
        "",
        "A" * 129,
        ".",
        "..",
        ".staging",
        "../etc",
        "../../passwd",
        "a/b",
        "a\\b",
        "/abs",
        "-leading-dash",
        "_leading_underscore",
        "run id",
        " run",
        "run\n",
        "run\x00",
        "rün",
        "run:1",
    ],
)
def test_invalid_run_ids(run_id: str) -> None:
    assert not is_valid_run_id(run_id)


def test_non_strings_are_not_run_ids() -> None:
    assert not is_valid_run_id(None)
    assert not is_valid_run_id(12)


def test_pattern_text_is_the_spec_regex() -> None:
    assert RUN_ID_PATTERN.pattern == "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


def test_deterministic_run_id_from_the_input_hash_vector() -> None:
    input_hash = "sha256:f4c6844ce64e95dbe7c8cc4e66a9758e45c8fa34208ad1f902727d2808c62334"
    assert (
        deterministic_run_id("it-system-microservices", input_hash)
        == "run_it-system-microservices_f4c6844ce64e95db"
    )


def test_deterministic_run_id_accepts_bare_upper_case_hex() -> None:
    bare = "F4C6844CE64E95DBE7C8CC4E66A9758E45C8FA34208AD1F902727D2808C62334"
    assert (
        deterministic_run_id("it-system-microservices", bare)
        == "run_it-system-microservices_f4c6844ce64e95db"
    )


def test_deterministic_run_id_makes_the_template_id_safe_and_short() -> None:
    digest = "sha256:" + "0123456789abcdef" * 4
    assert deterministic_run_id("my template/v2", digest) == "run_my-template-v2_0123456789abcdef"
    long_id = deterministic_run_id("t" * 150, digest)
    assert long_id == "run_" + "t" * 100 + "_0123456789abcdef"
    assert is_valid_run_id(long_id)


def test_deterministic_run_id_rejects_a_non_hash() -> None:
    with pytest.raises(ValueError):
        deterministic_run_id("x", "sha256:demo")


def test_random_run_id_uses_the_utc_creation_second() -> None:
    created = datetime(2025, 11, 29, 12, 15, 2, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert random_run_id(created, lambda: "deadbeef") == "run_20251129T101502Z_deadbeef"


def test_random_run_id_default_token_is_8_hex() -> None:
    run_id = random_run_id(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert re.fullmatch(r"run_20250102T030405Z_[0-9a-f]{8}", run_id)
    assert is_valid_run_id(run_id)


def test_series_ids() -> None:
    assert series_id_for("order_served") == "order_served@ORDER_SERVED@DEFAULT"
    assert series_id_for("MixedCase_1") == "MixedCase_1@MIXEDCASE_1@DEFAULT"
    # Only ASCII a–z change: str.upper() would turn "ß" into "SS".
    assert series_id_for("straße") == "straße@STRAßE@DEFAULT"
    assert component_id_for("user_requests") == "USER_REQUESTS"
