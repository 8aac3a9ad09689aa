"""Shared plumbing for the benchmarks: isolated environments, timing, the live server, result rows.

Every benchmark runs in its own process (``python -m bench.<module>``) whose environment points
``FLOWTIME_DATA_DIR`` and ``DATABASE_URL`` at a fresh temporary directory before Django is set up,
so nothing here ever touches the project's ``var/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULT_PREFIX = "BENCH-RESULT "


@dataclass(frozen=True)
class Figure:
    """One row of the table: the measured figure (with its ratio to a baseline) against a target."""

    id: str
    figure: str
    target: str
    passed: bool
    note: str = ""


def emit(figures: Sequence[Figure]) -> None:
    """Hand the figures to ``bench.__main__`` (one JSON line each on stdout)."""
    for figure in figures:
        print(RESULT_PREFIX + json.dumps(asdict(figure)), flush=True)


def log(message: str) -> None:
    print(f"  · {message}", file=sys.stderr, flush=True)


# --- environments ------------------------------------------------------------------------------


def bench_env(root: Path, **extra: str) -> dict[str, str]:
    """The process environment of a benchmark whose data and SQLite DB live under ``root``."""
    env = dict(os.environ)
    env.update(
        {
            "FLOWTIME_DATA_DIR": str(root / "data"),
            "DATABASE_URL": f"sqlite:///{root / 'flowtime.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "flowtime_site.settings",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(PROJECT_DIR),
        }
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def temp_root(prefix: str) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix=f"flowtime-bench-{prefix}-"))
    try:
        (root / "data").mkdir()
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def setup_django(root: Path, **extra: str) -> None:
    """Point this process at ``root`` (settings read the environment once), set Django up, migrate."""
    os.environ.update(bench_env(root, **extra))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


# --- timing ------------------------------------------------------------------------------------


def time_call(fn: Callable[[], object]) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# --- the live server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn_server(env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
    """Run gunicorn on a free loopback port with ``env``; yield its base URL; always stop it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        str(Path(PYTHON).parent / "gunicorn"),
        "flowtime_site.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--log-level",
        "warning",
        "--timeout",
        "120",
    ]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode} before it was ready")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /healthz within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM) in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
