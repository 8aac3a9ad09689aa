"""B2: ``GET /v1/runs?page=…`` at 1,000 / 10,000 / 100,000 indexed runs, and against a FlowTime-style
listing that opens every run's ``run.json`` and ``model/metadata.json`` per request (at 10,000 runs).

Index rows are made with ``bulk_create``; 10,000 real run directories (clones of one real run) back
the FlowTime-style baseline. Requests go through the whole HTTP stack in-process with Django's test
``Client`` (URL routing, middleware, DRF, filters, rendering), pages spread evenly over the result.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.harness import Figure, emit, log, median, ms, percentile, setup_django, temp_root
from bench.run_dirs import EPOCH, clone_runs, create_source_run

LEVELS = (1_000, 10_000, 100_000)
REAL_RUNS = 10_000
REQUESTS = 40
PAGE_SIZE = 50
BASELINE_REQUESTS = 5
TEMPLATES = (
    ("it-system-microservices", "IT System with Microservices"),
    ("order-system", "Order System"),
    ("support-queue", "Support Queue"),
    ("manufacturing-line", "Manufacturing Line"),
)


def add_rows(start: int, stop: int) -> None:
    """Index rows ``start..stop-1`` (distinct ids, times, templates, modes), in batches."""
    from runs.models import Run

    batch: list[Run] = []
    for i in range(start, stop):
        template_id, title = TEMPLATES[i % len(TEMPLATES)]
        created = EPOCH + timedelta(seconds=13 * i)
        batch.append(
            Run(
                run_id=f"run_row_{i:07d}",
                template_id=template_id,
                template_key=template_id,
                template_title=title,
                template_version="1.0.0",
                mode="telemetry" if i % 3 == 0 else "simulation",
                created_utc=created,
                start_utc=EPOCH,
                duration="PT6H",
                bins=6,
                bin_size=60,
                bin_unit="minutes",
                warning_count=i % 5 == 0,
                can_replay=True,
                provenance_hash="sha256:" + "0" * 64,
                input_hash="sha256:" + "1" * 64,
                path=f"runs/run_row_{i:07d}",
            )
        )
        if len(batch) == 5_000:
            Run.objects.bulk_create(batch)
            batch = []
    if batch:
        Run.objects.bulk_create(batch)


def spread_pages(total: int, count: int) -> list[int]:
    last = max(1, -(-total // PAGE_SIZE))
    return [1 + round(k * (last - 1) / (count - 1)) for k in range(count)]


def api_listing_times(total: int) -> list[float]:
    from django.test import Client

    client = Client()
    pages = spread_pages(total, REQUESTS)
    for page in pages[:10]:  # warm the connection, the query plans and SQLite's page cache
        client.get("/v1/runs", {"page": page, "pageSize": PAGE_SIZE})
    samples: list[float] = []
    for page in pages:
        started = time.perf_counter()
        response = client.get("/v1/runs", {"page": page, "pageSize": PAGE_SIZE})
        body = response.content
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET /v1/runs?page={page} answered {response.status_code}: {body[:300]!r}")
    return samples


def flowtime_style_listing(runs_root: Path, page: int) -> bytes:
    """The original FlowTime listing: open each run's run.json and metadata.json, sort, slice, render."""
    items: list[dict[str, Any]] = []
    for run_dir in runs_root.iterdir():
        if run_dir.name.startswith("."):
            continue
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        metadata = json.loads((run_dir / "model" / "metadata.json").read_text(encoding="utf-8"))
        grid = run.get("grid", {})
        items.append(
            {
                "runId": run.get("runId", run_dir.name),
                "templateId": metadata.get("templateId"),
                "templateTitle": metadata.get("templateTitle"),
                "templateVersion": metadata.get("templateVersion"),
                "mode": metadata.get("mode"),
                "createdUtc": run.get("createdUtc"),
                "warningCount": len(run.get("warnings") or []),
                "bins": grid.get("bins"),
            }
        )
    items.sort(key=lambda item: (item["createdUtc"] or "", item["runId"]), reverse=True)
    start = (page - 1) * PAGE_SIZE
    body = {"items": items[start : start + PAGE_SIZE], "totalCount": len(items), "page": page}
    return json.dumps(body).encode()


def main() -> None:
    with temp_root("b2") as root:
        setup_django(root)
        from runs.models import Run
        from runs.storage import runs_root

        started = time.perf_counter()
        source = create_source_run()
        Run.objects.all().delete()  # the listing rows are made below
        clone_runs(source, runs_root(), REAL_RUNS - 1)
        log(f"B2 {REAL_RUNS} run dirs in {time.perf_counter() - started:.1f} s")

        p50: dict[int, float] = {}
        p95: dict[int, float] = {}
        made = 0
        for level in LEVELS:
            started = time.perf_counter()
            add_rows(made, level)
            made = level
            log(f"B2 rows up to {level} in {time.perf_counter() - started:.1f} s")
            samples = api_listing_times(level)
            p50[level], p95[level] = median(samples), percentile(samples, 0.95)
            log(f"B2 {level} rows: p50 {ms(p50[level])}, p95 {ms(p95[level])}")
            if level == REAL_RUNS:
                baseline = []
                for page in spread_pages(REAL_RUNS, BASELINE_REQUESTS):
                    started = time.perf_counter()
                    flowtime_style_listing(runs_root(), page)
                    baseline.append(time.perf_counter() - started)
                baseline_p50 = median(baseline)
                log(f"B2 FlowTime-style listing of {REAL_RUNS} dirs: p50 {ms(baseline_p50)}")

    top, bottom = LEVELS[-1], LEVELS[0]
    growth = p50[top] / p50[bottom]
    speedup = baseline_p50 / p50[REAL_RUNS]
    emit(
        [
            Figure(
                "B2a",
                f"GET /v1/runs (test Client) p50 at 100,000 rows {ms(p50[top])} (p95 {ms(p95[top])}), "
                f"{REQUESTS} pages spread over the result",
                "p50 ≤ 20 ms",
                p50[top] <= 0.020,
            ),
            Figure(
                "B2b",
                f"p50 growth 100k/1k = {growth:.2f}× ({ms(p50[top])} / {ms(p50[bottom])}; "
                f"10k {ms(p50[REAL_RUNS])})",
                "≤ 1.5×",
                growth <= 1.5,
            ),
            Figure(
                "B2c",
                f"at 10,000 runs: {speedup:.0f}× faster than the FlowTime-style listing "
                f"({ms(baseline_p50)} vs {ms(p50[REAL_RUNS])})",
                "≥ 50×",
                speedup >= 50,
            ),
        ]
    )


if __name__ == "__main__":
    main()
