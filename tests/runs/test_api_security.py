"""Spec 05 §8: hostile paths and ids in bodies and routes, and who may read and write.

Every attack test records the files the request opened, listed, created or renamed and proves none
lies outside the data root (the template catalog excepted), that a sentinel directory next to the data
root is untouched, and that no answer names the data root.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from api_helpers import (
    DETERMINISTIC_ORDER_SYSTEM,
    FIXTURE_CAPTURE,
    PROBLEM_JSON,
    body_of,
    copy_capture,
    outside,
    post_run,
    recorded_file_access,
    run_dirs,
    tree_listing,
    writer,
)
from django.contrib.auth.models import User
from django.http import HttpResponse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from runs.models import Run

pytestmark = pytest.mark.django_db


class Sandbox:
    """The data root with a capture, plus a sentinel directory beside it that nothing may touch."""

    def __init__(self, tmp_path: Path, data_root: Path, templates_dir: Path) -> None:
        self.tmp_path = tmp_path
        self.data_root = data_root
        self.templates_dir = templates_dir
        self.sentinel = tmp_path / "outside"
        shutil.copytree(FIXTURE_CAPTURE, self.sentinel)
        (self.sentinel / "secret.csv").write_text("bin_index,value\n0,1\n", encoding="utf-8")
        copy_capture(data_root)
        # A symlink inside the telemetry root that points out of it.
        os.symlink(self.sentinel, data_root / "telemetry" / "link-out")
        self.sentinel_before = self.sentinel_state()

    def sentinel_state(self) -> list[tuple[str, int, int]]:
        return [
            (name, (self.sentinel / name).stat().st_size, (self.sentinel / name).stat().st_mtime_ns)
            for name in tree_listing(self.sentinel)
        ]

    def check(self, response: HttpResponse, accesses: list[tuple[str, str]], *, echo: str = "") -> None:
        """``echo``: the payload itself, which an answer may quote back (it is the client's text)."""
        assert outside(accesses, self.data_root, self.templates_dir, *static_dirs()) == []
        assert not [path for _, path in accesses if path.startswith(str(self.sentinel))]
        assert self.sentinel_state() == self.sentinel_before
        assert sorted(p.name for p in self.tmp_path.iterdir()) == ["data", "outside"]
        text = response.content.decode("utf-8", errors="replace")
        if echo:
            text = text.replace(echo, "<payload>")
        for leak in (str(self.data_root), str(self.tmp_path), str(self.sentinel.resolve())):
            assert leak not in text


def static_dirs() -> list[Path]:
    """Where WhiteNoise indexes static assets when a handler starts: fixed places, never chosen by a
    request, so reading them is not what these tests guard against."""
    from django.conf import settings as django_settings
    from django.contrib.staticfiles import finders

    dirs = [Path(django_settings.STATIC_ROOT)]
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            dirs.append(Path(storage.location))
    return dirs


@pytest.fixture
def sandbox(tmp_path: Path, data_root: Path, settings: Any) -> Sandbox:
    box = Sandbox(tmp_path, data_root, Path(settings.FLOWTIME_TEMPLATES_DIR))
    APIClient().get("/v1/templates")  # warm the catalog cache: its reads are not what is tested here
    return box


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


def assert_refused(response: HttpResponse, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:600]
    assert response["Content-Type"] == PROBLEM_JSON
    body = body_of(response)
    assert (body["status"], body["code"], body["type"]) == (status, code, f"/problems/{code}")
    assert body["error"] == body["detail"]


# (payload, status, code); "{outside}" becomes the sentinel's absolute path.
CAPTURE_PAYLOADS = [
    pytest.param("../", 422, "path_forbidden", id="dotdot-slash"),
    pytest.param("..", 422, "path_forbidden", id="dotdot"),
    pytest.param("../../outside", 422, "path_forbidden", id="traversal-to-sentinel"),
    pytest.param("it-system-demo/../../../outside", 422, "path_forbidden", id="traversal-through-capture"),
    pytest.param("..%2F..%2Foutside", 422, "path_forbidden", id="encoded-slash"),
    pytest.param("%2e%2e/%2e%2e/outside", 422, "path_forbidden", id="encoded-dots"),
    pytest.param("%2E%2E%2F%2E%2E%2Foutside", 422, "path_forbidden", id="encoded-upper"),
    # Decoded once it is a plain (missing) name under the root: harmless.
    pytest.param("%252e%252e%252f%252e%252e%252foutside", 422, "capture_not_found", id="double-encoded"),
    pytest.param("/etc", 422, "path_forbidden", id="absolute-etc"),
    pytest.param("{outside}", 422, "path_forbidden", id="absolute-sentinel"),
    pytest.param("link-out", 422, "path_forbidden", id="symlink-out"),
    pytest.param("link-out/", 422, "path_forbidden", id="symlink-out-slash"),
    pytest.param("a\u0000b", 422, "path_forbidden", id="nul"),
    pytest.param("it-system-demo\u0000/../../outside", 422, "path_forbidden", id="nul-then-traversal"),
    pytest.param("x" * 129, 422, "capture_not_found", id="129-chars"),
    pytest.param("x" * 300, 422, "path_forbidden", id="300-chars"),
    pytest.param("x" * 5000, 422, "path_forbidden", id="5000-chars"),
    pytest.param("a/" * 2100, 422, "path_forbidden", id="over-path-max"),
    pytest.param("．．／．．／outside", 422, "capture_not_found", id="fullwidth-lookalikes"),
    pytest.param("‥/outside", 422, "capture_not_found", id="two-dot-leader"),
    pytest.param("..\\..\\outside", 422, "path_forbidden", id="backslashes"),
    pytest.param("C:\\x", 422, "path_forbidden", id="drive-backslash"),
    pytest.param("C:/x", 422, "path_forbidden", id="drive-slash"),
    pytest.param("\\\\server\\share", 422, "path_forbidden", id="unc"),
    pytest.param("~root", 422, "capture_not_found", id="tilde"),
    pytest.param("file:///etc", 422, "capture_not_found", id="file-url"),
    pytest.param(" ", 422, "path_forbidden", id="blank"),
]


@pytest.mark.parametrize(("payload", "status", "code"), CAPTURE_PAYLOADS)
def test_capture_directory_attacks(
    client: APIClient, sandbox: Sandbox, payload: str, status: int, code: str
) -> None:
    payload = payload.replace("{outside}", str(sandbox.sentinel))
    body = {"templateId": "it-system-microservices", "telemetry": {"captureDirectory": payload}}

    with recorded_file_access() as accesses:
        response = post_run(client, body)

    assert_refused(response, status, code)
    sandbox.check(response, accesses, echo=payload)
    assert run_dirs(sandbox.data_root) == []


BINDING_PAYLOADS = [
    pytest.param("../it-system-demo/manifest.json", 422, "path_forbidden", id="dotdot"),
    pytest.param("../../../outside/secret.csv", 422, "path_forbidden", id="traversal-to-sentinel"),
    pytest.param("..%2F..%2F..%2Foutside%2Fsecret.csv", 422, "path_forbidden", id="encoded"),
    pytest.param("%2e%2e/secret.csv", 422, "path_forbidden", id="encoded-dots"),
    pytest.param("./LoadBalancer_arrivals.csv", 422, "path_forbidden", id="dot-segment"),
    pytest.param("/etc/passwd", 422, "path_forbidden", id="absolute"),
    pytest.param("{outside}/secret.csv", 422, "path_forbidden", id="absolute-sentinel"),
    pytest.param("a\u0000b.csv", 422, "path_forbidden", id="nul"),
    pytest.param("..\\secret.csv", 422, "path_forbidden", id="backslash"),
    pytest.param("C:\\secret.csv", 422, "path_forbidden", id="drive"),
    pytest.param("file:///etc/passwd", 422, "path_forbidden", id="file-url"),
    pytest.param("．．／secret.csv", 422, "binding_invalid", id="fullwidth-lookalikes"),
    pytest.param("x" * 5000, 422, "path_forbidden", id="5000-chars"),
]


@pytest.mark.parametrize(("payload", "status", "code"), BINDING_PAYLOADS)
def test_binding_attacks(client: APIClient, sandbox: Sandbox, payload: str, status: int, code: str) -> None:
    payload = payload.replace("{outside}", str(sandbox.sentinel))
    body = {
        "templateId": "it-system-microservices",
        "telemetry": {"captureDirectory": "it-system-demo", "bindings": {"telemetryRequestsSource": payload}},
    }

    with recorded_file_access() as accesses:
        response = post_run(client, body)

    assert_refused(response, status, code)
    sandbox.check(response, accesses, echo=payload)
    assert run_dirs(sandbox.data_root) == []


def test_capture_file_replaced_by_a_symlink_out_is_path_forbidden(
    client: APIClient, sandbox: Sandbox
) -> None:
    target = sandbox.data_root / "telemetry" / "it-system-demo" / "LoadBalancer_arrivals.csv"
    target.unlink()
    os.symlink(sandbox.sentinel / "LoadBalancer_arrivals.csv", target)  # same bytes, so same hash

    with recorded_file_access() as accesses:
        response = post_run(
            client,
            {"templateId": "it-system-microservices", "telemetry": {"captureDirectory": "it-system-demo"}},
        )

    assert_refused(response, 422, "path_forbidden")
    sandbox.check(response, accesses)


RUN_ID_PAYLOADS = [
    "../escape",
    "..",
    ".",
    "/etc",
    "a/b",
    "..%2Fescape",
    "%2e%2e",
    "x" * 129,
    "x" * 5000,
    "．．",
    "..\\escape",
    "C:\\x",
    ".staging",
    "-dash",
    " leading-space",
    "trailing-newline\n",
    "tab\tinside",
]


@pytest.mark.parametrize("payload", RUN_ID_PAYLOADS)
def test_run_id_attacks_in_the_body(client: APIClient, sandbox: Sandbox, payload: str) -> None:
    with recorded_file_access() as accesses:
        response = post_run(client, {"templateId": "order-system", "options": {"runId": payload}})

    assert_refused(response, 400, "invalid_request")
    assert body_of(response)["errors"][0]["field"] == "options.runId"
    sandbox.check(response, accesses)
    assert run_dirs(sandbox.data_root) == []
    assert Run.objects.count() == 0


def test_nul_in_run_id_is_invalid_request(client: APIClient, sandbox: Sandbox) -> None:
    with recorded_file_access() as accesses:
        response = post_run(client, {"templateId": "order-system", "options": {"runId": "a\u0000b"}})

    assert_refused(response, 400, "invalid_request")
    sandbox.check(response, accesses)


# (path segment as sent, code): whatever follows runs/ (even text decoding to "/") is a run id that
# fails the pattern, so every one of them is run_not_found without any disk access.
ROUTE_PAYLOADS = [
    pytest.param("..", "run_not_found", id="dotdot"),
    pytest.param("%2e%2e", "run_not_found", id="encoded-dotdot"),
    pytest.param("%252e%252e%252f", "run_not_found", id="double-encoded"),
    pytest.param(".staging", "run_not_found", id="staging"),
    # Decodes to several segments: no route matches, so a plain not_found (spec 07 §6).
    pytest.param("..%2F..%2Foutside", "not_found", id="encoded-slash"),
    pytest.param("..%5C..%5Coutside", "run_not_found", id="backslashes"),
    pytest.param("C:%5Cx", "run_not_found", id="drive"),
    pytest.param("a%00b", "run_not_found", id="nul"),
    pytest.param("x" * 129, "run_not_found", id="129-chars"),
    pytest.param("x" * 5000, "run_not_found", id="5000-chars"),
    pytest.param(quote("．．／outside"), "run_not_found", id="fullwidth-lookalikes"),
    pytest.param("link-out", "run_not_found", id="symlink-name"),
    pytest.param("~root", "run_not_found", id="tilde"),
]


@pytest.mark.parametrize("suffix", ["", "/state?binIndex=0", "/index"])
@pytest.mark.parametrize(("segment", "code"), ROUTE_PAYLOADS)
def test_run_id_attacks_in_the_route(
    client: APIClient, sandbox: Sandbox, segment: str, code: str, suffix: str
) -> None:
    with recorded_file_access() as accesses:
        response = client.get(f"/v1/runs/{segment}{suffix}")

    assert_refused(response, 404, code)
    sandbox.check(response, accesses)


@pytest.mark.parametrize("path", ["/v1/runs/../../etc/passwd", "/v1/runs/%2e%2e/%2e%2e/etc/passwd"])
def test_traversal_in_the_url_path_is_a_plain_404(client: APIClient, sandbox: Sandbox, path: str) -> None:
    with recorded_file_access() as accesses:
        response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM_JSON
    sandbox.check(response, accesses)


def test_the_guard_notices_a_read_outside_the_data_root(
    client: APIClient, sandbox: Sandbox, settings: Any
) -> None:
    """The checks above can fail: allow the sentinel as a telemetry root and read it."""
    settings.FLOWTIME_TELEMETRY_ROOTS = str(sandbox.sentinel)
    body = {"templateId": "it-system-microservices", "telemetry": {"captureDirectory": str(sandbox.sentinel)}}

    with recorded_file_access() as accesses:
        response = post_run(client, body, query="?dryRun=true")

    assert response.status_code == 200, response.content
    with pytest.raises(AssertionError):
        sandbox.check(response, accesses, echo=str(sandbox.sentinel))


def test_successful_bodies_name_no_absolute_path(client: APIClient, sandbox: Sandbox) -> None:
    responses = [
        post_run(client, DETERMINISTIC_ORDER_SYSTEM, query="?dryRun=true"),
        post_run(client, DETERMINISTIC_ORDER_SYSTEM),
        post_run(
            client,
            {
                "templateId": "it-system-microservices",
                "telemetry": {"captureDirectory": "it-system-demo"},
                "options": {"dryRun": True},
            },
        ),
        client.get("/v1/runs"),
    ]
    responses.append(client.get(responses[1]["Location"]))

    for response in responses:
        assert response.status_code in {200, 201}, response.content
        text = response.content.decode()
        assert str(sandbox.tmp_path) not in text
        assert str(Path.cwd()) not in text


# --- who may read and write (spec 05 §8) ---------------------------------------------------------


def token_client(username: str = "client") -> APIClient:
    token = Token.objects.create(user=User.objects.create_user(username))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_writes_need_credentials_by_default(data_root: Path, settings: Any) -> None:
    assert settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES is False

    response = post_run(APIClient(), DETERMINISTIC_ORDER_SYSTEM)

    assert_refused(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    assert run_dirs(data_root) == []


def test_writes_with_a_token_are_allowed(data_root: Path) -> None:
    response = post_run(token_client(), DETERMINISTIC_ORDER_SYSTEM)

    assert response.status_code == 201, response.content
    assert run_dirs(data_root) == [body_of(response)["metadata"]["runId"]]


def test_a_wrong_token_is_401(data_root: Path) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM)

    assert_refused(response, 401, "not_authenticated")
    assert body_of(response)["detail"] == "Invalid token."
    assert run_dirs(data_root) == []


def test_session_login_with_csrf_token_may_write(data_root: Path) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("staff"))
    client.cookies["csrftoken"] = "a" * 32

    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM, HTTP_X_CSRFTOKEN="a" * 32)

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("path", ["/v1/runs", "/v1/templates", "/v1/templates/order-system"])
def test_reads_are_open_by_default(path: str) -> None:
    assert APIClient().get(path).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1/runs",
        "/v1/runs/run_x",
        "/v1/runs/run_x/state?binIndex=0",
        "/v1/runs/run_x/state_window?startBin=0&endBin=1",
        "/v1/runs/run_x/index",
        "/v1/runs/run_x/series/a",
        "/v1/runs/run_x/model",
        "/v1/templates",
        "/v1/templates/order-system",
    ],
)
def test_reads_need_credentials_when_configured(settings: Any, path: str) -> None:
    settings.FLOWTIME_REQUIRE_AUTH_FOR_READS = True

    response = APIClient().get(path)

    assert_refused(response, 401, "not_authenticated")
    assert token_client().get(path).status_code in {200, 404}


def test_anonymous_writes_switch_does_not_open_reads(settings: Any) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    settings.FLOWTIME_REQUIRE_AUTH_FOR_READS = True

    assert_refused(APIClient().get("/v1/runs"), 401, "not_authenticated")
    assert post_run(APIClient(), DETERMINISTIC_ORDER_SYSTEM).status_code == 201
