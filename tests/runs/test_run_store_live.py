"""The run store under real interleavings, against real multi-process servers (gunicorn) on loopback.

Readers never see half a run or a mix of two (spec 03 §7, 05 §2); overwrites and deletes race cleanly;
a killed writer leaves the old or the new run, and its staging entry is gone after the next writer or
``reindex_runs``; ``/metrics`` counts every process. Every loop here is bounded in count and time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import run_dirs, staging_entries
from live_helpers import at_once, free_port, serving

from runs import artifacts

pytestmark = pytest.mark.live

PROJECT_DIR = Path(__file__).resolve().parents[2]
RUN_ID = "flip"
PATTERN_A = [100, 150, 200, 180, 120, 80]
PATTERN_B = [10, 20, 30, 40, 50, 60]
READ_PATHS = (
    f"/v1/runs/{RUN_ID}/state_window?startBin=0&endBin=5",
    f"/v1/runs/{RUN_ID}/state?binIndex=2",
    f"/v1/runs/{RUN_ID}",
    f"/v1/runs/{RUN_ID}/index",
)
Answer = tuple[int, Any]


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per module; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("migrated")
    database = folder / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "FLOWTIME_DATA_DIR": str(folder / "data")}
    migrated = manage(env, "migrate", "-v0", timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    return database


@pytest.fixture
def env(tmp_path: Path, data_root: Path, migrated_db: Path) -> dict[str, str]:
    """The environment of a server or command over this test's data root and database copy."""
    database = tmp_path / "db.sqlite3"
    shutil.copyfile(migrated_db, database)
    values = {
        **os.environ,
        "FLOWTIME_DATA_DIR": str(data_root),
        "DATABASE_URL": f"sqlite:///{database}",
        "FLOWTIME_ALLOW_ANONYMOUS_WRITES": "true",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "flowtime_site.settings",
    }
    values.pop("PROMETHEUS_MULTIPROC_DIR", None)
    values.pop("FLOWTIME_METRICS_DIR", None)
    return values


def manage(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PROJECT_DIR / "manage.py"), *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_gunicorn(tmp_path: Path, env: dict[str, str], workers: int) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "flowtime_site.wsgi", "-w", str(workers)]
    command += ["-b", f"127.0.0.1:{port}", "--timeout", "60"]
    log_path = tmp_path / "gunicorn.log"
    with serving(
        command, port, cwd=PROJECT_DIR, env=env, log_path=log_path, start_seconds=60, stop_seconds=20
    ) as url:
        yield url


@pytest.fixture
def server(tmp_path: Path, env: dict[str, str]) -> Iterator[str]:
    yield from start_gunicorn(tmp_path, env, workers=2)


def request(url: str, method: str = "GET", body: Any = None) -> Answer:
    assert url.startswith("http://127.0.0.1:"), url
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def run_body(pattern: list[int], *, run_id: str = RUN_ID) -> dict[str, Any]:
    return {
        "templateId": "it-system-microservices",
        "parameters": {"requestPattern": pattern},
        "options": {"runId": run_id, "overwriteExisting": True},
    }


def comparable(body: Any) -> Any:
    """A body without the one field that differs between two publications of the same inputs."""
    if isinstance(body, dict) and "createdUtc" in body:
        return {key: value for key, value in body.items() if key != "createdUtc"}
    return body


def references(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole bodies of every read path for version A and for version B."""
    refs: list[dict[str, Any]] = []
    for pattern in (PATTERN_A, PATTERN_B):
        status, _ = request(f"{url}/v1/runs", "POST", run_body(pattern))
        assert status == 201
        ref = {}
        for path in READ_PATHS:
            status, body = request(url + path)
            assert status == 200, body
            ref[path] = comparable(body)
        refs.append(ref)
    assert refs[0] != refs[1]
    return refs[0], refs[1]


def race(url: str, write: Callable[[int], None], writes: int, readers: int = 4) -> list[tuple[str, Answer]]:
    """``writes`` calls of ``write`` while ``readers`` threads read every path until the writer ends."""
    done = threading.Event()
    answers: list[tuple[str, Answer]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def read(offset: int) -> None:
        i = offset
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            path = READ_PATHS[i % len(READ_PATHS)]
            answer = request(url + path)
            with lock:
                answers.append((path, answer))
            i += 1

    def writer() -> None:
        try:
            for n in range(writes):
                write(n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    threads = [threading.Thread(target=read, args=(k,)) for k in range(readers)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return answers


def test_readers_see_whole_versions_while_a_writer_replaces_the_run(server: str) -> None:
    ref_a, ref_b = references(server)
    created: list[int] = []

    def overwrite(n: int) -> None:
        status, _ = request(f"{server}/v1/runs", "POST", run_body(PATTERN_A if n % 2 else PATTERN_B))
        created.append(status)

    answers = race(server, overwrite, writes=16)
    assert created == [201] * 16
    statuses = [status for _, (status, _) in answers]
    assert [s for s in statuses if s != 200] == []
    mixed = [path for path, (_, body) in answers if comparable(body) not in (ref_a[path], ref_b[path])]
    assert mixed == []
    assert len(answers) >= len(READ_PATHS)


def test_readers_see_whole_versions_or_404_while_a_run_is_deleted_and_made_again(server: str) -> None:
    ref_a, ref_b = references(server)

    def delete_or_create(n: int) -> None:
        if n % 2 == 0:
            status, _ = request(f"{server}/v1/runs/{RUN_ID}", "DELETE")
            assert status == 204
        else:
            status, _ = request(f"{server}/v1/runs", "POST", run_body(PATTERN_A if n % 4 == 1 else PATTERN_B))
            assert status == 201

    answers = race(server, delete_or_create, writes=16)
    bad = [(path, status) for path, (status, _) in answers if status not in (200, 404)]
    assert bad == []
    for path, (status, body) in answers:
        if status == 404:
            assert body["code"] == "run_not_found"
        else:
            assert comparable(body) in (ref_a[path], ref_b[path]), path


def test_twenty_concurrent_overwrites_all_answer_201_with_what_each_wrote(
    server: str, data_root: Path
) -> None:
    """Defect 3: some overwrites answered 409/404 because the response was re-read from disk."""
    ref_a, ref_b = references(server)
    detail = f"/v1/runs/{RUN_ID}"

    def send(index: int) -> Answer:
        return request(f"{server}/v1/runs", "POST", run_body(PATTERN_A if index % 2 else PATTERN_B))

    answers = at_once(20, send)
    assert [status for status, _ in answers] == [201] * 20
    for index, (_, body) in enumerate(answers):
        assert comparable(body) == (ref_a if index % 2 else ref_b)[detail]
    assert run_dirs(data_root) == [RUN_ID]
    assert staging_entries(data_root) == []


def test_twenty_concurrent_deletes_one_204_nineteen_404(server: str, data_root: Path) -> None:
    status, _ = request(f"{server}/v1/runs", "POST", run_body(PATTERN_A))
    assert status == 201

    answers = at_once(20, lambda index: request(f"{server}/v1/runs/{RUN_ID}", "DELETE"))
    assert sorted(status for status, _ in answers) == [204] + [404] * 19
    assert {body["code"] for status, body in answers if status == 404} == {"run_not_found"}
    assert run_dirs(data_root) == []
    assert staging_entries(data_root) == []


def created_total(metrics_text: str) -> float:
    pattern = re.compile(r"^flowtime_runs_created_total\{[^}]*\} ([0-9.e+]+)$", re.MULTILINE)
    return sum(float(value) for value in pattern.findall(metrics_text))


def test_metrics_from_four_workers_and_a_command_count_every_create(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Defect 8: /metrics showed one random worker's counters; create_run processes never appeared."""
    for url in start_gunicorn(tmp_path, env, workers=4):
        for n in range(6):
            status, _ = request(f"{url}/v1/runs", "POST", run_body(PATTERN_A, run_id=f"m{n}"))
            assert status == 201
        command = manage(env, "create_run", "--template-id", "order-system", "--run-id", "by-command")
        assert command.returncode == 0, command.stderr
        totals = []
        for _ in range(10):
            with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
                totals.append(created_total(response.read().decode()))
        assert totals == [7.0] * 10


# --- kill -9 of a writer --------------------------------------------------------------------------

KILL_SCRIPT = r"""
import os, signal, sys
import django
django.setup()
from django.core.management import call_command
from runs.artifacts import run_store, writer

def create(pattern):
    call_command("create_run", "--template-id", "it-system-microservices", "--run-id", "victim",
                 "--overwrite", "--param", "requestPattern=" + pattern)

create(sys.argv[2])  # the old version, published whole
point = sys.argv[1]
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
calls = {"n": 0}

if point == "while_writing":
    real_write = writer.write_file_durably
    def write(path, data, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            die()
        return real_write(path, data, **kw)
    writer.write_file_durably = write
elif point == "before_exchange":
    def exchange(a, b):
        die()
    run_store.exchange_paths = exchange
elif point == "after_exchange":
    real_exchange = run_store.exchange_paths
    def exchange(a, b):
        real_exchange(a, b)
        die()
    run_store.exchange_paths = exchange
elif point == "removing_old":
    real_remove = run_store._remove_quietly
    def remove(path):
        if (path / "run.json").exists():
            (path / "run.json").unlink()
            die()
        return real_remove(path)
    run_store._remove_quietly = remove
elif point == "before_release":
    def release(self):
        die()
    run_store.Stage.release = release

create(sys.argv[3])  # the overwrite that is killed
"""

KILL_POINTS = ["while_writing", "before_exchange", "after_exchange", "removing_old", "before_release"]


def user_requests(run_dir: Path) -> str:
    return (run_dir / "series" / "user_requests@USER_REQUESTS@DEFAULT.csv").read_text()


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_9_of_an_overwriting_create_run_leaves_the_old_or_the_new_run(
    point: str, data_root: Path, env: dict[str, str]
) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, point, json.dumps(PATTERN_A), json.dumps(PATTERN_B)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    run_dir = data_root / "runs" / "victim"
    assert artifacts.is_run_dir(run_dir)
    assert artifacts.verify_run(run_dir).ok
    new_version = point in ("after_exchange", "removing_old", "before_release")
    first_bins = user_requests(run_dir).splitlines()[1:3]
    assert first_bins == (["0,10", "1,20"] if new_version else ["0,100", "1,150"])
    assert staging_entries(data_root) != []  # the killed writer's entry is still there

    # The next writer (odd points) or reindex_runs (even points) removes it: its lock is free.
    if KILL_POINTS.index(point) % 2:
        after = manage(env, "create_run", "--template-id", "order-system", "--run-id", "next-writer")
    else:
        after = manage(env, "reindex_runs")
    assert after.returncode == 0, after.stderr
    assert staging_entries(data_root) == []
    assert artifacts.is_run_dir(run_dir)
