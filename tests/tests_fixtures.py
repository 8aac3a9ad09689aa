"""Paths to example files shipped in the repository (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The capture bundle written by the original FlowTime tooling, shipped as the telemetry guide's example.
FIXTURE_BUNDLE = REPO_ROOT / "docs" / "examples" / "it-system-telemetry"
