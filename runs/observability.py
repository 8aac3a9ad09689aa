"""Structured run events (spec 05 §9): one JSON object per log line, and the run metrics."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

run_logger = logging.getLogger("flowtime.runs")

# The request being served (set by the HTTP middleware), so run events carry its X-Request-ID; a
# context variable keeps concurrent requests apart (threads and async alike).
current_request_id: ContextVar[str | None] = ContextVar("flowtime_request_id", default=None)


def log_event(event: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one named event; fields with ``None`` values are kept so every line has the same keys."""
    fields.setdefault("requestId", current_request_id.get())
    run_logger.log(level, event, extra={"event": event, "fields": fields})


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    box = {"ms": 0.0}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["ms"] = round((time.perf_counter() - start) * 1000, 3)


def log_timestamp(created: float) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``: ``2026-12-06T09:00:00.123Z``."""
    moment = datetime.fromtimestamp(created, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


class JsonLineFormatter(logging.Formatter):
    """Formats records as single-line JSON with ``event`` and the record's structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": log_timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", None) or record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
        for key in ("requestId", "method", "path", "status", "durationMs"):
            value = getattr(record, key, None)
            if value is not None:
                payload[key] = value
        if record.exc_info:
            # Exception type only: tracebacks go to stderr of the process, never to clients.
            payload["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(payload, ensure_ascii=False, default=str)


@contextmanager
def command_logging(verbosity: int) -> Iterator[None]:
    """Management commands speak to people on stderr (``code: message``, progress lines); the JSON
    run events would bury that, so they are shown only with ``-v 2`` or more."""
    logger = logging.getLogger("flowtime")
    previous = logger.level
    if verbosity < 2:
        # run_failed is a warning for a refused request, which the command already prints as
        # ``code: message``; only errors (bugs, a failed index write) still reach stderr as JSON.
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)
