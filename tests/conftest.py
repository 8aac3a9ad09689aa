"""Every test gets its own data root: nothing ever touches the real ``var/data``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_root(tmp_path: Path, settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "data"
    root.mkdir()
    settings.FLOWTIME_DATA_DIR = root  # type: ignore[attr-defined]
    monkeypatch.setenv("FLOWTIME_DATA_DIR", str(root))
    yield root
