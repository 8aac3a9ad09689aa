"""B4: engine evaluation of an expression-heavy model vs hand-written numpy computing the same
expressions (same ufuncs, same order, same zero-divisor rule), checked to be bit-identical.

B4a/b: 4 const + 200 expr nodes × 100,000 bins (``evaluate`` only; ``load_model`` reported apart).
B4c: spec 02 §11's own benchmark, 100 const + 900 expr nodes × 10,000 bins, validation + evaluation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.harness import Figure, emit, log, median, ms

Array = np.ndarray
Baseline = Callable[[Array, Array, Array, Array], Array]


def _divide(a: Array, b: Array) -> Array:
    out = np.zeros(a.shape, dtype=np.float64)
    np.divide(a, b, out=out, where=b != 0)
    return out


def _shift(x: Array, k: int) -> Array:
    out = np.zeros(x.shape, dtype=np.float64)
    out[k:] = x[:-k]
    return out


# (expression template, the same expression written directly in numpy)
SHAPES: tuple[tuple[str, Baseline], ...] = (
    (
        "MIN({a}, {b}) * 0.9 + SHIFT({c}, 3) / ({d} + 1)",
        lambda a, b, c, d: np.minimum(a, b) * 0.9 + _divide(_shift(c, 3), d + 1.0),
    ),
    ("MAX({a} - {b}, 0) + {c} * 0.5", lambda a, b, c, d: np.maximum(a - b, 0.0) + c * 0.5),
    (
        "CLAMP({a}, 10, {b}) - ABS({c} - {d})",
        lambda a, b, c, d: np.maximum(10.0, np.minimum(b, a)) - np.abs(c - d),
    ),
    ("({a} + {b}) / ({c} + {d} + 1)", lambda a, b, c, d: _divide(a + b, c + d + 1.0)),
)


def build_model(
    consts: int, exprs: int, bins: int
) -> tuple[dict[str, Any], list[tuple[str, int, list[str]]]]:
    """A model mapping and its recipe: per expr node (id, shape index, the four input ids)."""
    rng = np.random.default_rng(11)
    nodes: list[dict[str, Any]] = []
    ids: list[str] = []
    for n in range(consts):
        node_id = f"c{n}"
        nodes.append({"id": node_id, "kind": "const", "values": rng.uniform(0, 100, bins).round(3).tolist()})
        ids.append(node_id)
    recipe: list[tuple[str, int, list[str]]] = []
    for n in range(exprs):
        node_id = f"e{n}"
        pool = len(ids)
        inputs = [ids[-1], ids[(n * 7) % pool], ids[(n * 13 + 3) % pool], ids[(n * 5 + 1) % pool]]
        shape = n % len(SHAPES)
        text = SHAPES[shape][0].format(a=inputs[0], b=inputs[1], c=inputs[2], d=inputs[3])
        nodes.append({"id": node_id, "kind": "expr", "expr": text})
        recipe.append((node_id, shape, inputs))
        ids.append(node_id)
    model = {"grid": {"bins": bins, "binSize": 1, "binUnit": "minutes"}, "nodes": nodes}
    return model, recipe


def numpy_baseline(model: dict[str, Any], recipe: list[tuple[str, int, list[str]]]) -> dict[str, Array]:
    env: dict[str, Array] = {}
    with np.errstate(all="ignore"):
        for node in model["nodes"]:
            if node["kind"] == "const":
                env[node["id"]] = np.array(node["values"], dtype=np.float64)
        for node_id, shape, (a, b, c, d) in recipe:
            env[node_id] = SHAPES[shape][1](env[a], env[b], env[c], env[d])
    return env


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main() -> None:
    from runs.engine import evaluate, load_model

    consts, exprs, bins = 4, 200, 100_000
    mapping, recipe = build_model(consts, exprs, bins)
    load_seconds, model = _timed(lambda: load_model(mapping, max_bins=bins))
    engine_times: list[float] = []
    baseline_times: list[float] = []
    for _ in range(5):
        seconds, evaluation = _timed(lambda: evaluate(model))
        engine_times.append(seconds)
        seconds, expected = _timed(lambda: numpy_baseline(mapping, recipe))
        baseline_times.append(seconds)
        for node_id, series in expected.items():
            if not np.array_equal(series, evaluation.series[node_id], equal_nan=True):
                raise AssertionError(f"engine and numpy disagree on {node_id}")
        del evaluation, expected
    engine_s, baseline_s = median(engine_times), median(baseline_times)
    rate = exprs * bins / engine_s
    log(f"B4 load_model {ms(load_seconds)}, evaluate {ms(engine_s)}, numpy {ms(baseline_s)}")

    # Spec 02 §11: validation + evaluation of 100 const + 900 expr nodes × 10,000 bins.
    small, small_recipe = build_model(100, 900, 10_000)
    spec_times: list[float] = []
    spec_baseline: list[float] = []
    for _ in range(5):
        spec_times.append(_timed(lambda: evaluate(load_model(small, max_bins=10_000)))[0])
        spec_baseline.append(_timed(lambda: numpy_baseline(small, small_recipe))[0])
    spec_s, spec_base_s = median(spec_times), median(spec_baseline)
    log(f"B4 spec model: load+evaluate {ms(spec_s)}, numpy {ms(spec_base_s)}")

    emit(
        [
            Figure(
                "B4a",
                f"evaluate 200 expr (+4 const) nodes × 100,000 bins: {rate / 1e6:.1f} M node-bins/s "
                f"({ms(engine_s)}; load_model {ms(load_seconds)} apart)",
                "≥ 20 M node-bins/s",
                rate >= 20e6,
            ),
            Figure(
                "B4b",
                f"engine / hand-written numpy = {engine_s / baseline_s:.2f}× ({ms(engine_s)} vs "
                f"{ms(baseline_s)}, bit-identical)",
                "≤ 2×",
                engine_s <= 2 * baseline_s,
            ),
            Figure(
                "B4c",
                f"spec 02 §11 model (100 const + 900 expr × 10,000 bins) validate + evaluate "
                f"{ms(spec_s)} = {spec_s / spec_base_s:.2f}× numpy ({ms(spec_base_s)})",
                "≤ 0.5 s",
                spec_s <= 0.5,
            ),
        ]
    )


if __name__ == "__main__":
    main()
