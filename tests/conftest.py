"""Every test gets its own data root: nothing ever touches the real ``var/data``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def data_root(tmp_path: Path, settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "data"
    root.mkdir()
    settings.FLOWTIME_DATA_DIR = root  # type: ignore[attr-defined]
    monkeypatch.setenv("FLOWTIME_DATA_DIR", str(root))
    yield root


@pytest.fixture(autouse=True, scope="session")
def responses_follow_the_openapi_document() -> Iterator[None]:
    """Every response the suite receives through Django's test client (``APIClient`` included) is
    checked against the committed ``docs/openapi.yaml``; a mismatch fails the test that received it."""
    from django.test import Client
    from openapi_contract import contract_problems

    real_request = Client.request

    def checked_request(self: Client, **request: Any) -> Any:
        response = real_request(self, **request)
        if getattr(response, "streaming", False):
            return response
        problems = contract_problems(
            request.get("REQUEST_METHOD", "GET"),
            request.get("PATH_INFO", ""),
            response.status_code,
            response.get("Content-Type", ""),
            response.content,
        )
        assert not problems, "Response does not follow docs/openapi.yaml:\n" + "\n".join(problems)
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Client, "request", checked_request)
        yield
