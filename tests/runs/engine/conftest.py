"""Helpers for the engine tests: build a small model from node dicts and evaluate it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from runs.engine import evaluate, load_model
from runs.errors import Issue, ModelError

Nodes = list[dict[str, Any]]


def _doc(nodes: Nodes, bins: int, **extra: Any) -> dict[str, Any]:
    return {"grid": {"bins": bins, "binSize": 1, "binUnit": "hours"}, "nodes": nodes, **extra}


@pytest.fixture
def run_nodes() -> Callable[..., dict[str, np.ndarray]]:
    """Evaluate a model made of ``nodes`` over ``bins`` bins; returns the series by id."""

    def run(nodes: Nodes, bins: int, **extra: Any) -> dict[str, np.ndarray]:
        return evaluate(load_model(_doc(nodes, bins, **extra))).series

    return run


@pytest.fixture
def model_issues() -> Callable[..., list[Issue]]:
    """The issues ``load_model`` raises for a document (fails the test when it loads)."""

    def issues(doc: Mapping[str, Any] | str) -> list[Issue]:
        with pytest.raises(ModelError) as caught:
            load_model(doc)
        return list(caught.value.errors)

    return issues


@pytest.fixture
def node_issues(model_issues: Callable[..., list[Issue]]) -> Callable[..., list[Issue]]:
    """The issues for a model made of ``nodes`` over ``bins`` bins."""

    def issues(nodes: Nodes, bins: int = 3, **extra: Any) -> list[Issue]:
        return model_issues(_doc(nodes, bins, **extra))

    return issues
