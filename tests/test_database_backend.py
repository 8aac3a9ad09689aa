"""The suite runs on the database it was asked for: a PostgreSQL run must not quietly fall back to SQLite."""

from __future__ import annotations

import os

import pytest
from django.db import connection


@pytest.mark.django_db
def test_the_suite_uses_the_database_it_was_started_for() -> None:
    expected = os.environ.get("FLOWTIME_EXPECT_DATABASE", "sqlite")
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
