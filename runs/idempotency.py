"""``Idempotency-Key`` for ``POST /v1/runs``: a retried request gets the first answer, not a second run.

The first request with a key claims it by inserting a row (the unique constraint on scope + key is
the lock, on SQLite and PostgreSQL alike), runs, and stores its 2xx answer with the request's hash.
A repeat with the same hash within ``KEY_TTL`` gets the stored answer; another body gets
``idempotency_key_reused``. A request arriving while the first still runs waits for it (up to
``WAIT_SECONDS``, then ``idempotency_key_in_progress``), so concurrent retries all get one runId.
Failed requests write nothing, so their claim is released and not stored: a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from runs.errors import IdempotencyKeyInProgress, IdempotencyKeyReused, InvalidRequest, Issue
from runs.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
KEY_TTL = timedelta(hours=24)
# A claim this old without an answer belongs to a process that died; a new request may take it over.
ABANDONED_AFTER = timedelta(minutes=10)
WAIT_SECONDS = 60.0
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class StoredResponse:
    """A status, a JSON body and a ``Location`` (or ``None``); ``replayed`` when it is a stored one."""

    status: int
    body: Any
    location: str | None = None
    replayed: bool = False


def idempotency_key_check(value: str) -> str:
    """The header's value when it is 1–255 visible ASCII characters, else ``invalid_request``."""
    if not KEY_PATTERN.fullmatch(value):
        message = "Idempotency-Key must be 1 to 255 visible ASCII characters."
        raise InvalidRequest(message, errors=[Issue("invalid", HEADER, message)])
    return value


def idempotency_scope(user: Any) -> str:
    """Keys are per authenticated user; anonymous writes share one scope."""
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return "anonymous"


def request_fingerprint(*, body: Any, query: Mapping[str, list[str]]) -> str:
    """A hash of the request as parsed (key order and whitespace do not matter), query included."""
    canonical = json.dumps(
        {"body": body, "query": sorted((name, sorted(values)) for name, values in query.items())},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _claim(*, scope: str, key: str, request_hash: str, now: datetime) -> IdempotencyKey | None:
    try:
        with transaction.atomic():
            # Lazy purge: expired answers go as new keys come, without waiting for the command.
            IdempotencyKey.objects.filter(created_at__lt=now - KEY_TTL).delete()
            return IdempotencyKey.objects.create(
                scope=scope, key=key, request_hash=request_hash, created_at=now
            )
    except IntegrityError:
        return None


def _is_stale(row: IdempotencyKey, now: datetime) -> bool:
    return row.created_at < now - KEY_TTL or (row.status is None and row.created_at < now - ABANDONED_AFTER)


def idempotent_call(
    *, scope: str, key: str, request_hash: str, produce: Callable[[], StoredResponse]
) -> StoredResponse:
    """``produce()`` once per (scope, key) within ``KEY_TTL``; repeats get its stored 2xx answer."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        now = timezone.now()
        claim = _claim(scope=scope, key=key, request_hash=request_hash, now=now)
        if claim is not None:
            break
        row = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if row is None:  # released by a failed request between our insert and this read
            continue
        if _is_stale(row, now):
            # Conditional on created_at: of two requests finding it stale, only one deletes.
            IdempotencyKey.objects.filter(pk=row.pk, created_at=row.created_at).delete()
            continue
        if row.request_hash != request_hash:
            raise IdempotencyKeyReused()
        if row.status is not None:
            return StoredResponse(row.status, json.loads(row.body), row.location or None, replayed=True)
        if time.monotonic() >= deadline:
            raise IdempotencyKeyInProgress()
        time.sleep(POLL_SECONDS)
    try:
        response = produce()
    except BaseException:
        IdempotencyKey.objects.filter(pk=claim.pk).delete()
        raise
    if 200 <= response.status < 300:
        IdempotencyKey.objects.filter(pk=claim.pk).update(
            status=response.status,
            body=json.dumps(response.body, ensure_ascii=False, separators=(",", ":")),
            location=response.location or "",
        )
    else:
        IdempotencyKey.objects.filter(pk=claim.pk).delete()
    return response


def idempotency_keys_purge(*, dry_run: bool = False) -> int:
    """Delete stored answers older than ``KEY_TTL``; returns how many were (or would be) deleted."""
    expired = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - KEY_TTL)
    if dry_run:
        return expired.count()
    deleted, _ = expired.delete()
    return deleted
