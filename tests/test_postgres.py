"""The index works on PostgreSQL through DATABASE_URL (operations guide), not only on SQLite.

A throw-away cluster is started from the installed server binaries on a loopback port; the test
skips only when those binaries are not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


def _server_binaries() -> tuple[str, str] | None:
    """initdb and pg_ctl: on PATH, or (Debian's packages keep them off PATH) under
    /usr/lib/postgresql/<version>/bin, where scripts/with-postgres.sh looks too."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is not None and pg_ctl is not None:
        return initdb, pg_ctl
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin")):
        if os.access(folder / "initdb", os.X_OK) and os.access(folder / "pg_ctl", os.X_OK):
            return str(folder / "initdb"), str(folder / "pg_ctl")
    return None


def _as_postgres_user(args: list[str]) -> list[str]:
    # initdb refuses to run as root; CI and sessions here are root, so drop to the postgres account.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    initdb, pg_ctl = binaries
    base = Path(tempfile.mkdtemp(prefix="flowtime-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, user="postgres", group="postgres")
    data = base / "data"
    port = free_port()
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(_as_postgres_user([initdb, "-D", str(data), "-A", "trust", "-U", "flowtime"]), **run)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -F"
    subprocess.run(
        _as_postgres_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]),
        **run,
    )
    try:
        yield f"postgres://flowtime@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), check=False)
        shutil.rmtree(base, ignore_errors=True)


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _probe(env: dict[str, str], script: str, *, timeout: float) -> Any:
    """Run ``script`` in a fresh interpreter; the JSON its last line of output holds."""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


LIST_PROBE = """
import json, django
django.setup()
from django.test import Client
c = Client()
out = {}
queries = [
    "", "?templateId=ORDER-SYSTEM", "?mode=telemetry", "?search=order&ordering=runId", "?hasWarnings=false"
]
for query in queries:
    r = c.get("/v1/runs" + query)
    out[query] = [r.status_code, r.json()["totalCount"]]
print(json.dumps(out))
"""


def test_migrate_create_list_and_reindex_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWTIME_")}
    env.update(DATABASE_URL=postgres_url, FLOWTIME_DATA_DIR=str(tmp_path / "data"), LOG_LEVEL="WARNING")
    _manage(env, "migrate", "--noinput")
    _manage(env, "sync_templates")
    created = json.loads(
        _manage(env, "create_run", "--template-id", "order-system", "--deterministic-run-id", "--json")
    )
    run_id = created["metadata"]["runId"]
    _manage(env, "create_run", "--template-id", "support-queue")
    shutil.copytree(tmp_path / "data" / "runs" / run_id, tmp_path / "data" / "runs" / "copied-in")
    assert "Indexed 3 runs." in _manage(env, "reindex_runs", "--prune")
    probe_env = {**env, "DJANGO_SETTINGS_MODULE": "flowtime_site.settings"}
    counts = _probe(probe_env, LIST_PROBE, timeout=120)
    assert counts == {
        "": [200, 3],
        "?templateId=ORDER-SYSTEM": [200, 2],
        "?mode=telemetry": [200, 0],
        "?search=order&ordering=runId": [200, 2],
        "?hasWarnings=false": [200, 3],
    }


IDEMPOTENCY_PROBE = """
import json, threading, django
django.setup()
from django.core.management import call_command
from django.test import Client
body = json.dumps({"templateId": "order-system"})
answers = []
barrier = threading.Barrier(8)

def send():
    barrier.wait(timeout=30)
    r = Client().post("/v1/runs", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="pg-key")
    answers.append([r.status_code, r.json()["metadata"]["runId"], r.headers.get("Idempotent-Replayed")])

threads = [threading.Thread(target=send) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join(timeout=120)
other = Client().post(
    "/v1/runs", json.dumps({"templateId": "support-queue"}), content_type="application/json",
    HTTP_IDEMPOTENCY_KEY="pg-key",
)
call_command("purge_idempotency_keys")
print(json.dumps({"answers": answers, "other": [other.status_code, other.json()["code"]]}))
"""


def test_idempotency_keys_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWTIME_")}
    env.update(
        DATABASE_URL=postgres_url,
        FLOWTIME_DATA_DIR=str(tmp_path / "data"),
        FLOWTIME_ALLOW_ANONYMOUS_WRITES="true",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="flowtime_site.settings",
    )
    _manage(env, "migrate", "--noinput")
    result = _probe(env, IDEMPOTENCY_PROBE, timeout=180)
    answers = result["answers"]
    assert len(answers) == 8
    assert {status for status, _, _ in answers} == {201}
    assert len({run_id for _, run_id, _ in answers}) == 1
    assert sorted(replayed or "" for _, _, replayed in answers) == [""] + ["true"] * 7
    assert result["other"] == [422, "idempotency_key_reused"]
    assert len(list((tmp_path / "data" / "runs").glob("run_*"))) == 1
