"""The project's version, one value for run.json ``engineVersion``, provenance and the API schema."""

from __future__ import annotations

from functools import cache
from importlib import metadata


@cache
def package_version() -> str:
    try:
        return metadata.version("flowtime-runs")
    except metadata.PackageNotFoundError:
        return "0.1.0"  # a source tree that was never installed: pyproject.toml's version
