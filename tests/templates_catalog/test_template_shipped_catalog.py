"""The seven shipped templates: load cleanly, declare what spec 01 §7 says, and reproduce its vectors."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from template_helpers import CATALOG_DIR, FIXTURE_BUNDLE

from runs.canonical import canonical_json
from runs.engine import evaluate
from templates_catalog.catalog import scan_catalog
from templates_catalog.documents import Template, load_template
from templates_catalog.generation import generate_model

SHIPPED = (
    "it-system-microservices",
    "manufacturing-line",
    "network-reliability",
    "order-system",
    "supply-chain-multi-tier",
    "support-queue",
    "transportation-basic",
)


def _template(template_id: str) -> Template:
    return load_template(CATALOG_DIR / f"{template_id}.yaml")


def _series(template_id: str, **parameters: object) -> dict[str, np.ndarray]:
    generated = generate_model(_template(template_id), parameters=parameters)
    return evaluate(generated.model).series


def test_catalog_has_the_seven_templates_and_no_problems() -> None:
    scan = scan_catalog(CATALOG_DIR)
    assert scan.problems == []
    assert sorted(scan.templates) == list(SHIPPED)
    for template_id, template in scan.templates.items():
        assert template.file_name == f"{template_id}.yaml"
        assert template.version == "1.0.0"
        assert template.mode == "simulation"
        assert template.document["generator"] == "flowtime-sim"
        assert template.document["window"]["start"] == "2025-01-01T00:00:00Z"
        assert template.document["grid"] == {"bins": "${bins}", "binSize": "${binSize}", "binUnit": "minutes"}
        assert template.document["outputs"] == [{"series": "*"}]
        assert template.title and template.description and template.tags


@pytest.mark.parametrize(
    ("template_id", "names"),
    [
        (
            "it-system-microservices",
            "bins binSize requestPattern loadBalancerCapacity authCapacity databaseCapacity "
            "telemetryRequestsSource",
        ),
        ("transportation-basic", "bins binSize demandPattern capacityPattern telemetryDemandSource"),
        (
            "manufacturing-line",
            "bins binSize rawMaterialSchedule assemblyCapacity qualityCapacity qualityRate productionRate "
            "defectRate telemetryRawMaterialsSource",
        ),
        (
            "supply-chain-multi-tier",
            "bins binSize demandPattern supplierCapacity distributorCapacity retailerCapacity bufferSize "
            "telemetryDemandSource",
        ),
        (
            "network-reliability",
            "bins binSize baseLoad rngSeed serverBaseCapacity samplePmfs telemetryBaseLoadSource",
        ),
        (
            "order-system",
            "bins binSize orderArrivals orderCapacity paymentCapacity orderErrorRate paymentErrorRate "
            "telemetryArrivals telemetryOrderCapacity telemetryPaymentCapacity",
        ),
        (
            "support-queue",
            "bins binSize ticketArrivals intakeCapacity agentCapacity slaMinutes telemetryTicketsSource "
            "telemetryAgentCapacitySource",
        ),
    ],
)
def test_parameters_are_declared_in_spec_order(template_id: str, names: str) -> None:
    template = _template(template_id)
    assert [p.name for p in template.parameters] == names.split()
    bindable = [p.name for p in template.parameters if p.telemetry_bindable]
    assert bindable == [n for n in names.split() if n.startswith("telemetry")]
    assert all(p.default == "" and p.type == "string" for p in template.parameters if p.telemetry_bindable)


@pytest.mark.parametrize(
    ("template_id", "bins", "bin_size", "bins_range", "bin_size_range"),
    [
        ("it-system-microservices", 6, 60, (3, 48), (15, 480)),
        ("transportation-basic", 6, 60, (3, 48), (15, 480)),
        ("manufacturing-line", 6, 60, (3, 48), (15, 480)),
        ("supply-chain-multi-tier", 6, 60, (3, 48), (15, 480)),
        ("network-reliability", 12, 60, (1, 48), (15, 480)),
        ("order-system", 4, 5, (1, 288), (1, 60)),
        ("support-queue", 12, 5, (1, 288), (1, 60)),
    ],
)
def test_grid_parameters(
    template_id: str, bins: int, bin_size: int, bins_range: tuple[int, int], bin_size_range: tuple[int, int]
) -> None:
    template = _template(template_id)
    bins_spec, size_spec = template.parameters[0], template.parameters[1]
    assert (bins_spec.type, bins_spec.default, bins_spec.minimum, bins_spec.maximum) == (
        "integer",
        bins,
        *bins_range,
    )
    assert (size_spec.type, size_spec.default, size_spec.minimum, size_spec.maximum) == (
        "integer",
        bin_size,
        *bin_size_range,
    )


def test_parameter_json_form() -> None:
    spec = _template("manufacturing-line").parameter("qualityRate")
    assert spec is not None
    assert spec.as_json() == {
        "name": "qualityRate",
        "type": "number",
        "title": "Quality rate",
        "description": "Share of assembled units that pass on to quality control.",
        "default": 0.95,
        "minimum": 0.1,
        "maximum": 1,
        "required": False,
        "telemetryBindable": False,
    }
    source = _template("it-system-microservices").parameter("telemetryRequestsSource")
    assert source is not None and source.as_json()["telemetryBindable"] is True


def test_it_system_vector() -> None:
    s = _series("it-system-microservices")
    request_pattern = [100, 150, 200, 180, 120, 80]
    assert s["load_balanced_requests"].tolist() == request_pattern
    assert s["authenticated_requests"].tolist() == request_pattern
    assert s["processed_requests"].tolist() == [100, 150, 180, 180, 120, 80]
    assert s["failed_requests"].tolist() == [0, 0, 20, 0, 0, 0]
    assert s["system_utilization"].tolist() == [1, 1, 0.9, 1, 1, 1]


def test_transportation_vector() -> None:
    s = _series("transportation-basic")
    assert s["passengers_served"].tolist() == [10, 15, 20, 25, 18, 12]
    assert s["unmet_demand"].tolist() == [0] * 6
    assert s["utilization"].tolist() == [
        0.6666666666666666,
        0.8333333333333334,
        0.8,
        0.8333333333333334,
        0.8181818181818182,
        0.75,
    ]


def test_manufacturing_vector() -> None:
    s = _series("manufacturing-line")
    assert s["assembly"].tolist() == [90, 90, 80, 90, 90, 90]
    assert s["quality_control"].tolist() == [80, 80, 76, 80, 80, 80]
    assert s["packaging"].tolist() == [10.8] * 6
    assert s["defects"].tolist() == [4.5, 4.5, 4, 4.5, 4.5, 4.5]


def test_supply_chain_vector() -> None:
    s = _series("supply-chain-multi-tier")
    assert s["supplied_items"].tolist() == [96, 144, 192, 168, 120, 72]
    assert s["distributed_items"].tolist() == [96, 144, 150, 150, 120, 72]
    assert s["retail_sales"].tolist() == [96, 120, 120, 120, 120, 72]
    assert s["unmet_demand"].tolist() == [0, 0, 40, 20, 0, 0]
    assert s["supply_efficiency"].tolist() == [1.2, 1, 0.75, 0.8571428571428571, 1.2, 1.2]


def test_network_reliability_vector() -> None:
    s = _series("network-reliability")
    assert s["network_reliability"].tolist() == [0.959] * 12
    assert s["server_performance"].tolist() == [1] * 12
    assert s["database_reliability"].tolist() == [0.973] * 12
    assert s["server_capacity"].tolist() == [150] * 12
    network_requests = [
        95.89999999999999, 115.08, 143.85, 172.62, 191.79999999999998, 182.20999999999998,
        163.03, 153.44, 134.26, 124.67, 105.49, 100.695,
    ]  # fmt: skip
    assert s["network_requests"].tolist() == network_requests
    assert s["server_processed"].tolist() == network_requests[:3] + [150] * 5 + network_requests[8:]
    assert s["successful_requests"].tolist() == [
        93.31069999999998, 111.97283999999999, 139.96605, *[145.95] * 5,
        130.63497999999998, 121.30391, 102.64177, 97.97623499999999,
    ]  # fmt: skip
    base = np.array([100, 120, 150, 180, 200, 190, 170, 160, 140, 130, 110, 105], dtype=float)
    net, proc, ok = (np.array(x) for x in (network_requests, s["server_processed"], s["successful_requests"]))
    assert np.array_equal(s["network_failures"], base - net)
    assert np.array_equal(s["server_failures"], net - proc)
    assert np.array_equal(s["database_failures"], proc - ok)
    assert np.array_equal(s["system_reliability"], ok / base)


def test_network_reliability_sampled_with_seed_42() -> None:
    # spec 02 §9: the sampling vector of network-reliability with samplePmfs true.
    s = _series("network-reliability", samplePmfs=True)
    assert s["network_reliability"].tolist() == [1, 1, 0.95, 0.95, 1, 0.95, 1, 1, 1, 0.95, 1, 1]
    assert s["server_performance"].tolist() == [1, 0.8, 1.2, 1, 0.8, 0.8, 1.2, 1, 0.8, 0.8, 0.8, 1]
    assert s["database_reliability"].tolist() == [1, 0.9, 1, 1, 0.9, 1, 0.9, 1, 1, 1, 1, 0.9]


def test_order_system_vector() -> None:
    s = _series("order-system")
    assert s["order_errors"].tolist() == [0.5, 0.7000000000000001, 0.8, 0.6000000000000001]
    assert s["order_served"].tolist() == [9.5, 13.3, 15.2, 11.4]
    assert s["payment_served"].tolist() == [9.31, 13.034, 13.72, 11.172]


def test_support_queue_vector() -> None:
    s = _series("support-queue")
    assert s["intake_rejected"].tolist() == [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]
    assert s["queue_depth"].tolist() == [0, 0, 1, 5, 12, 19, 24, 25, 24, 21, 16, 10]
    assert s["tickets_resolved"].tolist() == [8, 10] + [11] * 10


def test_support_queue_topology() -> None:
    generated = generate_model(_template("support-queue"), parameters={})
    queue = generated.tree["topology"]["nodes"][1]
    assert queue == {
        "id": "SupportQueue",
        "kind": "queue",
        "semantics": {
            "arrivals": "intake_served",
            "served": "tickets_resolved",
            "queue": "queue_depth",
            "capacity": "agent_capacity",
            "slaMin": 10,
        },
        "initialCondition": {"queueDepth": 0},
    }
    assert generated.tree["topology"]["edges"] == [
        {"id": "Intake_to_SupportQueue", "from": "Intake:out", "to": "SupportQueue:in", "weight": 1}
    ]


def test_network_reliability_rng_follows_its_parameter() -> None:
    generated = generate_model(_template("network-reliability"), parameters={"rngSeed": 7})
    assert generated.tree["rng"] == {"kind": "pcg32", "seed": 7}


def test_input_hash_vector_of_it_system_defaults() -> None:
    # spec 03 §4.1: D has seven keys; the parameters are our effective canonical values.
    template = _template("it-system-microservices")
    generated = generate_model(template, parameters={})
    d = {
        "templateId": template.id,
        "templateVersion": template.version,
        "mode": generated.mode,
        "parameters": generated.parameters,
        "telemetry": None,
        "rngSeed": None,
        "model": None,
    }
    text = canonical_json(d)
    assert text.decode() == (
        '{"mode":"simulation","model":null,"parameters":{"authCapacity":[250,250,250,250,250,250],'
        '"binSize":60,"bins":6,"databaseCapacity":[180,180,180,180,180,180],'
        '"loadBalancerCapacity":[300,300,300,300,300,300],"requestPattern":[100,150,200,180,120,80],'
        '"telemetryRequestsSource":""},"rngSeed":null,"telemetry":null,'
        '"templateId":"it-system-microservices","templateVersion":"1.0.0"}'
    )
    assert "sha256:" + hashlib.sha256(text).hexdigest() == (
        "sha256:f4c6844ce64e95dbe7c8cc4e66a9758e45c8fa34208ad1f902727d2808c62334"
    )


def test_telemetry_binding_sets_the_source_and_reads_the_capture(tmp_path: Path) -> None:
    template = _template("it-system-microservices")
    generated = generate_model(
        template,
        parameters={},
        mode="telemetry",
        bindings={"telemetryRequestsSource": "LoadBalancer_arrivals.csv"},
    )
    node = generated.tree["nodes"][0]
    assert node == {
        "id": "user_requests",
        "kind": "const",
        "values": [100, 150, 200, 180, 120, 80],
        "source": "file://telemetry/LoadBalancer_arrivals.csv",
    }
    assert (
        "  - id: user_requests\n    kind: const\n    values: [100, 150, 200, 180, 120, 80]\n"
        "    source: file://telemetry/LoadBalancer_arrivals.csv\n"
    ) in generated.text
    assert generated.mode == "telemetry"
    assert generated.tree["mode"] == "telemetry"
    assert generated.parameters["telemetryRequestsSource"] == "file://telemetry/LoadBalancer_arrivals.csv"
    assert generated.tree["provenance"]["parameters"]["telemetryRequestsSource"] == (
        "file://telemetry/LoadBalancer_arrivals.csv"
    )
    assert str(tmp_path) not in generated.text
    # The bound file is read from <model dir>/telemetry/; its values equal the defaults here.
    model_dir = tmp_path / "model"
    (model_dir / "telemetry").mkdir(parents=True)
    shutil.copy(FIXTURE_BUNDLE / "LoadBalancer_arrivals.csv", model_dir / "telemetry")
    series = evaluate(generated.model, model_dir=model_dir, confine_to=tmp_path).series
    assert series["user_requests"].tolist() == [100, 150, 200, 180, 120, 80]
    assert series["processed_requests"].tolist() == [100, 150, 180, 180, 120, 80]


def test_input_hash_vector_of_the_telemetry_bundle_example() -> None:
    # spec 04 §5: template 1.0.0, defaults, telemetry mode, the fixture's 9 files, rngSeed null. The bundle
    # rewrites the model itself, so the effective parameters are the unbound defaults.
    template = _template("it-system-microservices")
    generated = generate_model(template, parameters={}, mode="telemetry")
    files = {
        p.name: "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest() for p in FIXTURE_BUNDLE.glob("*.csv")
    }
    assert len(files) == 9
    assert files["LoadBalancer_arrivals.csv"] == (
        "sha256:b0ff21c1c2f109f18daeff14d620242f3b0d5613a8263cd1333ff6cfd9a1b434"
    )
    d = {
        "templateId": template.id,
        "templateVersion": template.version,
        "mode": generated.mode,
        "parameters": generated.parameters,
        "telemetry": {
            "manifestHash": "sha256:58b38577d33fdbade09116c9cf2a0c25caee7902aec7c32ba95bdfdd5a41d420",
            "files": files,
        },
        "rngSeed": None,
        "model": None,
    }
    assert "sha256:" + hashlib.sha256(canonical_json(d)).hexdigest() == (
        "sha256:5996be2d3a46c095b9a34727347a831d934d55a6d6441a36cd5279692ad4fc19"
    )


def test_it_system_topology() -> None:
    # Capacity semantics: spec 04 §5 reads the LoadBalancer capacity (300) through them.
    generated = generate_model(_template("it-system-microservices"), parameters={})
    assert generated.tree["topology"]["nodes"] == [
        {
            "id": node,
            "kind": "service",
            "semantics": {
                "arrivals": arrivals,
                "served": served,
                "errors": "failed_requests",
                "capacity": capacity,
            },
        }
        for node, arrivals, served, capacity in (
            ("LoadBalancer", "user_requests", "load_balanced_requests", "load_balancer_capacity"),
            ("AuthService", "load_balanced_requests", "authenticated_requests", "auth_capacity"),
            ("Database", "authenticated_requests", "processed_requests", "database_capacity"),
        )
    ]
    assert [(e["from"], e["to"], e["weight"]) for e in generated.tree["topology"]["edges"]] == [
        ("LoadBalancer:out", "AuthService:in", 1),
        ("AuthService:out", "Database:in", 1),
    ]
