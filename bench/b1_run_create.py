"""B1: ``POST /v1/runs`` against a live gunicorn vs the same ``create_run`` call in-process, and vs
``manage.py create_run`` as a process.

All three make a new simulation run of ``it-system-microservices`` with its defaults (a random run id,
so nothing is reused). The API and in-process calls alternate so drift hits both alike.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from urllib.parse import urlsplit

from bench.harness import (
    PROJECT_DIR,
    PYTHON,
    Figure,
    bench_env,
    emit,
    gunicorn_server,
    log,
    median,
    ms,
    setup_django,
    temp_root,
)

TEMPLATE_ID = "it-system-microservices"
SAMPLES = 40
WARMUP = 6
CLI_SAMPLES = 5
BODY = json.dumps({"templateId": TEMPLATE_ID}).encode()


def post_run(base: str) -> float:
    """Seconds for one ``POST /v1/runs`` round trip, on a fresh connection (gunicorn closes them)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        started = time.perf_counter()
        connection.request("POST", "/v1/runs", body=BODY, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    if response.status != 201:
        raise RuntimeError(f"POST /v1/runs answered {response.status}: {payload[:300]!r}")
    return elapsed


def main() -> None:
    with temp_root("b1") as root:
        env = bench_env(root, FLOWTIME_ALLOW_ANONYMOUS_WRITES="true")
        setup_django(root, FLOWTIME_ALLOW_ANONYMOUS_WRITES="true")
        from runs.orchestration import RunRequest, create_run

        def in_process() -> float:
            started = time.perf_counter()
            create_run(RunRequest(template_id=TEMPLATE_ID))
            return time.perf_counter() - started

        with gunicorn_server(env, workers=2) as base:
            for _ in range(WARMUP):
                post_run(base)
                in_process()
            api: list[float] = []
            local: list[float] = []
            for _ in range(SAMPLES):
                api.append(post_run(base))
                local.append(in_process())

        cli: list[float] = []
        command = [PYTHON, "manage.py", "create_run", "--template-id", TEMPLATE_ID]
        for _ in range(CLI_SAMPLES):
            started = time.perf_counter()
            subprocess.run(command, cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
            cli.append(time.perf_counter() - started)

    api_p50, local_p50, cli_p50 = median(api), median(local), median(cli)
    log(f"B1 api {ms(api_p50)}, in-process {ms(local_p50)}, cli {ms(cli_p50)}")
    emit(
        [
            Figure(
                "B1a",
                f"POST /v1/runs (gunicorn) p50 {ms(api_p50)} = {api_p50 / local_p50:.2f}× in-process "
                f"create_run ({ms(local_p50)}), median of {SAMPLES}",
                "≤ 1.25× in-process",
                api_p50 <= 1.25 * local_p50,
            ),
            Figure(
                "B1b",
                f"POST /v1/runs p50 {ms(api_p50)} = {api_p50 / cli_p50:.3f}× `manage.py create_run` "
                f"process ({ms(cli_p50)}, median of {CLI_SAMPLES})",
                "≤ 1× the CLI process",
                api_p50 <= cli_p50,
            ),
        ]
    )


if __name__ == "__main__":
    main()
