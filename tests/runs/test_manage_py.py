"""`manage.py create_run` as operators run it: a real process, its exit codes and its streams."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests_fixtures import FIXTURE_BUNDLE

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("manage")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWTIME_", "DATABASE_URL"))}
    environment.update(
        FLOWTIME_DATA_DIR=str(base / "data"),
        DATABASE_URL=f"sqlite:///{base / 'db.sqlite3'}",
        FLOWTIME_TELEMETRY_ROOTS=str(base / "captures"),
    )
    shutil.copytree(FIXTURE_BUNDLE, base / "captures" / "it-system")
    manage(environment, "migrate", "--noinput", check=True)
    return environment


def manage(env: dict[str, str], *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_json_output_is_the_only_thing_on_stdout(env: dict[str, str]) -> None:
    done = manage(env, "create_run", "--template-id", "order-system", "--deterministic-run-id", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)  # logs and progress go to stderr, never into the JSON
    assert body["metadata"]["runId"] == "run_order-system_72feff8e278346d9"
    assert body["canReplay"] is True


def test_an_error_exits_1_with_code_and_every_problem(env: dict[str, str]) -> None:
    done = manage(
        env, "create_run", "--template-id", "it-system-microservices",
        "--param", "bins=96", "--param", "requestPattern=abc", "--param", "nope=1",
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert "parameter_unknown: Unknown parameter 'nope'" in done.stderr
    assert "  - parameters.bins: maximum: must be ≤ 48, got 96" in lines
    assert any(line.startswith("  - parameters.requestPattern: type:") for line in lines)
    assert done.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--template-id", "order-system", "--no-such-option"],
        ["--template-id", "order-system", "--run-id", "x", "--deterministic-run-id"],
        ["--template-id", "order-system", "--mode", "batch"],
        ["--template-id", "order-system", "--param", "novalue"],
    ],
)
def test_usage_errors_exit_2(args: list[str], env: dict[str, str]) -> None:
    assert manage(env, "create_run", *args).returncode == 2


def test_telemetry_run_from_the_command_line(env: dict[str, str]) -> None:
    capture = str(Path(env["FLOWTIME_TELEMETRY_ROOTS"]) / "it-system")
    done = manage(
        env, "create_run", "--template-id", "it-system-microservices", "--mode", "telemetry",
        "--capture-dir", capture, "--bind", "telemetryRequestsSource=LoadBalancer_arrivals.csv",
        "--deterministic-run-id", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["metadata"]["mode"] == "telemetry"
    assert body["metadata"]["telemetrySourcesResolved"] is True
    assert body["grid"]["startUtc"] == "2025-10-01T00:00:00Z"  # the bundle's start, not the template's

    outside = manage(
        env, "create_run", "--template-id", "it-system-microservices", "--mode", "telemetry",
        "--capture-dir", str(ROOT),
    )  # fmt: skip
    assert outside.returncode == 1
    assert outside.stderr.startswith("path_forbidden:")
