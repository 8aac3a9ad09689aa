"""B2-cursor: ``GET /v1/runs?cursor=…`` at 1,000 and 1,000,000 indexed runs, pages spread over the
whole listing (first, middle, last and everything between), forwards and backwards.

Keyset paging seeks the ordering index to the cursor's key, so a page deep in a million rows should
cost what a page of a thousand rows costs: the figure is the ratio of the two p50s, measured in one
process. The cursors are the server's own (``runs.cursors.cursor_encode`` of the key of the row at
each position), so no page is reached by walking the earlier ones. Requests go through the whole
stack with the test ``Client``. Each level has its own SQLite file and connection, and requests
alternate between the levels one by one, so both see the same machine. Rows are written with one
``executemany`` per batch (``bulk_create`` of a million model instances would dominate the run).
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.b2_run_list import TEMPLATES
from bench.harness import Figure, emit, log, median, ms, percentile, setup_django, temp_root
from bench.run_dirs import EPOCH

LEVELS = tuple(int(n) for n in os.environ.get("B2C_LEVELS", "1000,1000000").split(","))
PAGE_SIZE = 50
POSITIONS = 40
ROUNDS = 8
TARGET = 1.2
# (label, query): the default ordering, and a filter walking its own index.
SHAPES: tuple[tuple[str, dict[str, str]], ...] = (
    ("newest first", {}),
    ("mode=telemetry", {"mode": "telemetry"}),
)


def insert_rows(start: int, stop: int) -> None:
    """Index rows ``start..stop-1`` with the fields of ``bench.b2_run_list.add_rows``."""
    from django.db import connection, transaction

    columns = (
        "run_id, template_id, template_key, template_title, template_version, mode, created_utc, "
        "start_utc, duration, bins, bin_size, bin_unit, warning_count, can_replay, provenance_hash, "
        "input_hash, path, indexed_at"
    )
    adapt = connection.ops.adapt_datetimefield_value
    start_utc = adapt(EPOCH)
    sql = f"INSERT INTO runs_run ({columns}) VALUES ({', '.join(['%s'] * 18)})"
    batch = 20_000
    for first in range(start, stop, batch):
        rows = []
        for i in range(first, min(stop, first + batch)):
            template_id, title = TEMPLATES[i % len(TEMPLATES)]
            rows.append(
                (
                    f"run_row_{i:07d}",
                    template_id,
                    template_id,
                    title,
                    "1.0.0",
                    "telemetry" if i % 3 == 0 else "simulation",
                    adapt(EPOCH + timedelta(seconds=13 * i)),
                    start_utc,
                    "PT6H",
                    6,
                    60,
                    "minutes",
                    int(i % 5 == 0),
                    True,
                    "sha256:" + "0" * 64,
                    "sha256:" + "1" * 64,
                    f"runs/run_row_{i:07d}",
                    start_utc,
                )
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def cursors_at(total: int, query: dict[str, str]) -> list[str]:
    """Server cursors at ``POSITIONS`` positions spread over the (filtered) listing, half of them
    walking forwards and half backwards."""
    from runs.cursors import RunCursor, cursor_encode

    # Row i is created at EPOCH + 13 s·i; newest first, so position p holds the p-th newest match.
    matching = [i for i in range(total) if query.get("mode") != "telemetry" or i % 3 == 0][::-1]
    tokens = []
    for k in range(POSITIONS):
        p = round(k * (len(matching) - 1) / (POSITIONS - 1))
        i = matching[p]
        key = (EPOCH + timedelta(seconds=13 * i), f"run_row_{i:07d}")
        tokens.append(cursor_encode(RunCursor(ordering="-createdUtc", key=key, backwards=k % 2 == 1)))
    return tokens


def timed_page(client: Any, token: str, query: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.get("/v1/runs", {**query, "cursor": token, "pageSize": PAGE_SIZE})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET /v1/runs?cursor answered {response.status_code}: {response.content[:300]!r}")
    if not response.json()["items"]:
        raise RuntimeError("a cursor page in the middle of the listing came back empty")
    return elapsed


def main() -> None:
    with temp_root("b2c") as root:
        setup_django(root)
        from django.db import connection, connections
        from django.db.backends.sqlite3.base import DatabaseWrapper
        from django.test import Client

        # One SQLite file (and one open connection) per level, so requests can alternate between
        # the levels one by one and both see the same machine, instead of minutes apart as one
        # table grows.
        migrated = Path(connection.settings_dict["NAME"])
        connection.close()
        databases = {}
        for level in LEVELS:
            path = root / f"runs-{level}.sqlite3"
            shutil.copyfile(migrated, path)
            databases[level] = DatabaseWrapper({**connection.settings_dict, "NAME": str(path)}, "default")
            connections["default"] = databases[level]
            started = time.perf_counter()
            insert_rows(0, level)
            log(f"B2-cursor {level} rows in {time.perf_counter() - started:.1f} s")

        client = Client()
        tokens = {(label, level): cursors_at(level, query) for label, query in SHAPES for level in LEVELS}
        samples: dict[tuple[str, int], list[float]] = {key: [] for key in tokens}
        for round_number in range(ROUNDS + 1):  # round 0 warms connections, plans and page caches
            for label, query in SHAPES:
                for k in range(POSITIONS):
                    for level in LEVELS:
                        connections["default"] = databases[level]
                        elapsed = timed_page(client, tokens[label, level][k], query)
                        if round_number:
                            samples[label, level].append(elapsed)
        p50 = {key: median(values) for key, values in samples.items()}
        p95 = {key: percentile(values, 0.95) for key, values in samples.items()}
        for label, level in samples:
            log(f"B2-cursor {level} {label}: p50 {ms(p50[label, level])}, p95 {ms(p95[label, level])}")
        top, bottom = LEVELS[-1], LEVELS[0]
        figures = []
        for label, _query in SHAPES:
            growth = p50[label, top] / p50[label, bottom]
            figures.append(
                Figure(
                    f"B2-cursor {label}",
                    f"cursor page p50 at {top:,} rows / at {bottom:,} rows = {growth:.2f}× "
                    f"({ms(p50[label, top])} vs {ms(p50[label, bottom])}; p95 {ms(p95[label, top])}), "
                    f"{POSITIONS} positions over the listing, both directions, levels alternated",
                    f"≤ {TARGET}×",
                    growth <= TARGET,
                )
            )
        emit(figures)


if __name__ == "__main__":
    main()
