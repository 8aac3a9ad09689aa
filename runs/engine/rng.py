"""PCG32 (XSH-RR) and PMF arithmetic (spec 02 §9).

The generator is computed in closed form with uint64 numpy arrays, whose arithmetic wraps mod 2⁶⁴
exactly like the reference implementation, so no draw needs a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PCG32_MULT = 6364136223846793005
PCG32_INC = 1442695040888963407
SEED_MIN = -(2**63)
SEED_MAX_EXCLUSIVE = 2**64

_U64 = np.uint64


def _old_states(seed: int, count: int) -> np.ndarray:
    """``state_1 … state_count``: the states that draws 0 … count−1 read (one draw is discarded)."""
    state0 = _U64(seed % 2**64)
    mult = _U64(PCG32_MULT)
    with np.errstate(all="ignore"):
        # powers[k-1] = mult^k for k = 1..count
        powers = np.cumprod(np.full(count, mult, dtype=np.uint64), dtype=np.uint64)
        # geometric[k-1] = 1 + mult + … + mult^(k-1)
        terms = np.empty(count, dtype=np.uint64)
        if count:
            terms[0] = 1
            terms[1:] = powers[:-1]
        geometric = np.cumsum(terms, dtype=np.uint64)
        return powers * state0 + geometric * _U64(PCG32_INC)


def pcg32_next_u32(seed: int, count: int) -> np.ndarray:
    """The first ``count`` results of ``next()`` after seeding (and the one discarded draw), as uint32."""
    if count < 0:
        raise ValueError("count must be >= 0")
    old = _old_states(seed, count)
    x = (((old >> _U64(18)) ^ old) >> _U64(27)).astype(np.uint32)
    r = (old >> _U64(59)).astype(np.uint32)
    left = (np.uint32(32) - r) & np.uint32(31)
    return (x >> r) | (x << left)


def pcg32_doubles(seed: int, count: int) -> np.ndarray:
    """The first ``count`` results of ``nextDouble()`` = next() / 2³², as float64."""
    return pcg32_next_u32(seed, count).astype(np.float64) / 4294967296.0


def normalised_probabilities(probabilities: Sequence[float]) -> list[float]:
    """The probabilities divided by their left-to-right sum when it is more than 1e-6 from 1."""
    total = 0.0
    for p in probabilities:
        total += p
    if abs(total - 1.0) > 1e-6:
        return [p / total for p in probabilities]
    return list(probabilities)


def pmf_expected_value(values: Sequence[float], probabilities: Sequence[float]) -> float:
    """Σ vᵢ·pᵢ over the normalised PMF, accumulated left to right from 0.0."""
    expected = 0.0
    for v, p in zip(values, normalised_probabilities(probabilities), strict=True):
        expected += v * p
    return expected


def pmf_sample(values: Sequence[float], probabilities: Sequence[float], draws: np.ndarray) -> np.ndarray:
    """Map uniform draws to PMF values: the first value whose cumulative probability is ≥ u."""
    cumulative = np.cumsum(np.asarray(normalised_probabilities(probabilities), dtype=np.float64))
    last = len(values) - 1
    picks = np.minimum(np.searchsorted(cumulative, draws, "left"), last)
    return np.asarray(values, dtype=np.float64)[picks]
