"""`manage.py create_run` end to end: every shipped template, determinism, bad input, atomicity."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import command_helpers
import pytest
from command_helpers import CommandResult
from django.core.management import call_command
from django.core.management.base import CommandError

from runs import artifacts
from runs.models import Run

pytestmark = pytest.mark.django_db

TEMPLATES = [
    "it-system-microservices",
    "transportation-basic",
    "manufacturing-line",
    "supply-chain-multi-tier",
    "network-reliability",
    "order-system",
    "support-queue",
]

RUN_FILES = [
    "run.json",
    "manifest.json",
    "spec.yaml",
    "model/model.yaml",
    "model/metadata.json",
    "model/provenance.json",
    "series/index.json",
]


def run_command(*args: str) -> CommandResult:
    return command_helpers.run_command("create_run", *args)


def read_series(run_dir: Path, node_id: str) -> list[float]:
    path = run_dir / "series" / f"{artifacts.series_id_for(node_id)}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "t,value"
    return [float(line.split(",")[1]) for line in lines[1:]]


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_every_template_makes_a_complete_replayable_run(template_id: str, data_root: Path) -> None:
    code, out, err = run_command(
        "--template-id", template_id, "--mode", "simulation", "--deterministic-run-id", "--json"
    )
    assert code == 0, err
    body = json.loads(out)
    run_id = body["metadata"]["runId"]
    assert run_id.startswith(f"run_{template_id}_")
    assert body["canReplay"] is True
    assert body["isDryRun"] is False
    assert body["metadata"]["templateId"] == template_id
    assert body["metadata"]["mode"] == "simulation"
    run_dir = data_root / "runs" / run_id
    for name in RUN_FILES:
        assert (run_dir / name).is_file(), name
    assert (run_dir / "spec.yaml").read_bytes() == (run_dir / "model" / "model.yaml").read_bytes()
    index = json.loads((run_dir / "series" / "index.json").read_text())
    for entry in index["series"]:
        assert (run_dir / entry["path"]).is_file()
    assert Run.objects.filter(run_id=run_id, can_replay=True).exists()
    assert not any((data_root / "runs" / ".staging").iterdir())


def _run_dir_for(template_id: str, data_root: Path, *extra: str) -> Path:
    code, out, err = run_command(
        "--template-id", template_id, "--mode", "simulation", "--deterministic-run-id", "--json", *extra
    )
    assert code == 0, err
    return data_root / "runs" / json.loads(out)["metadata"]["runId"]


def test_it_system_series_match_spec_vectors(data_root: Path) -> None:
    run_dir = _run_dir_for("it-system-microservices", data_root)
    pattern = [100, 150, 200, 180, 120, 80]
    assert read_series(run_dir, "load_balanced_requests") == pattern
    assert read_series(run_dir, "authenticated_requests") == pattern
    assert read_series(run_dir, "processed_requests") == [100, 150, 180, 180, 120, 80]
    assert read_series(run_dir, "failed_requests") == [0, 0, 20, 0, 0, 0]
    assert read_series(run_dir, "system_utilization") == [1, 1, 0.9, 1, 1, 1]


def test_transportation_series_match_spec_vectors(data_root: Path) -> None:
    run_dir = _run_dir_for("transportation-basic", data_root)
    assert read_series(run_dir, "passengers_served") == [10, 15, 20, 25, 18, 12]
    assert read_series(run_dir, "unmet_demand") == [0] * 6
    assert read_series(run_dir, "utilization") == [
        0.6666666666666666,
        0.8333333333333334,
        0.8,
        0.8333333333333334,
        0.8181818181818182,
        0.75,
    ]


def test_manufacturing_series_match_spec_vectors(data_root: Path) -> None:
    run_dir = _run_dir_for("manufacturing-line", data_root)
    assert read_series(run_dir, "assembly") == [90, 90, 80, 90, 90, 90]
    assert read_series(run_dir, "quality_control") == [80, 80, 76, 80, 80, 80]
    assert read_series(run_dir, "packaging") == [10.8] * 6
    assert read_series(run_dir, "defects") == [4.5, 4.5, 4, 4.5, 4.5, 4.5]


def test_supply_chain_series_match_spec_vectors(data_root: Path) -> None:
    run_dir = _run_dir_for("supply-chain-multi-tier", data_root)
    assert read_series(run_dir, "supplied_items") == [96, 144, 192, 168, 120, 72]
    assert read_series(run_dir, "distributed_items") == [96, 144, 150, 150, 120, 72]
    assert read_series(run_dir, "retail_sales") == [96, 120, 120, 120, 120, 72]
    assert read_series(run_dir, "unmet_demand") == [0, 0, 40, 20, 0, 0]
    assert read_series(run_dir, "supply_efficiency") == [1.2, 1, 0.75, 0.8571428571428571, 1.2, 1.2]


def test_network_reliability_series_match_spec_vectors(data_root: Path) -> None:
    run_dir = _run_dir_for("network-reliability", data_root)
    assert read_series(run_dir, "network_reliability") == [0.959] * 12
    assert read_series(run_dir, "server_performance") == [1] * 12
    assert read_series(run_dir, "database_reliability") == [0.973] * 12
    assert read_series(run_dir, "server_capacity") == [150] * 12
    network = [
        95.89999999999999, 115.08, 143.85, 172.62, 191.79999999999998, 182.20999999999998,
        163.03, 153.44, 134.26, 124.67, 105.49, 100.695,
    ]  # fmt: skip
    assert read_series(run_dir, "network_requests") == network
    assert read_series(run_dir, "server_processed") == [
        *network[:3], 150, 150, 150, 150, 150, *network[8:]
    ]  # fmt: skip
    assert read_series(run_dir, "successful_requests") == [
        93.31069999999998, 111.97283999999999, 139.96605, *[145.95] * 5,
        130.63497999999998, 121.30391, 102.64177, 97.97623499999999,
    ]  # fmt: skip


def test_order_system_series_match_spec_vectors(data_root: Path) -> None:
    run_dir = _run_dir_for("order-system", data_root)
    assert read_series(run_dir, "order_errors") == [0.5, 0.7000000000000001, 0.8, 0.6000000000000001]
    assert read_series(run_dir, "order_served") == [9.5, 13.3, 15.2, 11.4]
    assert read_series(run_dir, "payment_served") == [9.31, 13.034, 13.72, 11.172]


def test_support_queue_series_match_spec_vectors(data_root: Path) -> None:
    run_dir = _run_dir_for("support-queue", data_root)
    assert read_series(run_dir, "intake_rejected") == [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]
    assert read_series(run_dir, "queue_depth") == [0, 0, 1, 5, 12, 19, 24, 25, 24, 21, 16, 10]
    assert read_series(run_dir, "tickets_resolved") == [8, 10, *[11] * 10]


def _hashes(run_dir: Path) -> tuple[str, dict[str, str], str]:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    metadata = json.loads((run_dir / "model" / "metadata.json").read_text())
    return manifest["modelHash"], manifest["seriesHashes"], metadata["inputHash"]


def test_same_command_twice_gives_the_same_run_and_bytes(data_root: Path, tmp_path: Path) -> None:
    first = _run_dir_for("it-system-microservices", data_root)
    saved = {p.relative_to(first): p.read_bytes() for p in first.rglob("*.csv")}
    saved[Path("model/model.yaml")] = (first / "model" / "model.yaml").read_bytes()
    hashes = _hashes(first)
    # Replace the run by moving it away, so the second command really evaluates again.
    moved = tmp_path / "moved"
    first.rename(moved)
    second = _run_dir_for("it-system-microservices", data_root)
    assert second.name == first.name
    for rel, content in saved.items():
        assert (second / rel).read_bytes() == content, rel
    assert _hashes(second) == hashes


def test_second_identical_command_reuses_the_run(data_root: Path) -> None:
    _run_dir_for("order-system", data_root)
    code, out, err = run_command("--template-id", "order-system", "--deterministic-run-id", "--json")
    assert code == 0, err
    assert json.loads(out)["wasReused"] is True
    assert len([p for p in (data_root / "runs").iterdir() if not p.name.startswith(".")]) == 1


@pytest.mark.parametrize(
    "param",
    ["bins=5", "requestPattern=[100,150,200,180,120,81]", "authCapacity=[251,250,250,250,250,250]"],
)
def test_changing_any_parameter_changes_the_id(param: str, data_root: Path) -> None:
    base = _run_dir_for("it-system-microservices", data_root).name
    if param.startswith("bins="):
        # bins=5 needs arrays of 5 elements too.
        extra = [
            "--param", "bins=5",
            "--param", "requestPattern=[100,150,200,180,120]",
            "--param", "loadBalancerCapacity=[300,300,300,300,300]",
            "--param", "authCapacity=[250,250,250,250,250]",
            "--param", "databaseCapacity=[180,180,180,180,180]",
        ]  # fmt: skip
    else:
        extra = ["--param", param]
    other = _run_dir_for("it-system-microservices", data_root, *extra).name
    assert other != base


def test_deterministic_id_matches_spec_vector(data_root: Path) -> None:
    run_dir = _run_dir_for("it-system-microservices", data_root)
    assert run_dir.name == "run_it-system-microservices_f4c6844ce64e95db"
    metadata = json.loads((run_dir / "model" / "metadata.json").read_text())
    assert metadata["inputHash"] == "sha256:f4c6844ce64e95dbe7c8cc4e66a9758e45c8fa34208ad1f902727d2808c62334"


def _assert_nothing_written(data_root: Path) -> None:
    runs_dir = data_root / "runs"
    if runs_dir.exists():
        leftovers = [p.name for p in runs_dir.iterdir() if p.name != ".staging"]
        assert leftovers == []
        staging = runs_dir / ".staging"
        assert not staging.exists() or not any(staging.iterdir())
    assert Run.objects.count() == 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (["bins=96"], [("parameters.bins", "maximum")]),
        (["requestPattern=abc"], [("parameters.requestPattern", "type")]),
        (["nope=1"], [("parameters.nope", "parameter_unknown")]),
        (["requestPattern=[1,2,3]"], [("parameters.requestPattern", "length")]),
        (
            ["bins=96", "requestPattern=abc"],
            [("parameters.bins", "maximum"), ("parameters.requestPattern", "type")],
        ),
    ],
)
def test_bad_parameters_exit_1_and_write_nothing(
    params: list[str], expected: list[tuple[str, str]], data_root: Path
) -> None:
    args = ["--template-id", "it-system-microservices", "--deterministic-run-id"]
    for p in params:
        args += ["--param", p]
    code, _, err = run_command(*args)
    assert code == 1
    for field, issue_code in expected:
        assert f"{field}: {issue_code}:" in err
    assert err.splitlines()[0].split(":")[0] in {"parameter_invalid", "parameter_unknown"}
    _assert_nothing_written(data_root)


def test_unknown_template_exits_1(data_root: Path) -> None:
    code, _, err = run_command("--template-id", "no-such-template")
    assert code == 1
    assert err.startswith("template_not_found:")
    _assert_nothing_written(data_root)


@pytest.mark.parametrize(
    "args",
    [
        ["--template-id", "order-system", "--run-id", "x1", "--deterministic-run-id"],
        ["--template-id", "order-system", "--run-id", "../escape"],
        ["--template-id", "order-system", "--seed", "-1"],
    ],
)
def test_usage_errors_exit_2(args: list[str], data_root: Path) -> None:
    with pytest.raises(CommandError) as info:
        call_command("create_run", *args, stdout=StringIO(), stderr=StringIO())
    assert info.value.returncode == 2
    _assert_nothing_written(data_root)


def test_failure_between_evaluation_and_publication_leaves_nothing(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runs import orchestration

    real_write = orchestration.artifacts.write_run_files

    def write_then_fail(stage_dir: Path, *args: object, **kwargs: object) -> object:
        real_write(stage_dir, *args, **kwargs)  # type: ignore[arg-type]
        assert (stage_dir / "run.json").exists()  # the failure really comes after files were staged
        raise OSError("disk full (injected)")

    monkeypatch.setattr(orchestration.artifacts, "write_run_files", write_then_fail)
    with pytest.raises(OSError, match="injected"):
        call_command(
            "create_run", "--template-id", "order-system", "--deterministic-run-id",
            stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip
    _assert_nothing_written(data_root)


def test_explicit_run_id_conflict_is_run_exists(data_root: Path) -> None:
    code, _, err = run_command("--template-id", "order-system", "--run-id", "my-run")
    assert code == 0, err
    code, _, err = run_command("--template-id", "order-system", "--run-id", "my-run")
    assert code == 1
    assert err.startswith("run_exists:")
    code, _, err = run_command("--template-id", "order-system", "--run-id", "my-run", "--overwrite")
    assert code == 0, err


def test_dry_run_writes_nothing_and_predicts_the_id(data_root: Path) -> None:
    code, out, err = run_command(
        "--template-id", "order-system", "--deterministic-run-id", "--dry-run", "--json"
    )
    assert code == 0, err
    body = json.loads(out)
    assert body["isDryRun"] is True
    _assert_nothing_written(data_root)
    code, out, err = run_command("--template-id", "order-system", "--deterministic-run-id", "--json")
    assert json.loads(out)["metadata"]["runId"] == body["plan"]["predictedRunId"]


def test_random_ids_differ_and_follow_the_format(data_root: Path) -> None:
    import re

    ids = []
    for _ in range(2):
        code, out, err = run_command("--template-id", "order-system", "--json")
        assert code == 0, err
        ids.append(json.loads(out)["metadata"]["runId"])
    assert ids[0] != ids[1]
    for run_id in ids:
        assert re.match(r"^run_\d{8}T\d{6}Z_[0-9a-f]{8}$", run_id)
