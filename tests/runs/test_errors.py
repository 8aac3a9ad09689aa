"""``runs.errors``: plain exception classes that behave like exceptions (hashable, picklable)."""

from __future__ import annotations

import pickle

import pytest

from runs.errors import (
    CaptureError,
    FlowtimeError,
    InvalidParameter,
    Issue,
    PathForbidden,
    RunNotFound,
    TemplateError,
)

ERRORS = [
    FlowtimeError("boom"),
    CaptureError(
        "capture_invalid", "The manifest is unreadable.", errors=[Issue("capture_invalid", "m", "x")]
    ),
    InvalidParameter("page", "page must be an integer ≥ 1."),
    PathForbidden("Not inside an allowed root.", field="telemetry.captureDirectory"),
    RunNotFound("run_x"),
    TemplateError([Issue("parameter_invalid", "parameters.bins", "must be ≤ 48, got 96", reason="maximum")]),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_are_hashable(error: FlowtimeError) -> None:
    assert {error: 1}[error] == 1


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_survive_pickling(error: FlowtimeError) -> None:
    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is type(error)
    assert (copy.code, copy.status, copy.detail, copy.errors) == (
        error.code,
        error.status,
        error.detail,
        error.errors,
    )
    assert str(copy) == str(error)


def test_capture_error_keeps_its_fields() -> None:
    error = CaptureError("capture_hash_mismatch", "a.csv changed.")

    assert (error.code, error.status, error.detail, str(error)) == (
        "capture_hash_mismatch",
        422,
        "a.csv changed.",
        "a.csv changed.",
    )
