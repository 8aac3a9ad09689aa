from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def runs_root(tmp_path: Path) -> Path:
    """An empty runs root (the project conftest already puts a data dir in ``tmp_path``)."""
    root = tmp_path / "runs"
    root.mkdir()
    return root
