"""Evaluation of a validated model (spec 02 §3, §7–§9): every node's series, vectorised with numpy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runs.engine.expressions import compile_expression, parse_expression
from runs.engine.model import Model, NodeSpec
from runs.engine.rng import pcg32_doubles, pmf_expected_value, pmf_sample
from runs.engine.sources import read_series_issue, resolve_source_issue
from runs.errors import Issue, ModelError


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The evaluation order and one float64 series of length ``bins`` per node, in definition order."""

    order: tuple[str, ...]
    series: dict[str, np.ndarray]


def _load_sources(model: Model, *, model_dir: Path | None, confine_to: Path | None) -> dict[str, np.ndarray]:
    loaded: dict[str, np.ndarray] = {}
    issues: list[Issue] = []
    for i, node in enumerate(model.nodes):
        if node.kind != "const" or not node.source:
            continue
        path = f"nodes[{i}].source"
        resolved = resolve_source_issue(
            node.source, model_dir=model_dir, confine_to=confine_to, issue_path=path
        )
        if isinstance(resolved, Issue):
            issues.append(resolved)
            continue
        series = read_series_issue(resolved, bins=model.grid.bins, uri=node.source, issue_path=path)
        if isinstance(series, Issue):
            issues.append(series)
        else:
            loaded[node.id] = series
    if issues:
        raise ModelError(issues)
    return loaded


def _sample_draws(model: Model) -> dict[str, np.ndarray]:
    """Each sampling node's slice of one PCG32 stream, handed out in definition order."""
    sampling = [n.id for n in model.nodes if n.kind == "pmf" and n.sample]
    if not sampling:
        return {}
    if model.rng_seed is None:
        raise ModelError([Issue("rng_invalid", "rng", "Sampling a PMF needs a model rng")])
    bins = model.grid.bins
    doubles = pcg32_doubles(model.rng_seed, len(sampling) * bins)
    return {node_id: doubles[n * bins : (n + 1) * bins] for n, node_id in enumerate(sampling)}


def evaluate(
    model: Model,
    *,
    model_dir: Path | None = None,
    confine_to: Path | None = None,
    cancel: Callable[[], None] | None = None,
) -> Evaluation:
    """Compute every node's series (keyed in definition order), in ``model.order``.

    Loads every file source first and raises one ``ModelError`` with all source issues; after
    that nothing raises except ``cancel``, which is called before each node.
    """
    loaded = _load_sources(model, model_dir=model_dir, confine_to=confine_to)
    draws = _sample_draws(model)
    bins = model.grid.bins
    env: dict[str, np.ndarray] = {}
    # Identities of finished series: an expression that is just a reference (or SHIFT by 0) would
    # otherwise return another node's array itself.
    finished: set[int] = set()
    with np.errstate(all="ignore"):
        for node_id in model.order:
            if cancel is not None:
                cancel()
            node = model.node(node_id)
            series = _node_series(node, bins, env, loaded, draws)
            if id(series) in finished:
                series = series.copy()
            env[node_id] = series
            finished.add(id(series))
    return Evaluation(order=model.order, series={n.id: env[n.id] for n in model.nodes})


def _node_series(
    node: NodeSpec,
    bins: int,
    env: dict[str, np.ndarray],
    loaded: dict[str, np.ndarray],
    draws: dict[str, np.ndarray],
) -> np.ndarray:
    if node.kind == "const":
        if node.id in loaded:
            return loaded[node.id]
        return np.array(node.values, dtype=np.float64)
    if node.kind == "expr":
        program = node.program
        if program is None:  # a NodeSpec built by hand rather than by load_model
            tree = node.expr_tree if node.expr_tree is not None else parse_expression(node.expr or "")
            program = compile_expression(tree, bins)
        value = program(env)
        if np.ndim(value) == 0:
            return np.full(bins, float(value), dtype=np.float64)
        return np.asarray(value, dtype=np.float64)
    if node.kind == "pmf":
        assert node.pmf_values is not None and node.pmf_probabilities is not None
        if node.sample:
            return pmf_sample(node.pmf_values, node.pmf_probabilities, draws[node.id])
        return np.full(bins, pmf_expected_value(node.pmf_values, node.pmf_probabilities), dtype=np.float64)
    # backlog: the Lindley form is the definition (spec 02 §3), not a rewrite of a loop.
    assert node.inflow is not None and node.outflow is not None
    initial = 0.0 if node.initial is None else node.initial
    level = initial + np.cumsum(env[node.inflow] - env[node.outflow])
    return level - np.minimum.accumulate(np.minimum(level, 0.0))
