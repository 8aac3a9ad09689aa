"""The orchestration service itself: stages, progress, cancellation, replay without evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from runs import run_builder
from runs.errors import InvalidRequest, RunCancelled, RunExists, RunNotFound
from runs.models import Run
from runs.orchestration import CancelToken, RunRequest, create_run, delete_run, plan_run

pytestmark = pytest.mark.django_db


def _nothing_written(data_root: Path) -> bool:
    runs_dir = data_root / "runs"
    if not runs_dir.exists():
        return Run.objects.count() == 0
    visible = [p for p in runs_dir.iterdir() if p.name != ".staging"]
    staging = runs_dir / ".staging"
    return not visible and (not staging.exists() or not any(staging.iterdir())) and Run.objects.count() == 0


def test_progress_reports_every_stage_in_order(data_root: Path) -> None:
    seen: list[str] = []
    create_run(RunRequest(template_id="order-system"), progress=lambda stage, detail: seen.append(stage))
    assert seen == [
        "validate",
        "resolve_template",
        "generate_model",
        "evaluate",
        "write_artifacts",
        "publish",
        "index",
    ]


def test_plan_run_touches_no_disk(data_root: Path) -> None:
    plan = plan_run(RunRequest(template_id="order-system", deterministic_run_id=True))
    assert plan.predicted_run_id is not None
    assert plan.predicted_run_id.startswith("run_order-system_")
    assert plan.operations == ["generate_model", "evaluate", "write_artifacts", "publish", "index"]
    assert not (data_root / "runs").exists()


def test_cancel_before_start_writes_nothing(data_root: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(RunCancelled):
        create_run(RunRequest(template_id="order-system"), cancel=token)
    assert _nothing_written(data_root)


@pytest.mark.parametrize("stage", ["evaluate", "write_artifacts", "publish"])
def test_cancel_during_a_stage_removes_the_stage(stage: str, data_root: Path) -> None:
    token = CancelToken()

    def cancel_at(name: str, detail: str) -> None:
        if name == stage:
            token.cancel()

    with pytest.raises(RunCancelled):
        create_run(RunRequest(template_id="support-queue"), cancel=token, progress=cancel_at)
    assert _nothing_written(data_root)


def test_cancel_inside_evaluation_is_seen_between_nodes(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled before the engine's second node, the run stops there: the engine itself honours the
    token, not only the next stage check (which would first report ``write_artifacts``)."""
    token = CancelToken()
    stages: list[str] = []
    checks_in_evaluate = {"n": 0}
    real = token.raise_if_cancelled

    def count_and_cancel() -> None:
        if stages and stages[-1] == "evaluate":
            checks_in_evaluate["n"] += 1
            # Check 1 is the stage entry; 2 precedes the first node, 3 the second node.
            if checks_in_evaluate["n"] == 3:
                token.cancel()
        real()

    monkeypatch.setattr(token, "raise_if_cancelled", count_and_cancel)
    with pytest.raises(RunCancelled):
        create_run(
            RunRequest(template_id="support-queue"),
            cancel=token,
            progress=lambda stage, detail: stages.append(stage),
        )
    assert stages[-1] == "evaluate"
    assert checks_in_evaluate["n"] == 3
    assert _nothing_written(data_root)


def test_replay_does_not_evaluate_again(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    request = RunRequest(template_id="order-system", deterministic_run_id=True)
    first = create_run(request)

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a replay must not evaluate")

    monkeypatch.setattr(run_builder, "evaluate", must_not_run)
    again = create_run(request)
    assert again.was_reused is True
    assert again.run_id == first.run_id


def test_deterministic_id_with_other_inputs_is_run_exists(data_root: Path) -> None:
    made = create_run(RunRequest(template_id="order-system", deterministic_run_id=True))
    # Same directory name, but the metadata now records different inputs.
    metadata = data_root / "runs" / made.run_id / "model" / "metadata.json"
    metadata.write_text(metadata.read_text().replace(made.input_hash, "sha256:" + "0" * 64))
    with pytest.raises(RunExists):
        create_run(RunRequest(template_id="order-system", deterministic_run_id=True))
    replaced = create_run(RunRequest(template_id="order-system", deterministic_run_id=True, overwrite=True))
    assert replaced.was_reused is False
    assert made.input_hash in metadata.read_text()


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (RunRequest(template_id="order-system", mode="batch"), "mode"),
        (RunRequest(template_id="order-system", run_id="a", deterministic_run_id=True), "options.runId"),
        (RunRequest(template_id="order-system", run_id="../x"), "options.runId"),
        (RunRequest(template_id="order-system", mode="telemetry"), "telemetry.captureDirectory"),
        (RunRequest(template_id="order-system", seed=-3), "rng.seed"),
    ],
)
def test_bad_requests_are_invalid_request(request_: RunRequest, field: str, data_root: Path) -> None:
    with pytest.raises(InvalidRequest) as info:
        create_run(request_)
    assert info.value.errors[0].path == field
    assert _nothing_written(data_root)


def test_mode_is_trimmed_and_case_insensitive(data_root: Path) -> None:
    outcome = create_run(RunRequest(template_id="order-system", mode="  Simulation "))
    assert outcome.mode == "simulation"


def test_negative_seed_is_refused_with_an_explicit_id_too(data_root: Path) -> None:
    with pytest.raises(InvalidRequest) as info:
        create_run(RunRequest(template_id="order-system", run_id="mine", seed=-1))
    assert info.value.errors[0].path == "rng.seed"
    assert _nothing_written(data_root)


def test_delete_run_removes_directory_then_row_and_reports_a_missing_run(data_root: Path) -> None:
    run_id = create_run(RunRequest(template_id="order-system", run_id="to-delete")).run_id
    assert Run.objects.filter(run_id=run_id).exists()
    delete_run(run_id=run_id)
    assert not (data_root / "runs" / run_id).exists()
    assert not Run.objects.filter(run_id=run_id).exists()
    assert list((data_root / "runs").iterdir()) == []  # no staging left either
    with pytest.raises(RunNotFound):
        delete_run(run_id=run_id)
    with pytest.raises(RunNotFound):
        delete_run(run_id="../etc")


def test_dry_run_through_create_run_writes_nothing(data_root: Path) -> None:
    request = RunRequest(template_id="order-system", deterministic_run_id=True, dry_run=True)

    outcome = create_run(request)

    assert outcome.is_dry_run is True
    assert outcome.plan is not None
    assert outcome.run_id == outcome.plan.predicted_run_id
    assert outcome.run_id.startswith("run_order-system_")
    assert not (data_root / "runs").exists()
    assert Run.objects.count() == 0


def test_dry_run_with_a_random_id_predicts_none(data_root: Path) -> None:
    outcome = create_run(RunRequest(template_id="support-queue", dry_run=True))

    assert outcome.run_id == ""
    assert outcome.plan is not None and outcome.plan.predicted_run_id is None
    assert _nothing_written(data_root)
