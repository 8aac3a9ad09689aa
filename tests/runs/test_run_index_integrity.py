"""The index never lies and never loses a live row (issue: defects 4, 5, 6, 7)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from api_helpers import body_of, post_run, writer
from command_helpers import CommandResult, run_command
from rest_framework.test import APIClient

from runs import selectors, services
from runs.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


def make_run(client: APIClient, run_id: str) -> dict[str, Any]:
    response = post_run(client, {"templateId": "order-system", "options": {"runId": run_id}})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = body_of(response)
    return body


def reindex(*args: str) -> CommandResult:
    return run_command("reindex_runs", *args)


def indexed() -> list[str]:
    return sorted(Run.objects.values_list("run_id", flat=True))


def test_prune_keeps_the_row_of_a_run_published_after_the_scan(
    client: APIClient, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 4: the directories were listed first and unseen rows deleted later, so a run published
    in between lost its row."""
    make_run(client, "early")
    real_rows = services._row_results

    def rows_then_publish(*args: Any, **kwargs: Any) -> Any:
        yield from real_rows(*args, **kwargs)
        make_run(client, "late")  # published (and indexed) after the scan, before the prune

    monkeypatch.setattr(services, "_row_results", rows_then_publish)
    code, out, _ = reindex("--prune")
    assert code == 0
    assert "Pruned 0 rows." in out
    assert indexed() == ["early", "late"]


def test_prune_refuses_an_empty_data_root_while_rows_exist(
    client: APIClient, data_root: Path, settings: Any
) -> None:
    """Defect 4: a mistyped FLOWTIME_DATA_DIR printed "Indexed 0 runs. Pruned 5 rows." and exited 0."""
    make_run(client, "one")
    make_run(client, "two")
    settings.FLOWTIME_DATA_DIR = data_root.parent / "mistyped"
    code, out, err = reindex("--prune")
    assert code == 1
    assert err.startswith("prune_refused: The data root has no runs but the index has 2 rows")
    assert indexed() == ["one", "two"]
    code, out, _ = reindex("--prune", "--force")
    assert code == 0
    assert "Pruned 2 rows." in out
    assert indexed() == []


def test_prune_still_removes_rows_whose_directory_is_gone(client: APIClient, data_root: Path) -> None:
    make_run(client, "kept")
    make_run(client, "gone")
    shutil.rmtree(data_root / "runs" / "gone")
    code, out, _ = reindex("--prune")
    assert code == 0
    assert "Pruned 1 rows." in out
    assert indexed() == ["kept"]


def test_listing_tolerates_a_row_deleted_between_its_two_queries(
    client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 5: KeyError -> 500 when a row vanished between the key query and the row query."""
    # A first page is one query; a later page reads its keys, then its rows.
    make_run(client, "a-first")
    make_run(client, "a-second")
    make_run(client, "stays")
    make_run(client, "vanishes")

    class Objects:
        all = staticmethod(Run.objects.all)

        @staticmethod
        def filter(**kwargs: Any) -> Any:
            Run.objects.filter(run_id="vanishes").delete()
            return Run.objects.filter(**kwargs)

    class RunWithARace:
        objects = Objects

    monkeypatch.setattr(selectors, "Run", RunWithARace)
    response = client.get("/v1/runs?ordering=runId&pageSize=2&page=2")
    assert response.status_code == 200
    assert [item["runId"] for item in body_of(response)["items"]] == ["stays"]


def test_a_run_directory_linked_outside_the_data_root_is_never_served(
    client: APIClient, data_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Defect 6: a run directory symlinked outside the data root was served."""
    make_run(client, "real")
    outside = tmp_path_factory.mktemp("elsewhere")
    shutil.copytree(data_root / "runs" / "real", outside / "planted")
    os.symlink(outside / "planted", data_root / "runs" / "planted")
    for path in ("/v1/runs/planted", "/v1/runs/planted/state?binIndex=0", "/v1/runs/planted/model"):
        response = client.get(path)
        assert response.status_code == 409, (path, response.content)
        assert body_of(response)["code"] == "run_invalid"
        assert str(outside) not in response.content.decode()
    code, out, err = reindex()
    assert code == 0
    assert "Skipped planted: run_invalid" in out
    assert "warning: skipped planted" in err
    assert indexed() == ["real"]


def test_a_model_file_linked_outside_the_run_is_never_served(
    client: APIClient, data_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Defect 6: a symlinked model/model.yaml was served byte for byte by /model."""
    make_run(client, "victim")
    secret = tmp_path_factory.mktemp("secret") / "secret.yaml"
    secret.write_text((data_root / "runs" / "victim" / "model" / "model.yaml").read_text() + "# secret\n")
    model = data_root / "runs" / "victim" / "model" / "model.yaml"
    model.unlink()
    model.symlink_to(secret)
    for path in (
        "/v1/runs/victim/model",
        "/v1/runs/victim/state?binIndex=0",
        "/v1/runs/victim/graph",
        "/v1/runs/victim",
    ):
        response = client.get(path)
        assert response.status_code == 409, (path, response.content)
        assert body_of(response)["code"] == "run_invalid"
        assert b"secret" not in response.content


def test_a_model_directory_linked_outside_the_run_is_never_served(
    client: APIClient, data_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The confinement check follows links in every component, not only the document's own name."""
    make_run(client, "victim")
    outside = tmp_path_factory.mktemp("outside") / "model"
    model_dir = data_root / "runs" / "victim" / "model"
    model_dir.rename(outside)
    model_dir.symlink_to(outside, target_is_directory=True)
    for path in ("/v1/runs/victim/model", "/v1/runs/victim/graph", "/v1/runs/victim"):
        response = client.get(path)
        assert response.status_code == 409, (path, response.content)
        assert body_of(response)["code"] == "run_invalid"


def test_a_document_linked_to_a_file_inside_the_run_is_served(client: APIClient, data_root: Path) -> None:
    make_run(client, "linked")
    model_dir = data_root / "runs" / "linked" / "model"
    (model_dir / "metadata.json").rename(model_dir / "metadata-copy.json")
    (model_dir / "metadata.json").symlink_to("metadata-copy.json")
    response = client.get("/v1/runs/linked")
    assert response.status_code == 200, response.content
    assert body_of(response)["metadata"]["runId"] == "linked"


def test_list_and_detail_agree_on_the_warnings_of_one_directory(client: APIClient, data_root: Path) -> None:
    """Defect 7: run.json warnings that are not messages counted in the list (hasWarnings=true) but
    the detail showed none."""
    make_run(client, "odd")
    run_json = data_root / "runs" / "odd" / "run.json"
    document = json.loads(run_json.read_text())
    document["warnings"] = ["", 7, {"message": "real one"}]
    run_json.write_text(json.dumps(document, indent=2) + "\n")
    services.run_index_refresh(run_id="odd")
    detail = body_of(client.get("/v1/runs/odd"))
    listed = body_of(client.get("/v1/runs"))["items"][0]
    assert [w["message"] for w in detail["warnings"]] == ["real one"]
    assert listed["warningCount"] == len(detail["warnings"]) == 1
    with_warnings = body_of(client.get("/v1/runs?hasWarnings=true"))["items"]
    assert [item["runId"] for item in with_warnings] == ["odd"]


def test_list_and_detail_agree_on_a_run_without_a_template_id(client: APIClient, data_root: Path) -> None:
    """Defect 7: the index fell back to ``adhoc-model`` where the detail answers 409 run_invalid."""
    make_run(client, "anonymous")
    run_dir = data_root / "runs" / "anonymous"
    metadata = json.loads((run_dir / "model" / "metadata.json").read_text())
    del metadata["templateId"]
    (run_dir / "model" / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    model = (run_dir / "model" / "model.yaml").read_text()
    kept = [line for line in model.splitlines() if not line.strip().startswith("id: order-system")]
    stripped = "\n".join(kept)
    (run_dir / "model" / "model.yaml").write_text(stripped + "\n")
    detail = client.get("/v1/runs/anonymous")
    assert detail.status_code == 409
    assert body_of(detail)["code"] == "run_invalid"
    code, out, _ = reindex()
    assert code == 0
    assert "Skipped anonymous: run_invalid" in out
    assert indexed() == []


def test_the_row_a_create_writes_from_its_body_is_the_row_read_back_from_disk(
    client: APIClient, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refreshed: list[str] = []
    real_refresh = services.run_index_refresh
    monkeypatch.setattr(
        services,
        "run_index_refresh",
        lambda *, run_id: refreshed.append(run_id) or real_refresh(run_id=run_id),
    )
    make_run(client, "from-body")
    assert refreshed == []  # the create did not read its run back to index it
    from_body = Run.objects.values().get(run_id="from-body")
    Run.objects.all().delete()
    real_refresh(run_id="from-body")
    from_disk = Run.objects.values().get(run_id="from-body")
    from_body.pop("indexed_at"), from_disk.pop("indexed_at")
    assert from_disk == from_body


def test_a_run_replaced_before_its_row_is_written_is_indexed_from_disk(
    client: APIClient, data_root: Path
) -> None:
    make_run(client, "replaced")
    run_dir = data_root / "runs" / "replaced"
    written = services.written_dir(run_dir)
    body = body_of(client.get("/v1/runs/replaced"))
    stale = {**body, "metadata": {**body["metadata"], "templateTitle": "not what the disk says"}}
    other = services.WrittenDir(written.device, written.inode + 1, written.run_json)
    row = services.run_index_written(run_id="replaced", body=stale, written=other)
    assert row is not None and row.template_title == body["metadata"]["templateTitle"]
    changed = services.WrittenDir(written.device, written.inode, written.run_json + b" ")
    row = services.run_index_written(run_id="replaced", body=stale, written=changed)
    assert row is not None and row.template_title == body["metadata"]["templateTitle"]
    row = services.run_index_written(run_id="replaced", body=stale, written=written)
    assert row is not None and row.template_title == "not what the disk says"  # ours: the body is used
    shutil.rmtree(run_dir)
    assert services.run_index_written(run_id="replaced", body=body, written=written) is None
    assert not Run.objects.filter(run_id="replaced").exists()


def test_the_staged_body_takes_the_written_series_as_a_reader_parses_them(data_root: Path) -> None:
    import numpy as np

    from runs.artifacts import series_csv_bytes, series_id_for
    from runs.orchestration import RunRequest, create_run
    from runs.replay.run_response import staged_run_response

    outcome = create_run(RunRequest(template_id="order-system", run_id="staged"))
    assert outcome.body is not None and outcome.body["canReplay"] is True
    copy = data_root / "copy"
    shutil.copytree(data_root / "runs" / "staged", copy)
    bins = outcome.body["grid"]["bins"]
    broken = np.full(bins, np.nan)  # order_served is a required metric: the replay check fails
    (copy / "series" / f"{series_id_for('order_served')}.csv").write_bytes(series_csv_bytes(broken))
    from_disk = staged_run_response(copy, "staged")
    from_memory = staged_run_response(copy, "staged", written_series=[("order_served", broken)])
    assert from_disk["canReplay"] is False
    assert from_memory == from_disk
    healthy = staged_run_response(copy, "staged", written_series=[("order_served", np.ones(bins))])
    assert healthy["canReplay"] is True  # the values in memory are what was checked
