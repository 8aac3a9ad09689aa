"""Fixtures for the replay tests: fresh caches, and the worked-example run in the test data root."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from replay_helpers import FixtureRun, RunSpec, build_run

from runs.replay import clear_caches


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def make_run(data_root: Path) -> Callable[..., FixtureRun]:
    def make(**kwargs: Any) -> FixtureRun:
        return build_run(data_root, RunSpec(**kwargs))

    return make


@pytest.fixture
def fixture_run(make_run: Callable[..., FixtureRun]) -> FixtureRun:
    return make_run()
