from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from telemetry_helpers import copy_fixture


@pytest.fixture
def fixture_capture(data_root: Path) -> Path:
    """The shipped it-system capture, copied to ``<data>/telemetry/it-system-telemetry``."""
    return copy_fixture(data_root / "telemetry" / "it-system-telemetry")


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The working directory (the CLI's base for relative paths) set to ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
