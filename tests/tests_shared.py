"""Paths shared by tests (importable because pytest puts the rootdir's tests/ on sys.path)."""

from __future__ import annotations

from pathlib import Path

SHARED_DIR = Path(__file__).resolve().parent.parent.parent / "shared"
FIXTURE_BUNDLE = SHARED_DIR / "fixtures" / "it-system-telemetry"
