"""Clients for the tests that talk to a real server on loopback: JSON POSTs and requests sent together."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

Answer = tuple[int, dict[str, Any]]
T = TypeVar("T", bound=tuple[Any, ...])


def post_json(url: str, body: dict[str, Any], *, headers: dict[str, str] | None = None) -> Answer:
    """POST ``body`` as JSON; the status and the JSON answer, error statuses included."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def at_once(count: int, send: Callable[[int], T]) -> list[T]:
    """``send(0)`` … ``send(count - 1)`` in threads released together by a barrier; every call must
    return (an exception in any of them fails the test, with the others reported alongside)."""
    barrier = threading.Barrier(count)
    results: list[T | BaseException] = [RuntimeError("not run")] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = send(index)
        except BaseException as exc:  # reported below with the others
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [r for r in results if not isinstance(r, tuple)] == []
    return [r for r in results if isinstance(r, tuple)]


def wait_until_serving(url: str, server: subprocess.Popen[bytes], log_path: Path, *, seconds: float) -> None:
    """Poll ``url``/healthz until it answers; fail with the server's log if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)


def free_port() -> int:
    """A loopback port nothing listens on at the moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    command: list[str],
    port: int,
    *,
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    start_seconds: float,
    stop_seconds: float,
) -> Iterator[str]:
    """Start ``command`` (a server listening on ``port``) with its output in ``log_path``; yield its
    base URL once ``/healthz`` answers; terminate it afterwards."""
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, server, log_path, seconds=start_seconds)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=stop_seconds)
