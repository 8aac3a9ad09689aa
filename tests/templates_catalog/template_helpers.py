"""Shared constants for the template tests: the shipped catalog and a small valid template."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

CATALOG_DIR = Path(__file__).resolve().parents[2] / "templates_catalog" / "catalog"
from tests_fixtures import FIXTURE_BUNDLE  # noqa: E402, F401 - re-exported for the template tests

MINI = """\
schemaVersion: 1
generator: flowtime-sim
mode: simulation
metadata:
  id: mini
  title: Mini
  version: 1.0.0
  description: A small template for tests.
  tags: [test]
window:
  start: 2025-01-01T00:00:00Z
parameters:
  - {name: bins, type: integer, default: 3, minimum: 1, maximum: 48}
  - {name: demand, type: array, items: {type: number}, default: [1, 2, 3], minimum: 0, maximum: 100}
  - {name: factor, type: number, default: 0.5, minimum: 0, maximum: 10}
  - {name: label, type: string, default: "svc"}
  - {name: src, type: string, default: ""}
grid:
  bins: ${bins}
  binSize: 60
  binUnit: Minutes
topology:
  nodes:
    - id: Svc
      group: ${label}
      semantics: {arrivals: demand, served: served}
nodes:
  - {id: demand, kind: const, values: "${demand}", source: "${src}"}
  - {id: served, kind: expr, expr: "demand * ${factor}"}
outputs:
  - series: "*"
"""


# Types of the conftest fixtures, importable by name from any test module.
WriteTemplate = Callable[..., Path]
LoadText = Callable[..., "Template"]

if TYPE_CHECKING:
    from templates_catalog.documents import Template
