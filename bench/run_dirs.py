"""Many real run directories, made fast: one run created by the real service, then cloned.

A clone is a new directory tree whose files are hard links to the source run's files, except
``run.json``, which is rewritten with the clone's ``runId`` and its own ``createdUtc`` (so listings
have something to sort). Every clone is a complete run that ``reindex_runs`` and the state API accept.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

TEMPLATE_ID = "it-system-microservices"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def create_source_run() -> Path:
    """Make one ``it-system-microservices`` run through ``create_run``; return its directory.

    Needs Django set up against the benchmark's temporary data root.
    """
    from runs.orchestration import RunRequest, create_run
    from runs.storage import runs_root

    outcome = create_run(RunRequest(template_id=TEMPLATE_ID))
    return runs_root() / outcome.run_id


def clone_run_id(i: int) -> str:
    return f"run_bench_{i:06d}"


def clone_created(i: int) -> str:
    return (EPOCH + timedelta(seconds=37 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def clone_runs(source: Path, runs_root: Path, count: int) -> list[str]:
    """Write ``count`` clones of ``source`` under ``runs_root``; return their ids."""
    run_json = json.loads((source / "run.json").read_text(encoding="utf-8"))
    files: list[str] = []
    dirs: list[str] = []
    for dirpath, dirnames, filenames in os.walk(source):
        relative = os.path.relpath(dirpath, source)
        dirs.extend(os.path.normpath(os.path.join(relative, d)) for d in dirnames)
        files.extend(
            os.path.normpath(os.path.join(relative, f))
            for f in filenames
            if os.path.normpath(os.path.join(relative, f)) != "run.json"
        )
    ids: list[str] = []
    for i in range(count):
        run_id = clone_run_id(i)
        target = runs_root / run_id
        target.mkdir()
        for d in dirs:
            (target / d).mkdir()
        for f in files:
            os.link(source / f, target / f)
        run_json["runId"] = run_id
        run_json["createdUtc"] = clone_created(i)
        (target / "run.json").write_text(json.dumps(run_json, indent=2) + "\n", encoding="utf-8")
        ids.append(run_id)
    return ids
