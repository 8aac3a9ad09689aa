"""L1: the service under concurrent load — gunicorn ``-w 2`` on loopback, 20 clients for 20 seconds.

Each client loops until the deadline, choosing a request by the mix 60 % ``GET /v1/runs`` (random
filters, ordering and page), 30 % ``GET /v1/runs/{id}/state_window`` (a random window of a random
run) and 10 % ``POST /v1/runs`` (a new random-id run). Every answer must be a 200/201: any other
status, or a failed connection, is counted as an error. The figures are requests per second over
the whole run, and p50/p99 latency per route.

The load is bounded: a fixed number of client threads, a fixed duration (``L1_SECONDS``), loopback
only. The clients run in this process; on a 2-core machine they share the cores with the server,
so the figures are what one box serving and loading itself can do.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
from collections import defaultdict
from urllib.parse import urlencode, urlsplit

from bench.harness import (
    Figure,
    bench_env,
    emit,
    gunicorn_server,
    log,
    ms,
    percentile,
    setup_django,
    temp_root,
)

CLIENTS = 20
SECONDS = float(os.environ.get("L1_SECONDS", "20"))
SEED_RUNS = 24
READ_P99_TARGET = 0.100
READS_PER_SECOND_TARGET = 300.0
TEMPLATES = ("it-system-microservices", "order-system", "support-queue", "manufacturing-line")
FILTERS = (
    {},
    {"mode": "simulation"},
    {"mode": "telemetry"},
    {"hasWarnings": "false"},
    {"templateId": "order-system"},
    {"templateId": "it-system-microservices", "mode": "simulation"},
    {"ordering": "runId"},
    {"search": "order"},
)


def seed_runs() -> list[tuple[str, int]]:
    """Make the runs the readers read (through the service); return (run id, bins) pairs."""
    from runs.orchestration import RunRequest, create_run

    made: list[tuple[str, int]] = []
    for i in range(SEED_RUNS):
        outcome = create_run(RunRequest(template_id=TEMPLATES[i % len(TEMPLATES)], seed=i))
        made.append((outcome.run_id, _bins(outcome.run_id)))
    return made


def _bins(run_id: str) -> int:
    from runs.storage import runs_root

    run = json.loads((runs_root() / run_id / "run.json").read_text(encoding="utf-8"))
    return int(run["grid"]["bins"])


class Recorder:
    """Latencies per route and the errors seen, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def record(self, route: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[route].append(seconds)
            if error is not None and len(self.errors) < 1000:
                self.errors.append(f"{route}: {error}")


def one_request(host: str, port: int, method: str, target: str, body: bytes | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def client_loop(base: str, runs: list[tuple[str, int]], deadline: float, seed: int, rec: Recorder) -> None:
    rng = random.Random(seed)
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    while time.monotonic() < deadline:
        draw = rng.random()
        if draw < 0.6:
            route, method, expected, body = "list", "GET", 200, None
            query = dict(rng.choice(FILTERS))
            query["page"] = str(rng.randint(1, 3))
            query["pageSize"] = str(rng.choice((10, 20, 50)))
            target = "/v1/runs?" + urlencode(query)
        elif draw < 0.9:
            route, method, expected, body = "state_window", "GET", 200, None
            run_id, bins = rng.choice(runs)
            start = rng.randrange(bins)
            end = rng.randrange(start, bins)
            target = f"/v1/runs/{run_id}/state_window?startBin={start}&endBin={end}"
        else:
            route, method, expected = "create", "POST", 201
            target = "/v1/runs"
            body = json.dumps(
                {"templateId": rng.choice(TEMPLATES), "rng": {"seed": rng.randrange(1 << 30)}}
            ).encode()
        started = time.perf_counter()
        try:
            status, payload = one_request(host, port, method, target, body)
            error = None if status == expected else f"{status} {payload[:200]!r}"
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
        rec.record(route, time.perf_counter() - started, error)


def main() -> None:
    with temp_root("l1") as root:
        env = bench_env(root, FLOWTIME_ALLOW_ANONYMOUS_WRITES="true")
        setup_django(root, FLOWTIME_ALLOW_ANONYMOUS_WRITES="true")
        from django.core.management import call_command

        call_command("sync_templates", verbosity=0)
        runs = seed_runs()
        log(f"L1 {len(runs)} runs to read; {CLIENTS} clients for {SECONDS:.0f} s")
        rec = Recorder()
        with gunicorn_server(env, workers=2) as base:
            deadline = time.monotonic() + SECONDS
            started = time.perf_counter()
            threads = [
                threading.Thread(target=client_loop, args=(base, runs, deadline, seed, rec), daemon=True)
                for seed in range(CLIENTS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=SECONDS + 60)
            elapsed = time.perf_counter() - started

    total = sum(len(samples) for samples in rec.latencies.values())
    reads = [s for route in ("list", "state_window") for s in rec.latencies[route]]
    reads_per_second = len(reads) / elapsed
    read_p99 = percentile(reads, 0.99) if reads else float("inf")
    per_route = ", ".join(
        f"{route} {len(samples)} req p50 {ms(percentile(samples, 0.5))} p99 {ms(percentile(samples, 0.99))}"
        for route, samples in sorted(rec.latencies.items())
    )
    log(
        f"L1 {total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s): {per_route}; "
        f"errors {len(rec.errors)}"
    )
    for error in rec.errors[:5]:
        log(f"L1 error: {error}")
    emit(
        [
            Figure(
                "L1 reads/s",
                f"{reads_per_second:.0f} reads/s ({total / elapsed:.0f} requests/s in all, "
                f"{CLIENTS} clients, {elapsed:.0f} s, gunicorn -w 2); {per_route}",
                f"≥ {READS_PER_SECOND_TARGET:.0f} reads/s",
                reads_per_second >= READS_PER_SECOND_TARGET,
            ),
            Figure(
                "L1 read p99",
                f"read p99 {ms(read_p99)} (list and state_window together)",
                f"≤ {ms(READ_P99_TARGET)}",
                read_p99 <= READ_P99_TARGET,
            ),
            Figure(
                "L1 errors",
                f"{len(rec.errors)} errors in {total} requests",
                "0 errors",
                not rec.errors and total > 0,
                note="; ".join(rec.errors[:3]),
            ),
        ]
    )


if __name__ == "__main__":
    main()
