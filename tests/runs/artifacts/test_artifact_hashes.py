"""modelHash, scenarioHash and inputHash vectors (spec 03 §4, §4.1)."""

from __future__ import annotations

import hashlib

import pytest

from runs.artifacts import input_hash, input_hash_document, model_hash, scenario_hash
from runs.canonical import canonical_json

IT_SYSTEM_PARAMETERS = {
    "bins": 6,
    "binSize": 60,
    "requestPattern": [100, 150, 200, 180, 120, 80],
    "loadBalancerCapacity": [300, 300, 300, 300, 300, 300],
    "authCapacity": [250, 250, 250, 250, 250, 250],
    "databaseCapacity": [180, 180, 180, 180, 180, 180],
    "telemetryRequestsSource": "",
}
IT_SYSTEM_CANONICAL = (
    '{"mode":"simulation","model":null,"parameters":{"authCapacity":[250,250,250,250,250,250],'
    '"binSize":60,"bins":6,"databaseCapacity":[180,180,180,180,180,180],'
    '"loadBalancerCapacity":[300,300,300,300,300,300],"requestPattern":[100,150,200,180,120,80],'
    '"telemetryRequestsSource":""},"rngSeed":null,"telemetry":null,'
    '"templateId":"it-system-microservices","templateVersion":"1.0.0"}'
)
IT_SYSTEM_INPUT_HASH = "sha256:f4c6844ce64e95dbe7c8cc4e66a9758e45c8fa34208ad1f902727d2808c62334"


def test_scenario_hash_vectors() -> None:
    assert (
        scenario_hash("test model yaml", None)
        == "sha256:2dce5ec545654f2e6bd9a62d8da591e9cbca7c063425ffb5870dfc4dab6f5cd5"
    )
    assert (
        scenario_hash("test model yaml", 42)
        == "sha256:9b73b47ad015f024dc868a7a69d41c4d7258c3a32a44d27552205a2c43dd1201"
    )


def test_scenario_hash_strips_the_model_text() -> None:
    expected = "sha256:" + hashlib.sha256(b"a: 1\n7\nnull").hexdigest()
    assert scenario_hash("\n a: 1 \n\n", 7) == expected
    assert scenario_hash("a: 1\n", 7) == expected


def test_model_hash_vector_and_bom_copy() -> None:
    assert (
        model_hash(b"test model yaml")
        == "sha256:decdd122d1d8fb590680b5376fc470b0edb2fb199ef4ebabc2182d8c54bbd3bc"
    )
    assert model_hash(b"\xef\xbb\xbftest model yaml").startswith("sha256:0d6b614c")


def test_input_hash_document_and_canonical_text_for_it_system() -> None:
    document = input_hash_document(
        template_id="it-system-microservices",
        template_version="1.0.0",
        mode="simulation",
        parameters=IT_SYSTEM_PARAMETERS,
        telemetry=None,
        rng_seed=None,
        model=None,
    )
    by_hand = {
        "templateId": "it-system-microservices",
        "templateVersion": "1.0.0",
        "mode": "simulation",
        "parameters": IT_SYSTEM_PARAMETERS,
        "telemetry": None,
        "rngSeed": None,
        "model": None,
    }
    assert document == by_hand
    assert canonical_json(document).decode("utf-8") == IT_SYSTEM_CANONICAL
    assert "sha256:" + hashlib.sha256(IT_SYSTEM_CANONICAL.encode()).hexdigest() == IT_SYSTEM_INPUT_HASH


def test_input_hash_vector() -> None:
    assert (
        input_hash(
            template_id="it-system-microservices",
            template_version="1.0.0",
            mode="simulation",
            parameters=IT_SYSTEM_PARAMETERS,
            telemetry=None,
            rng_seed=None,
            model=None,
        )
        == IT_SYSTEM_INPUT_HASH
    )


def test_input_hash_treats_integral_floats_as_ints() -> None:
    as_floats = {**IT_SYSTEM_PARAMETERS, "binSize": 60.0, "requestPattern": [100.0, 150, 200, 180, 120, 80]}
    assert (
        input_hash(
            template_id="it-system-microservices",
            template_version="1.0.0",
            mode="simulation",
            parameters=as_floats,
            telemetry=None,
            rng_seed=None,
            model=None,
        )
        == IT_SYSTEM_INPUT_HASH
    )


def test_input_hash_changes_with_the_seed() -> None:
    seeded = input_hash(
        template_id="it-system-microservices",
        template_version="1.0.0",
        mode="simulation",
        parameters=IT_SYSTEM_PARAMETERS,
        telemetry=None,
        rng_seed=42,
        model=None,
    )
    expected_text = IT_SYSTEM_CANONICAL.replace('"rngSeed":null', '"rngSeed":42')
    assert seeded == "sha256:" + hashlib.sha256(expected_text.encode()).hexdigest()


def test_input_hash_rejects_nan() -> None:
    with pytest.raises(ValueError):
        input_hash(
            template_id="t",
            template_version="1",
            mode="simulation",
            parameters={"x": float("nan")},
            telemetry=None,
            rng_seed=None,
            model=None,
        )
