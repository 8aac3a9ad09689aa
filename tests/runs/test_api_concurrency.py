"""Twenty identical deterministic POSTs at once against a real server: one run, one row, no 5xx
(style habit 7: racing requests end in one run and a clean 200/201, never a mixed directory).

Before SQLite used ``"transaction_mode": "IMMEDIATE"`` (settings), the index write after publication
failed here with ``OperationalError: database is locked`` on a file database (the lock upgrade of a
deferred transaction is refused at once, whatever the timeout) and ``database table is locked:
runs_run`` on the shared-cache in-memory test database: 2–11 of 20 answers were 500.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import DETERMINISTIC_ORDER_SYSTEM, ORDER_SYSTEM_RUN_ID, run_dirs, staging_entries
from live_helpers import Answer, at_once, free_port, post_json, serving

from runs.models import Run

CLIENTS = 20
PROJECT_DIR = Path(__file__).resolve().parents[2]


def post_all_at_once(url: str) -> list[Answer]:
    """``CLIENTS`` threads released together by a barrier, each sending the same request."""
    assert url.startswith(("http://localhost:", "http://127.0.0.1:")), url
    return at_once(CLIENTS, lambda _index: post_json(url, DETERMINISTIC_ORDER_SYSTEM))


def assert_one_run(answers: list[Answer], data_root: Path, indexed: list[str]) -> None:
    """One directory, no mixed state, one body for every answer (checked before the statuses, so a
    failure names the invariant that broke)."""
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {200, 201, 500}, answers
    for status, body in answers:
        if status == 500:
            assert body["code"] == "internal_error"
        else:
            assert body["metadata"]["runId"] == ORDER_SYSTEM_RUN_ID
            assert body["wasReused"] is (status == 200)
    assert statuses.count(201) <= 1
    assert len({body["createdUtc"] for status, body in answers if status != 500}) <= 1
    assert run_dirs(data_root) == [ORDER_SYSTEM_RUN_ID]
    assert staging_entries(data_root) == []
    assert indexed in ([], [ORDER_SYSTEM_RUN_ID])


def assert_clean(answers: list[Answer], indexed: list[str]) -> None:
    """The contract: every answer 201 or 200, exactly one 201, one row."""
    assert [(s, b.get("code"), b.get("detail")) for s, b in answers if s >= 500] == []
    assert sorted(status for status, _ in answers) == [200] * (CLIENTS - 1) + [201]
    assert indexed == [ORDER_SYSTEM_RUN_ID]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_against_live_server(live_server: Any, settings: Any, data_root: Path) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True

    answers = post_all_at_once(f"{live_server.url}/v1/runs")

    indexed = list(Run.objects.values_list("run_id", flat=True))
    assert_one_run(answers, data_root, indexed)
    assert_clean(answers, indexed)


@pytest.fixture
def file_db_server(tmp_path: Path, data_root: Path) -> Iterator[tuple[str, Path]]:
    """``manage.py runserver`` on loopback with a SQLite *file* database, as deployed by default.

    Yields the base URL and the database file.
    """
    database = tmp_path / "db.sqlite3"
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "FLOWTIME_DATA_DIR": str(data_root),
        "DATABASE_URL": f"sqlite:///{database}",
        "FLOWTIME_ALLOW_ANONYMOUS_WRITES": "true",
        "LOG_LEVEL": "WARNING",
    }
    manage = [sys.executable, str(PROJECT_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=PROJECT_DIR, env=env, check=True, timeout=120)
    port = free_port()
    command = [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"]
    with serving(
        command, port, cwd=PROJECT_DIR, env=env, log_path=log_path, start_seconds=30, stop_seconds=10
    ) as url:
        yield url, database


@pytest.mark.live
def test_concurrent_posts_against_a_server_with_a_file_database(
    file_db_server: tuple[str, Path], data_root: Path
) -> None:
    url, database = file_db_server

    answers = post_all_at_once(f"{url}/v1/runs")

    with sqlite3.connect(database) as db:
        indexed = [row[0] for row in db.execute("SELECT run_id FROM runs_run")]
    assert_one_run(answers, data_root, indexed)
    assert_clean(answers, indexed)
