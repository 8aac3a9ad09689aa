"""PCG32, PMF forms, expected values and sampling (spec 02 §9)."""

from __future__ import annotations

import numpy as np
import pytest

from runs.engine import pcg32_doubles, pcg32_next_u32
from runs.engine.rng import pmf_sample

MASK64 = (1 << 64) - 1


def reference_pcg32(seed: int, count: int) -> list[int]:
    """A step-by-step PCG32 written straight from spec 02 §9, to check the closed form against."""
    state = seed % (1 << 64)

    def step() -> int:
        nonlocal state
        old = state
        state = (old * 6364136223846793005 + 1442695040888963407) & MASK64
        x = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        r = old >> 59
        return ((x >> r) | (x << ((32 - r) & 31))) & 0xFFFFFFFF

    step()  # the discarded draw
    return [step() for _ in range(count)]


@pytest.mark.parametrize(
    ("seed", "first_three"),
    [
        (0, [1613493245, 3894649422, 2055130073]),
        (1, [3114030964, 3308539156, 2446277621]),
        (42, [1971522493, 242089394, 3457789919]),
        (12345, [1882538953, 1534987090, 1894995461]),
        (-1, [3933164268, 3162695892, 3581673250]),
    ],
)
def test_pcg32_reference_vectors(seed: int, first_three: list[int]) -> None:
    draws = pcg32_next_u32(seed, 3)
    assert draws.dtype == np.uint32
    assert draws.tolist() == first_three


def test_pcg32_next_double_for_seed_42() -> None:
    doubles = pcg32_doubles(42, 3)
    assert doubles.dtype == np.float64
    assert doubles.tolist() == [0.4590308510232717, 0.056365829426795244, 0.8050794524606317]


@pytest.mark.parametrize("seed", [0, 42, -(2**63), 2**64 - 1, 987654321987654321])
def test_closed_form_matches_the_step_by_step_generator(seed: int) -> None:
    assert pcg32_next_u32(seed, 2000).tolist() == reference_pcg32(seed, 2000)


def test_no_draws() -> None:
    assert pcg32_next_u32(42, 0).tolist() == []
    assert pcg32_doubles(42, 0).tolist() == []


# --- PMF forms and expected values -------------------------------------------------------------


def pmf_node(pmf: object, **extra: object) -> dict[str, object]:
    return {"id": "p", "kind": "pmf", "pmf": pmf, **extra}


@pytest.mark.parametrize(
    "pmf",
    [
        {10: 0.2, 20: 0.3, 30: 0.5},
        {"10": 0.2, "20": 0.3, "30": 0.5},
        {"values": [10, 20, 30], "probabilities": [0.2, 0.3, 0.5]},
    ],
)
def test_expected_value_23_in_every_form(run_nodes, pmf: object) -> None:
    assert run_nodes([pmf_node(pmf)], 3)["p"].tolist() == [23, 23, 23]


@pytest.mark.parametrize("pmf", [{1: 2, 2: 4, 3: 6}, {"values": [1, 2, 3], "probabilities": [2, 4, 6]}])
def test_expected_value_after_normalisation(run_nodes, pmf: object) -> None:
    assert run_nodes([pmf_node(pmf)], 2)["p"].tolist() == [2.333333333333333, 2.333333333333333]


def test_near_one_sums_are_not_normalised(run_nodes) -> None:
    # Σp = 1 + 5e-7 is within 1e-6 of 1, so p stays as written: E = 1·0.5000005 + 3·0.5.
    assert run_nodes([pmf_node({1: 0.5000005, 3: 0.5})], 1)["p"].tolist() == [1 * 0.5000005 + 3 * 0.5]


def test_yaml_map_form_keeps_entry_order() -> None:
    from runs.engine import load_model

    model = load_model(
        "grid: {bins: 1, binSize: 1, binUnit: hours}\n"
        "nodes:\n  - id: p\n    kind: pmf\n    pmf: {30: .5, .95: .2, '10': .3}\n"
    )
    node = model.node("p")
    assert node.pmf_values == (30.0, 0.95, 10.0)
    assert node.pmf_probabilities == (0.5, 0.2, 0.3)
    assert node.sample is False


@pytest.mark.parametrize(
    "pmf",
    [
        {},
        {"abc": 1},
        {True: 1},
        {1: 0.5, "1": 0.5},
        {"values": [1, 1.0], "probabilities": [0.5, 0.5]},
        {float("inf"): 1},
        {1: float("nan")},
        {1: float("inf")},
        {1: -0.1, 2: 1.1},
        {1: 0, 2: 0},
        {1: "0.5"},
        {"values": [1, 2], "probabilities": [1]},
        {"values": [1, 2]},
        {"values": [], "probabilities": []},
        {"values": ["a"], "probabilities": [1]},
        [1, 2],
        None,
    ],
)
def test_pmf_invalid(node_issues, pmf: object) -> None:
    issues = node_issues([pmf_node(pmf)])
    assert [(i.code, i.path) for i in issues] == [("pmf_invalid", "nodes[0].pmf")]


# --- sampling ----------------------------------------------------------------------------------

RNG_42 = {"kind": "pcg32", "seed": 42}


def test_sampling_two_equal_values(run_nodes) -> None:
    series = run_nodes([pmf_node({100: 0.5, 200: 0.5}, sample=True)], 10, rng=RNG_42)
    assert series["p"].tolist() == [100, 100, 200, 200, 100, 200, 200, 100, 100, 200]


def test_sampling_three_values(run_nodes) -> None:
    series = run_nodes([pmf_node({1: 0.2, 2: 0.5, 3: 0.3}, sample=True)], 10, rng=RNG_42)
    assert series["p"].tolist() == [2, 1, 3, 3, 1, 3, 2, 2, 2, 3]


def test_sampling_nodes_take_consecutive_slices_in_definition_order(run_nodes) -> None:
    # The 10-bin vector above, split across two 5-bin nodes; the expected node between them
    # consumes nothing.
    series = run_nodes(
        [
            {"id": "first", "kind": "pmf", "pmf": {100: 0.5, 200: 0.5}, "sample": True},
            {"id": "mean", "kind": "pmf", "pmf": {100: 0.5, 200: 0.5}},
            {"id": "second", "kind": "pmf", "pmf": {100: 0.5, 200: 0.5}, "sample": True},
        ],
        5,
        rng=RNG_42,
    )
    assert series["first"].tolist() == [100, 100, 200, 200, 100]
    assert series["mean"].tolist() == [150] * 5
    assert series["second"].tolist() == [200, 200, 100, 100, 200]


def test_a_draw_above_every_cumulative_probability_takes_the_last_value() -> None:
    # Σp = 0.9999995 is within 1e-6 of 1, so it is not normalised: c = [0.5, 0.9999995].
    draws = np.array([0.9999999, 0.2, 0.5, 0.75])
    picks = pmf_sample([1.0, 2.0], [0.5, 0.4999995], draws)
    # 0.9999999 > every c → last value; 0.2 ≤ c₀; 0.5 ≤ c₀ (u ≤ cᵢ, ties pick i); 0.75 ≤ c₁.
    assert picks.tolist() == [2, 1, 1, 2]


def test_network_reliability_sampled(run_nodes) -> None:
    series = run_nodes(
        [
            {
                "id": "network_reliability",
                "kind": "pmf",
                "sample": True,
                "pmf": {"values": [1, 0.95, 0.8, 0.6, 0.3], "probabilities": [0.7, 0.2, 0.06, 0.03, 0.01]},
            },
            {
                "id": "server_performance",
                "kind": "pmf",
                "sample": True,
                "pmf": {"values": [0.8, 1, 1.2], "probabilities": [0.1, 0.8, 0.1]},
            },
            {
                "id": "database_reliability",
                "kind": "pmf",
                "sample": True,
                "pmf": {"values": [1, 0.9, 0.7, 0.5], "probabilities": [0.85, 0.1, 0.04, 0.01]},
            },
        ],
        12,
        rng=RNG_42,
    )
    assert series["network_reliability"].tolist() == [1, 1, 0.95, 0.95, 1, 0.95, 1, 1, 1, 0.95, 1, 1]
    assert series["server_performance"].tolist() == [1, 0.8, 1.2, 1, 0.8, 0.8, 1.2, 1, 0.8, 0.8, 0.8, 1]
    assert series["database_reliability"].tolist() == [1, 0.9, 1, 1, 0.9, 1, 0.9, 1, 1, 1, 1, 0.9]


def test_network_reliability_expected_values(run_nodes) -> None:
    series = run_nodes(
        [
            {
                "id": "n",
                "kind": "pmf",
                "pmf": {"values": [1, 0.95, 0.8, 0.6, 0.3], "probabilities": [0.7, 0.2, 0.06, 0.03, 0.01]},
            },
            {"id": "s", "kind": "pmf", "pmf": {"values": [0.8, 1, 1.2], "probabilities": [0.1, 0.8, 0.1]}},
            {
                "id": "d",
                "kind": "pmf",
                "pmf": {"values": [1, 0.9, 0.7, 0.5], "probabilities": [0.85, 0.1, 0.04, 0.01]},
            },
        ],
        1,
    )
    # Spec 01 §7 network: E = 0.959, 1, 0.973.
    assert [series[k][0] for k in ("n", "s", "d")] == [0.959, 1, 0.973]


def test_sampling_is_deterministic(run_nodes) -> None:
    nodes = [pmf_node({1: 0.2, 2: 0.5, 3: 0.3}, sample=True)]
    first = run_nodes(nodes, 500, rng=RNG_42)["p"]
    second = run_nodes(nodes, 500, rng=RNG_42)["p"]
    assert np.array_equal(first, second)
    other = run_nodes(nodes, 500, rng={"kind": "pcg32", "seed": 43})["p"]
    assert not np.array_equal(first, other)
    assert not np.isnan(first).any()
