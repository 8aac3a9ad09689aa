"""``format_timestamp``: the one spelling of instants in bodies and artifacts (spec 03 §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from runs.canonical import format_timestamp


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (datetime(2026, 1, 1, 0, 0, 13, tzinfo=UTC), "2026-01-01T00:00:13Z"),
        (datetime(2026, 11, 29, 10, 0, 0, 120000, tzinfo=UTC), "2026-11-29T10:00:00.120000Z"),
        (datetime(2026, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))), "2025-12-31T23:30:00Z"),
        (datetime(2026, 1, 1, 0, 0, 0, 5), "2026-01-01T00:00:00.000005Z"),  # naive: taken as UTC
    ],
)
def test_format_timestamp(instant: datetime, text: str) -> None:
    assert format_timestamp(instant) == text
