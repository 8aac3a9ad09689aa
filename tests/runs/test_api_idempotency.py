"""``Idempotency-Key`` on ``POST /v1/runs``: a retried request gets the first answer, never a second run."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from api_helpers import assert_problem, body_of, field_error, post_run, problem, run_dirs, writer
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from live_helpers import at_once
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from runs import idempotency
from runs.models import IdempotencyKey, Run

pytestmark = pytest.mark.django_db

RANDOM_ID_RUN = {"templateId": "order-system"}


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


def post_with_key(client: APIClient, body: Any, key: str, **extra: Any) -> Any:
    return post_run(client, body, HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_retry_with_the_same_key_replays_the_first_answer(client: APIClient, data_root: Path) -> None:
    first = post_with_key(client, RANDOM_ID_RUN, "retry-1")
    again = post_with_key(client, RANDOM_ID_RUN, "retry-1")

    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert body_of(again) == body_of(first)
    assert len(run_dirs(data_root)) == 1
    assert Run.objects.count() == 1


def test_without_a_key_a_retry_makes_a_second_random_id_run(client: APIClient, data_root: Path) -> None:
    post_run(client, RANDOM_ID_RUN)
    post_run(client, RANDOM_ID_RUN)

    assert len(run_dirs(data_root)) == 2


def test_key_order_and_spacing_of_the_body_do_not_matter(client: APIClient, data_root: Path) -> None:
    raw_a = b'{"templateId": "order-system", "rng": {"seed": 3}}'
    raw_b = b'{"rng":{"seed":3},"templateId":"order-system"}'
    first = client.post("/v1/runs", raw_a, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    again = client.post("/v1/runs", raw_b, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")

    assert again["Idempotent-Replayed"] == "true"
    assert body_of(again)["metadata"]["runId"] == body_of(first)["metadata"]["runId"]
    assert len(run_dirs(data_root)) == 1


def test_same_key_with_another_body_is_422(client: APIClient, data_root: Path) -> None:
    post_with_key(client, RANDOM_ID_RUN, "reused")

    response = post_with_key(client, {"templateId": "support-queue"}, "reused")

    assert_problem(
        response,
        problem(
            "idempotency_key_reused",
            422,
            "This Idempotency-Key was already used with a different request; use a new key.",
        ),
    )
    assert len(run_dirs(data_root)) == 1


def test_same_key_with_another_query_is_422(client: APIClient) -> None:
    post_with_key(client, RANDOM_ID_RUN, "q")

    response = post_run(client, RANDOM_ID_RUN, query="?dryRun=true", HTTP_IDEMPOTENCY_KEY="q")

    assert response.status_code == 422
    assert body_of(response)["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "tab\tkey", "é"])
def test_malformed_key_is_invalid_request(client: APIClient, data_root: Path, key: str) -> None:
    response = post_with_key(client, RANDOM_ID_RUN, key)

    message = "Idempotency-Key must be 1 to 255 visible ASCII characters."
    assert_problem(
        response,
        problem("invalid_request", 400, message, errors=[field_error("Idempotency-Key", "invalid", message)]),
    )
    assert run_dirs(data_root) == []


def test_longest_key_is_accepted(client: APIClient) -> None:
    response = post_with_key(client, RANDOM_ID_RUN, "~" * 255)
    again = post_with_key(client, RANDOM_ID_RUN, "~" * 255)

    # A random-id run answers 201 with or without a key: the replay shows the key was kept.
    assert response.status_code == 201, response.content
    assert again["Idempotent-Replayed"] == "true"
    assert body_of(again) == body_of(response)


def test_a_failed_request_is_not_stored_so_its_retry_runs_again(client: APIClient, data_root: Path) -> None:
    failed = post_with_key(client, {"templateId": "no-such-template"}, "fail")
    assert failed.status_code == 422
    assert IdempotencyKey.objects.count() == 0

    again = post_with_key(client, {"templateId": "no-such-template"}, "fail")

    assert again.status_code == 422
    assert "Idempotent-Replayed" not in again


def test_dry_runs_are_replayed_too(client: APIClient, data_root: Path) -> None:
    body = {"templateId": "order-system", "options": {"dryRun": True, "deterministicRunId": True}}
    first = post_with_key(client, body, "dry")
    again = post_with_key(client, body, "dry")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert body_of(again) == body_of(first)
    assert run_dirs(data_root) == []


def test_keys_are_per_user(settings: Any, data_root: Path) -> None:
    clients = []
    for name in ("ann", "bob"):
        token = Token.objects.create(user=User.objects.create_user(name))
        user_client = APIClient()
        user_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        clients.append(user_client)

    ann = post_with_key(clients[0], RANDOM_ID_RUN, "shared-key")
    bob = post_with_key(clients[1], {"templateId": "support-queue"}, "shared-key")

    assert (ann.status_code, bob.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in bob
    assert sorted(IdempotencyKey.objects.values_list("scope", flat=True)) == sorted(
        f"user:{user.pk}" for user in User.objects.all()
    )


def test_anonymous_writers_share_one_scope(client: APIClient) -> None:
    post_with_key(client, RANDOM_ID_RUN, "anon")

    other = post_with_key(APIClient(), RANDOM_ID_RUN, "anon")

    assert other["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get().scope == "anonymous"


def test_an_expired_key_is_a_new_request(client: APIClient, data_root: Path) -> None:
    post_with_key(client, RANDOM_ID_RUN, "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))

    again = post_with_key(client, RANDOM_ID_RUN, "old")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert len(run_dirs(data_root)) == 2


def test_a_key_within_24_hours_still_replays(client: APIClient, data_root: Path) -> None:
    post_with_key(client, RANDOM_ID_RUN, "young")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=23, minutes=59))

    again = post_with_key(client, RANDOM_ID_RUN, "young")

    assert again["Idempotent-Replayed"] == "true"
    assert len(run_dirs(data_root)) == 1


def test_new_keys_purge_expired_ones_lazily(client: APIClient) -> None:
    expired = timezone.now() - timedelta(hours=25)
    IdempotencyKey.objects.create(
        scope="anonymous", key="gone", request_hash="x", status=201, created_at=expired
    )

    post_with_key(client, RANDOM_ID_RUN, "new")

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_purge_command_deletes_only_expired_keys() -> None:
    now = timezone.now()
    for key, age in (("expired", timedelta(hours=25)), ("fresh", timedelta(hours=1))):
        IdempotencyKey.objects.create(
            scope="anonymous", key=key, request_hash="x", status=201, created_at=now - age
        )
    out = StringIO()

    call_command("purge_idempotency_keys", "--dry-run", stdout=out)
    assert out.getvalue() == "Would purge 1 expired idempotency keys.\n"
    assert IdempotencyKey.objects.count() == 2

    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert out.getvalue() == "Purged 1 expired idempotency keys.\n"
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


def test_a_key_still_in_progress_after_the_wait_is_409(
    client: APIClient, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    request_hash = idempotency.request_fingerprint(body=RANDOM_ID_RUN, query={})
    IdempotencyKey.objects.create(
        scope="anonymous", key="busy", request_hash=request_hash, created_at=timezone.now()
    )

    response = post_with_key(client, RANDOM_ID_RUN, "busy")

    assert_problem(
        response,
        problem(
            "idempotency_key_in_progress",
            409,
            "A request with this Idempotency-Key is still being processed; retry later.",
        ),
    )
    assert run_dirs(data_root) == []


def test_an_abandoned_claim_is_taken_over(client: APIClient, data_root: Path) -> None:
    request_hash = idempotency.request_fingerprint(body=RANDOM_ID_RUN, query={})
    IdempotencyKey.objects.create(
        scope="anonymous",
        key="crashed",
        request_hash=request_hash,
        created_at=timezone.now() - timedelta(minutes=11),
    )

    response = post_with_key(client, RANDOM_ID_RUN, "crashed")

    assert response.status_code == 201
    assert len(run_dirs(data_root)) == 1


CLIENTS = 20


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_with_one_key_make_one_run(
    live_server: Any, settings: Any, data_root: Path
) -> None:
    import urllib.request

    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    url = f"{live_server.url}/v1/runs"
    assert url.startswith("http://localhost:")

    def send(_index: int) -> tuple[int, Any, Any]:
        request = urllib.request.Request(
            url,
            data=json.dumps(RANDOM_ID_RUN).encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": "one-key"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, json.loads(response.read()), response.headers

    answers = at_once(CLIENTS, send)
    assert [status for status, _, _ in answers] == [201] * CLIENTS
    assert len({body["metadata"]["runId"] for _, body, _ in answers}) == 1
    replayed = [headers.get("Idempotent-Replayed") for _, _, headers in answers]
    assert sorted(replayed, key=str) == [None] + ["true"] * (CLIENTS - 1)
    assert len(run_dirs(data_root)) == 1
    assert Run.objects.count() == 1
