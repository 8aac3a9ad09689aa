"""Where the data lives on this host: the one place that turns settings into paths."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def data_root() -> Path:
    """``FLOWTIME_DATA_DIR``, read at call time so tests and commands can point it elsewhere."""
    return Path(settings.FLOWTIME_DATA_DIR)


def runs_root() -> Path:
    return data_root() / "runs"
