"""Staging and atomic publication (spec 03 §5, §7)."""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runs.artifacts import (
    GridInfo,
    RunContent,
    clean_stale_staging,
    delete_run_dir,
    find_reusable_run,
    publish_run,
    read_snapshot,
    run_store,
    run_version,
    staged_run,
    write_run_files,
)
from runs.errors import InvalidRequest, RunExists, RunInvalid

MODEL = "grid: {bins: 2, binSize: 1, binUnit: hours}\nnodes:\n  - {id: a, values: [1, 2]}\n"
HASH_A = "sha256:" + "aa" * 32
HASH_B = "sha256:" + "bb" * 32
CREATED = datetime(2025, 11, 29, 10, 15, 2, tzinfo=UTC)


def content(values: tuple[float, float] = (1.0, 2.0), input_hash: str = HASH_A) -> RunContent:
    return RunContent(
        model_text=MODEL,
        series=[("a", np.array(values))],
        grid=GridInfo(2, 1, "hours"),
        engine_version="0.1.0",
        input_hash=input_hash,
    )


def _entries(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def make_run(
    root: Path,
    run_id: str | None,
    *,
    kind: str = "explicit",
    overwrite: bool = False,
    values: tuple[float, float] = (1.0, 2.0),
    input_hash: str = HASH_A,
    **extra: Any,
) -> Any:
    with staged_run(root) as stage:
        write_run_files(
            stage.path, content(values, input_hash), run_id=run_id or "placeholder", created_utc=CREATED
        )
        result = publish_run(
            stage,
            runs_root=root,
            run_id=run_id,
            id_kind=kind,  # type: ignore[arg-type]
            overwrite=overwrite,
            input_hash=input_hash,
            created_utc=CREATED,
            **extra,
        )
    assert not stage.path.exists()
    return result


def test_publish_a_new_run(runs_root: Path) -> None:
    result = make_run(runs_root, "run_one")
    assert result.run_id == "run_one"
    assert result.run_dir == runs_root / "run_one"
    assert not result.was_reused
    assert not result.replaced
    assert (runs_root / "run_one" / "run.json").is_file()
    assert json.loads((runs_root / "run_one" / "run.json").read_text())["runId"] == "run_one"
    assert _entries(runs_root) == [".staging", "run_one"]
    assert _entries(runs_root / ".staging") == []


def test_deterministic_id_with_same_inputs_is_reused(runs_root: Path) -> None:
    make_run(runs_root, "run_det", kind="deterministic", values=(1.0, 2.0))
    first = (runs_root / "run_det" / "series" / "a@A@DEFAULT.csv").read_bytes()
    again = make_run(runs_root, "run_det", kind="deterministic", values=(5.0, 6.0))
    assert again.was_reused
    assert again.run_dir == runs_root / "run_det"
    assert (runs_root / "run_det" / "series" / "a@A@DEFAULT.csv").read_bytes() == first
    assert _entries(runs_root / ".staging") == []


def test_deterministic_id_with_other_inputs_is_run_exists(runs_root: Path) -> None:
    make_run(runs_root, "run_det", kind="deterministic")
    with pytest.raises(RunExists) as caught:
        make_run(runs_root, "run_det", kind="deterministic", input_hash=HASH_B)
    assert caught.value.code == "run_exists"
    assert caught.value.status == 409
    assert json.loads((runs_root / "run_det" / "model" / "metadata.json").read_text())["inputHash"] == HASH_A
    assert _entries(runs_root / ".staging") == []


def test_explicit_id_that_exists_is_run_exists_even_with_same_inputs(runs_root: Path) -> None:
    make_run(runs_root, "mine")
    with pytest.raises(RunExists):
        make_run(runs_root, "mine")
    assert _entries(runs_root) == [".staging", "mine"]
    assert _entries(runs_root / ".staging") == []


def test_overwrite_replaces_the_old_run_completely(runs_root: Path) -> None:
    make_run(runs_root, "mine", values=(1.0, 2.0))
    (runs_root / "mine" / "series" / "leftover.csv").write_text("t,value\n")
    result = make_run(runs_root, "mine", overwrite=True, values=(7.0, 8.0), input_hash=HASH_B)
    assert result.replaced
    assert not result.was_reused
    assert not (runs_root / "mine" / "series" / "leftover.csv").exists()
    assert (runs_root / "mine" / "series" / "a@A@DEFAULT.csv").read_bytes() == b"t,value\n0,7\n1,8\n"
    assert json.loads((runs_root / "mine" / "model" / "metadata.json").read_text())["inputHash"] == HASH_B
    assert _entries(runs_root) == [".staging", "mine"]
    assert _entries(runs_root / ".staging") == []


def test_overwrite_of_a_missing_run_is_a_plain_publish(runs_root: Path) -> None:
    result = make_run(runs_root, "fresh", kind="deterministic", overwrite=True)
    assert not result.replaced
    assert (runs_root / "fresh" / "run.json").is_file()


def test_overwrite_is_one_exchange_and_a_failed_exchange_changes_nothing(
    runs_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_run(runs_root, "mine", values=(1.0, 2.0))

    def failing_exchange(first: Path, second: Path) -> None:
        raise OSError(errno.EIO, "disk on fire")

    monkeypatch.setattr(run_store, "exchange_paths", failing_exchange)
    with pytest.raises(OSError, match="disk on fire"):
        make_run(runs_root, "mine", overwrite=True, values=(7.0, 8.0))
    monkeypatch.undo()
    assert (runs_root / "mine" / "series" / "a@A@DEFAULT.csv").read_bytes() == b"t,value\n0,1\n1,2\n"
    assert _entries(runs_root) == [".staging", "mine"]
    assert _entries(runs_root / ".staging") == []


def test_without_an_atomic_exchange_the_two_step_fallback_rolls_back(
    runs_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_run(runs_root, "mine", values=(1.0, 2.0))
    monkeypatch.setattr(run_store, "_renameat2", None)
    real_rename = os.rename

    def failing_rename(src: Any, dst: Any) -> None:
        if Path(src).parent.name == ".staging" and Path(dst).name == "mine":
            raise OSError(errno.EIO, "disk on fire")
        real_rename(src, dst)

    monkeypatch.setattr(run_store.os, "rename", failing_rename)
    with pytest.raises(OSError, match="disk on fire"):
        make_run(runs_root, "mine", overwrite=True, values=(7.0, 8.0))
    monkeypatch.setattr(run_store.os, "rename", real_rename)
    assert (runs_root / "mine" / "series" / "a@A@DEFAULT.csv").read_bytes() == b"t,value\n0,1\n1,2\n"
    result = make_run(runs_root, "mine", overwrite=True, values=(7.0, 8.0))
    assert result.replaced
    assert (runs_root / "mine" / "series" / "a@A@DEFAULT.csv").read_bytes() == b"t,value\n0,7\n1,8\n"
    assert _entries(runs_root / ".staging") == []


def _tokens(*values: str) -> Iterator[str]:
    yield from values


def test_random_id_draws_a_new_suffix_and_restamps_run_json(runs_root: Path) -> None:
    (runs_root / "run_20251129T101502Z_aaaaaaaa").mkdir()
    (runs_root / "run_20251129T101502Z_aaaaaaaa" / "run.json").write_text("{}\n")
    tokens = _tokens("bbbbbbbb")
    result = make_run(
        runs_root,
        "run_20251129T101502Z_aaaaaaaa",
        kind="random",
        token=lambda: next(tokens),
    )
    assert result.run_id == "run_20251129T101502Z_bbbbbbbb"
    run = json.loads((runs_root / result.run_id / "run.json").read_text())
    assert run["runId"] == "run_20251129T101502Z_bbbbbbbb"
    assert (runs_root / "run_20251129T101502Z_aaaaaaaa" / "run.json").read_text() == "{}\n"


def test_random_id_drawn_at_publish_when_none_given(runs_root: Path) -> None:
    result = make_run(runs_root, None, kind="random", token=lambda: "0badc0de")
    assert result.run_id == "run_20251129T101502Z_0badc0de"
    assert json.loads((runs_root / result.run_id / "run.json").read_text())["runId"] == result.run_id


def test_invalid_run_id_is_rejected_before_any_rename(runs_root: Path) -> None:
    with pytest.raises(InvalidRequest):
        make_run(runs_root, "../escape")
    assert _entries(runs_root) == [".staging"]
    assert not (runs_root.parent / "escape").exists()


def test_failure_inside_staged_run_leaves_nothing_visible(runs_root: Path) -> None:
    with pytest.raises(RuntimeError, match="evaluation blew up"), staged_run(runs_root) as stage:
        (stage.path / "series").mkdir()
        (stage.path / "series" / "a@A@DEFAULT.csv").write_text("t,value\n0,1\n")
        (stage.path / "run.json").write_text('{"half": ')
        raise RuntimeError("evaluation blew up")
    assert _entries(runs_root) == [".staging"]
    assert _entries(runs_root / ".staging") == []


def test_interrupt_inside_staged_run_removes_the_stage(runs_root: Path) -> None:
    with pytest.raises(KeyboardInterrupt), staged_run(runs_root) as stage:
        write_run_files(stage.path, content(), run_id="x", created_utc=CREATED)
        raise KeyboardInterrupt
    assert _entries(runs_root / ".staging") == []


def test_stage_never_published_is_removed(runs_root: Path) -> None:
    with staged_run(runs_root) as stage:
        write_run_files(stage.path, content(), run_id="x", created_utc=CREATED)
    assert not stage.path.exists()
    assert _entries(runs_root / ".staging") == []


def _entry_name(hours_ago: float) -> str:
    """A staging entry name as writers record it: ``<unix seconds>-<uuid hex>``."""
    return f"{int(time.time() - hours_ago * 3600)}-{os.urandom(16).hex()}"


def test_unowned_staging_entries_are_aged_by_their_recorded_time(runs_root: Path) -> None:
    staging = runs_root / ".staging"
    old = staging / _entry_name(25)
    (old / "series").mkdir(parents=True)
    (old / "series" / "x.csv").write_text("t,value\n")
    fresh = staging / _entry_name(23)
    fresh.mkdir()
    # The mtime says nothing: a rename keeps it, so a just-moved old run looks ancient (defect 2).
    _age_mtime(fresh, 48)
    unknown = staging / "not-ours"
    unknown.mkdir()
    _age_mtime(unknown, 48)
    with staged_run(runs_root) as stage:
        assert stage.path.name in _entries(staging)
        assert not old.exists()
    assert _entries(staging) == sorted([fresh.name, "not-ours"])


def _age_mtime(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_clean_stale_staging_counts_and_tolerates_no_staging(runs_root: Path) -> None:
    assert clean_stale_staging(runs_root) == 0
    staging = runs_root / ".staging"
    staging.mkdir()
    (staging / _entry_name(30)).mkdir()
    (staging / f"{_entry_name(30)}.old").mkdir()
    (staging / _entry_name(1)).mkdir()
    assert clean_stale_staging(runs_root) == 2
    assert len(_entries(staging)) == 1


def test_an_entry_whose_writer_died_goes_at_once_one_whose_writer_lives_stays(runs_root: Path) -> None:
    staging = runs_root / ".staging"
    staging.mkdir()
    dead = _entry_name(0)
    (staging / dead / "series").mkdir(parents=True)
    (staging / f"{dead}.lock").write_text("")  # its lock is free: the writer was killed
    with staged_run(runs_root) as live:
        assert not (staging / dead).exists()
        assert not (staging / f"{dead}.lock").exists()
        assert clean_stale_staging(runs_root, max_age=timedelta(0)) == 0
        assert live.path.is_dir()
        assert (staging / f"{live.name}.lock").exists()
    assert _entries(staging) == []


def test_an_old_run_moved_aside_by_a_replace_survives_a_concurrent_cleanup(
    runs_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 2: the old version of a run published days ago keeps its mtime when moved into
    .staging; a cleanup that ran then deleted it, and the replace answered 500 (or lost the run)."""
    make_run(runs_root, "mine", values=(1.0, 2.0))
    _age_mtime(runs_root / "mine", 72)
    monkeypatch.setattr(run_store, "_renameat2", None)  # the two-step fallback: the old run sits aside
    real_rename = os.rename
    removed: list[int] = []

    def rename_then_clean(src: Any, dst: Any) -> None:
        real_rename(src, dst)
        if Path(src).name == "mine":
            removed.append(clean_stale_staging(runs_root))

    monkeypatch.setattr(run_store.os, "rename", rename_then_clean)
    result = make_run(runs_root, "mine", overwrite=True, values=(7.0, 8.0))
    assert removed == [0]
    assert result.replaced
    assert (runs_root / "mine" / "series" / "a@A@DEFAULT.csv").read_bytes() == b"t,value\n0,7\n1,8\n"
    assert _entries(runs_root / ".staging") == []


def test_delete_renames_the_run_out_and_only_one_of_many_deletes_wins(runs_root: Path) -> None:
    make_run(runs_root, "mine")
    outcomes = [delete_run_dir(runs_root, "mine") for _ in range(3)]
    assert outcomes == [True, False, False]
    assert _entries(runs_root) == []  # the run is gone, and no empty staging area is left
    assert delete_run_dir(runs_root, "../mine") is False


def test_read_snapshot_repeats_a_read_that_overlapped_a_replace(runs_root: Path) -> None:
    make_run(runs_root, "mine", values=(1.0, 2.0))
    calls: list[bytes] = []

    def read() -> bytes:
        data = (runs_root / "mine" / "series" / "a@A@DEFAULT.csv").read_bytes()
        if not calls:
            make_run(runs_root, "mine", overwrite=True, values=(7.0, 8.0))
        calls.append(data)
        return data

    assert read_snapshot(runs_root, "mine", read) == b"t,value\n0,7\n1,8\n"
    assert len(calls) == 2


def test_a_run_directory_linked_outside_the_data_root_is_run_invalid(
    runs_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    make_run(outside, "elsewhere")
    (runs_root / "linked").symlink_to(outside / "elsewhere")
    with pytest.raises(RunInvalid):
        run_version(runs_root, "linked")


def test_find_reusable_run(runs_root: Path) -> None:
    make_run(runs_root, "run_det", kind="deterministic")
    assert find_reusable_run(runs_root, "run_det", HASH_A) == runs_root / "run_det"
    assert find_reusable_run(runs_root, "run_det", ("AA" * 32)) == runs_root / "run_det"
    assert find_reusable_run(runs_root, "run_det", HASH_B) is None
    assert find_reusable_run(runs_root, "run_other", HASH_A) is None
    assert find_reusable_run(runs_root, "../run_det", HASH_A) is None
    (runs_root / "run_det" / "series" / "index.json").unlink()
    assert find_reusable_run(runs_root, "run_det", HASH_A) is None


def test_without_renameat2_writers_say_so_once_and_still_replace(
    runs_root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(run_store, "_renameat2", None)
    monkeypatch.setattr(run_store, "_fallback_reported", False)
    assert run_store.exchange_supported_by_platform() is False
    assert run_store.atomic_exchange_available(runs_root) is False
    make_run(runs_root, "mine", values=(1.0, 2.0))
    with caplog.at_level("WARNING", logger="flowtime.runs"):
        make_run(runs_root, "mine", overwrite=True, values=(3.0, 4.0))
        make_run(runs_root, "mine", overwrite=True, values=(5.0, 6.0))
    warnings = [r.getMessage() for r in caplog.records if "atomic exchange unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert (runs_root / "mine" / "series" / "a@A@DEFAULT.csv").read_bytes() == b"t,value\n0,5\n1,6\n"
    assert _entries(runs_root / ".staging") == []


def test_this_platform_swaps_directories_atomically(runs_root: Path) -> None:
    # The test machines are Linux with renameat2; elsewhere this documents the fallback being taken.
    assert run_store.atomic_exchange_available(runs_root) is run_store.exchange_supported_by_platform()
    assert _entries(runs_root / ".staging") == []
