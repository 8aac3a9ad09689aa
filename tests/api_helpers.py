"""Shared pieces of the HTTP contract tests: problem bodies, goldens, captures, file-access records."""

from __future__ import annotations

import builtins
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.http import HttpResponse
from rest_framework.test import APIClient
from tests_fixtures import FIXTURE_BUNDLE

from runs.models import Run

GOLDEN_DIR = Path(__file__).resolve().parent / "golden" / "api"
FIXTURE_CAPTURE = FIXTURE_BUNDLE
PROBLEM_JSON = "application/problem+json"

# Written out here rather than imported from runs.errors, so a renamed title fails a test.
TITLES = {
    "invalid_request": "Invalid request",
    "invalid_parameter": "Invalid query parameter",
    "not_authenticated": "Authentication required",
    "permission_denied": "Permission denied",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "run_not_found": "Run not found",
    "template_not_found": "Template not found",
    "run_exists": "Run already exists",
    "run_invalid": "Run directory is invalid",
    "request_too_large": "Request body too large",
    "unsupported_media_type": "Unsupported media type",
    "parameter_invalid": "Invalid template parameters",
    "parameter_unknown": "Unknown template parameters",
    "binding_invalid": "Invalid telemetry binding",
    "model_invalid": "Invalid model",
    "capture_not_found": "Capture not found",
    "capture_invalid": "Invalid capture",
    "capture_hash_mismatch": "Capture file hash mismatch",
    "capture_exists": "Capture already exists",
    "capture_name_collision": "Capture file names collide",
    "path_forbidden": "Path forbidden",
    "internal_error": "Internal server error",
    "service_unavailable": "Service unavailable",
    "idempotency_key_reused": "Idempotency key reused",
    "idempotency_key_in_progress": "Idempotency key in progress",
}

ORDER_SYSTEM_RUN_ID = "run_order-system_72feff8e278346d9"
ORDER_SYSTEM_INPUT_HASH = "sha256:72feff8e278346d9a5f0e139a0ace0584a9997835f1fe2008480b4663a8125d6"
# order-system's parameters after defaults (order-system.yaml), written out: what runs record and plan.
ORDER_SYSTEM_PARAMETERS = {
    "bins": 4,
    "binSize": 5,
    "orderArrivals": [10, 14, 18, 12],
    "orderCapacity": [16, 16, 16, 16],
    "paymentCapacity": [14, 14, 14, 14],
    "orderErrorRate": 0.05,
    "paymentErrorRate": 0.02,
    "telemetryArrivals": "",
    "telemetryOrderCapacity": "",
    "telemetryPaymentCapacity": "",
}
DETERMINISTIC_ORDER_SYSTEM = {"templateId": "order-system", "options": {"deterministicRunId": True}}
TELEMETRY_REQUEST = {
    "templateId": "it-system-microservices",
    "telemetry": {
        "captureDirectory": "it-system-demo",
        "bindings": {"telemetryRequestsSource": "LoadBalancer_arrivals.csv"},
    },
}


def problem(
    code: str,
    status: int,
    detail: str,
    *,
    instance: str = "/v1/runs",
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole problem+json body spec 05 §7 promises (``error`` repeats ``detail``)."""
    return {
        "type": f"/problems/{code}",
        "title": TITLES[code],
        "status": status,
        "detail": detail,
        "code": code,
        "error": detail,
        "errors": errors or [],
        "instance": instance,
    }


def field_error(field: str, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message, **extra}


def body_of(response: HttpResponse) -> Any:
    return json.loads(response.content)


def assert_problem(response: HttpResponse, expected: Mapping[str, Any]) -> None:
    assert response.status_code == expected["status"], response.content
    assert response["Content-Type"] == PROBLEM_JSON
    assert body_of(response) == expected


def post_run(client: APIClient, body: Any, *, query: str = "", **extra: Any) -> HttpResponse:
    return client.post(f"/v1/runs{query}", body, format="json", **extra)  # type: ignore[return-value]


def writer(settings: Any) -> APIClient:
    """An anonymous client allowed to write (``FLOWTIME_ALLOW_ANONYMOUS_WRITES``)."""
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    return APIClient()


def copy_capture(data_root: Path, name: str = "it-system-demo") -> Path:
    """A writable copy of the shipped it-system capture under ``<data>/telemetry/<name>``."""
    target = data_root / "telemetry" / name
    target.mkdir(parents=True)
    for entry in sorted(FIXTURE_CAPTURE.iterdir()):
        shutil.copyfile(entry, target / entry.name)
    return target


def run_dirs(data_root: Path) -> list[str]:
    """Published run directories (the staging area excluded)."""
    runs = data_root / "runs"
    return sorted(p.name for p in runs.iterdir() if p.name != ".staging") if runs.exists() else []


def staging_entries(data_root: Path) -> list[str]:
    staging = data_root / "runs" / ".staging"
    return sorted(p.name for p in staging.iterdir()) if staging.exists() else []


def assert_nothing_written(data_root: Path) -> None:
    """No run published, nothing left in staging, no index row."""
    assert run_dirs(data_root) == []
    assert staging_entries(data_root) == []
    assert Run.objects.count() == 0


def tree_listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def scrub(value: Any, replacements: Mapping[str, str] | None = None) -> Any:
    """A copy of a body with volatile parts replaced: every ``createdUtc`` and the given substrings
    (random run ids, which also appear inside links and storage paths)."""
    replacements = replacements or {}
    if isinstance(value, dict):
        return {
            key: "<createdUtc>" if key == "createdUtc" and item is not None else scrub(item, replacements)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item, replacements) for item in value]
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
    return value


def assert_golden(name: str, body: Any) -> None:
    """Compare with ``tests/golden/api/<name>`` (key order included). ``FLOWTIME_UPDATE_GOLDEN=1``
    rewrites the file; review the diff before committing it."""
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    path = GOLDEN_DIR / name
    if os.environ.get("FLOWTIME_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@contextmanager
def recorded_file_access() -> Iterator[list[tuple[str, str]]]:
    """Record every path opened, listed, created or renamed (``(operation, absolute path)``) while
    the block runs. Imports use ``io.open_code`` and are not recorded."""
    accesses: list[tuple[str, str]] = []
    originals: dict[tuple[Any, str], Callable[..., Any]] = {}

    def wrap(owner: Any, name: str, path_args: int = 1) -> None:
        real = getattr(owner, name)
        originals[(owner, name)] = real

        def recording(*args: Any, **kwargs: Any) -> Any:
            for arg in args[:path_args]:
                if isinstance(arg, str | bytes | os.PathLike):
                    accesses.append((name, os.path.abspath(os.fsdecode(arg))))
            return real(*args, **kwargs)

        setattr(owner, name, recording)

    wrap(builtins, "open")
    wrap(io, "open")
    wrap(os, "open")
    wrap(os, "mkdir")
    wrap(os, "scandir")
    wrap(os, "listdir")
    wrap(os, "rename", 2)
    wrap(os, "replace", 2)
    wrap(os, "symlink", 2)
    try:
        yield accesses
    finally:
        for (owner, name), real in originals.items():
            setattr(owner, name, real)


def outside(accesses: list[tuple[str, str]], *allowed: Path) -> list[tuple[str, str]]:
    """The recorded accesses that lie outside every allowed directory."""
    roots = [str(Path(root).resolve()) for root in allowed] + [str(Path(root)) for root in allowed]

    def inside(path: str) -> bool:
        return any(path == root or path.startswith(root + os.sep) for root in roots)

    return [(op, path) for op, path in accesses if not inside(path)]
