"""No 5xx from input: deep nesting is a 400 and any body over 1 MiB, chunked or not, is a 413 read
no further than limit + 1 bytes (spec 05 §2, §7)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from api_helpers import assert_problem, body_of, problem, run_dirs, writer
from rest_framework.test import APIClient

from flowtime_site.api import MAX_BODY_BYTES, MAX_JSON_DEPTH

pytestmark = pytest.mark.django_db

TOO_DEEP = problem(
    "invalid_request", 400, "The request body nests objects or arrays more than 32 levels deep."
)


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


def nested_parameters(levels: int) -> bytes:
    """A run request whose ``parameters.bins`` nests ``levels`` objects, the body being level 1."""
    inner = "1"
    for _ in range(levels - 2):
        inner = '{"a":' + inner + "}"
    return ('{"templateId":"order-system","parameters":{"bins":' + inner + "}}").encode()


def test_a_thousand_nested_objects_is_400_not_500(client: APIClient, data_root: Path) -> None:
    raw = b'{"a":' * 1000 + b"1" + b"}" * 1000
    assert len(raw) < 7000

    response = client.post("/v1/runs", raw, content_type="application/json")

    assert_problem(response, TOO_DEEP)
    assert run_dirs(data_root) == []


def test_nesting_one_level_past_the_limit_is_400(client: APIClient) -> None:
    raw = nested_parameters(MAX_JSON_DEPTH + 1)
    assert raw.count(b"{") == MAX_JSON_DEPTH + 1

    assert_problem(client.post("/v1/runs", raw, content_type="application/json"), TOO_DEEP)


def test_nesting_at_the_limit_reaches_the_parameter_checks(client: APIClient) -> None:
    raw = nested_parameters(MAX_JSON_DEPTH)

    response = client.post("/v1/runs", raw, content_type="application/json")

    assert response.status_code == 422, response.content
    assert body_of(response)["code"] == "parameter_invalid"


class CountingInput(io.BytesIO):
    """A ``wsgi.input`` that records how many bytes the server asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def post_chunked(client: APIClient, data: bytes, *, terminated: bool = True) -> tuple[Any, CountingInput]:
    """What gunicorn hands Django for ``Transfer-Encoding: chunked``: a decoded, terminated input and
    no ``Content-Length``."""
    stream = CountingInput(data)
    extra = {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": stream,
        "wsgi.input_terminated": terminated,
    }
    response = client.generic("POST", "/v1/runs", b"", content_type="application/json", **extra)
    return response, stream


def test_chunked_body_over_the_limit_is_413_and_read_no_further(client: APIClient, data_root: Path) -> None:
    raw = b'{"templateId": "order-system"' + b" " * (3 * MAX_BODY_BYTES) + b"}"

    response, stream = post_chunked(client, raw)

    assert_problem(response, problem("request_too_large", 413, "The request body exceeds 1 MiB."))
    assert stream.bytes_read <= MAX_BODY_BYTES + 1
    assert run_dirs(data_root) == []


def test_chunked_body_under_the_limit_is_read(client: APIClient) -> None:
    raw = json.dumps({"templateId": "order-system", "options": {"dryRun": True}}).encode()

    response, _ = post_chunked(client, raw)

    assert response.status_code == 200, response.content
    assert body_of(response)["plan"]["templateId"] == "order-system"


def test_chunked_body_a_server_cannot_frame_is_refused_not_read_as_empty(client: APIClient) -> None:
    raw = json.dumps({"templateId": "order-system"}).encode()

    response, stream = post_chunked(client, raw, terminated=False)

    assert_problem(
        response,
        problem("invalid_request", 400, "This server cannot read a chunked body; send Content-Length."),
    )
    assert stream.bytes_read == 0


@pytest.mark.live
def test_a_real_chunked_request_through_gunicorn(tmp_path: Path, data_root: Path) -> None:
    """gunicorn decodes chunking and marks the input terminated: the body is read, not seen as empty."""
    import http.client
    import os
    import socket
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "FLOWTIME_DATA_DIR": str(data_root),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "FLOWTIME_ALLOW_ANONYMOUS_WRITES": "true",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True, timeout=120
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "flowtime_site.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        body = json.dumps({"templateId": "order-system", "options": {"dryRun": True}}).encode()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.putrequest("POST", "/v1/runs")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for start in range(0, len(body), 16):
            piece = body[start : start + 16]
            connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        answer = json.loads(response.read())
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()

    assert response.status == 200, answer
    assert answer["plan"]["templateId"] == "order-system"
