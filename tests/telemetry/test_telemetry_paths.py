"""Path rules (spec 04 §1, spec 05 §8): traversal in capture dirs and bindings is ``path_forbidden``,
exit 1, and nothing is written."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from telemetry_helpers import copy_fixture, run_command, tree_listing

from runs.errors import PathForbidden
from runs.models import Run
from telemetry.bundle import resolve_capture_for_run
from telemetry.paths import allowed_roots, relative_path_problem


@pytest.fixture
def layout(data_root: Path, tmp_path: Path, fixture_capture: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid capture outside every root (so following a payload there would succeed), symlinks
    leading to it, and the working directory at ``<data>/telemetry`` (relative payloads resolve as in
    the API)."""
    copy_fixture(tmp_path / "outside" / "evil")
    (data_root / "telemetry" / "escape").symlink_to(tmp_path / "outside" / "evil")
    (data_root / "telemetry" / "linked").symlink_to(tmp_path / "outside")
    monkeypatch.chdir(data_root / "telemetry")
    return tmp_path


CAPTURE_DIR_PAYLOADS = [
    "../../outside/evil",
    "{outside}/evil",
    "escape",
    "linked/evil",
    "it-system-telemetry\x00",
    "%2e%2e/%2e%2e/outside/evil",
    "%2E%2E%2F%2E%2E%2Foutside%2Fevil",
    "..\\..\\outside\\evil",
    "C:\\outside\\evil",
    "C:/outside/evil",
    "it-system-telemetry/../../../outside/evil",
    "/etc",
]


def _assert_nothing_written(data_root: Path) -> None:
    assert tree_listing(data_root / "runs") in ([], [".staging"])
    assert Run.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("payload", CAPTURE_DIR_PAYLOADS)
def test_capture_dir_traversal_is_forbidden(layout: Path, data_root: Path, payload: str) -> None:
    value = payload.format(outside=layout / "outside")
    result = run_command(
        "telemetry_bundle",
        "--capture-dir",
        value,
        "--template",
        "it-system-microservices",
        "--deterministic-run-id",
    )
    assert result.code == 1
    assert result.stderr.startswith("path_forbidden: ")
    _assert_nothing_written(data_root)

    with pytest.raises(PathForbidden):
        resolve_capture_for_run(
            capture_directory=value, base=data_root / "telemetry", data_root=data_root, bindings={}
        )


@pytest.mark.django_db
def test_the_outside_capture_works_once_its_root_is_allowed(layout: Path, data_root: Path, settings) -> None:  # type: ignore[no-untyped-def]
    """The payload targets are real captures: the refusals above are the path rules, not missing files."""
    settings.FLOWTIME_TELEMETRY_ROOTS = str(layout / "outside")
    result = run_command(
        "telemetry_bundle", "--capture-dir", "../../outside/evil", "--template", "it-system-microservices"
    )
    assert result.code == 0, result.stderr
    capture = resolve_capture_for_run(
        capture_directory=str(layout / "outside" / "evil"),
        base=data_root / "telemetry",
        data_root=data_root,
        bindings={},
        extra_roots=settings.FLOWTIME_TELEMETRY_ROOTS,
    )
    assert capture.display_path == "outside/evil"
    # A symlink is refused even when it points into an allowed root.
    with pytest.raises(PathForbidden):
        resolve_capture_for_run(
            capture_directory="escape",
            base=data_root / "telemetry",
            data_root=data_root,
            bindings={},
            extra_roots=settings.FLOWTIME_TELEMETRY_ROOTS,
        )


BINDING_PAYLOADS = [
    "../../../outside/evil/LoadBalancer_arrivals.csv",
    "/etc/passwd",
    "{outside}/evil/LoadBalancer_arrivals.csv",
    "..\\LoadBalancer_arrivals.csv",
    "C:LoadBalancer_arrivals.csv",
    "LoadBalancer_arrivals.csv\x00",
    "%2e%2e/LoadBalancer_arrivals.csv",
    "./LoadBalancer_arrivals.csv",
    "sub//LoadBalancer_arrivals.csv",
    "file:///etc/passwd",
    "",
]


@pytest.mark.django_db
@pytest.mark.parametrize("payload", BINDING_PAYLOADS)
def test_binding_traversal_is_forbidden(layout: Path, data_root: Path, payload: str) -> None:
    value = payload.format(outside=layout / "outside")
    result = run_command(
        "telemetry_bundle",
        "--capture-dir",
        "it-system-telemetry",
        "--template",
        "it-system-microservices",
        "--bind",
        f"telemetryRequestsSource={value}",
    )
    assert result.code == 1
    assert result.stderr.startswith("path_forbidden: ")
    _assert_nothing_written(data_root)

    with pytest.raises(PathForbidden) as excinfo:
        resolve_capture_for_run(
            capture_directory="it-system-telemetry",
            base=data_root / "telemetry",
            data_root=data_root,
            bindings={"telemetryRequestsSource": value},
        )
    assert excinfo.value.errors[0].path == "telemetry.bindings.telemetryRequestsSource"


@pytest.mark.django_db
def test_manifest_file_that_is_a_symlink_out_is_forbidden(
    layout: Path, data_root: Path, fixture_capture: Path
) -> None:
    secret = layout / "outside" / "evil" / "LoadBalancer_arrivals.csv"
    (fixture_capture / "link.csv").symlink_to(secret)
    manifest = json.loads((fixture_capture / "manifest.json").read_text())
    # The hash is right for the target, so only the symlink rule can refuse it.
    manifest["files"].append(
        {
            "nodeId": "LoadBalancer",
            "metric": "Capacity",
            "path": "link.csv",
            "hash": hashlib.sha256(secret.read_bytes()).hexdigest(),
            "points": 6,
        }
    )
    (fixture_capture / "manifest.json").write_text(json.dumps(manifest))
    result = run_command(
        "telemetry_bundle",
        "--capture-dir",
        "it-system-telemetry",
        "--template",
        "it-system-microservices",
        "--bind",
        "telemetryRequestsSource=link.csv",
    )
    assert result.code == 1
    assert result.stderr.startswith("path_forbidden: ")
    _assert_nothing_written(data_root)


def test_manifest_json_that_is_a_symlink_is_forbidden(
    layout: Path, data_root: Path, fixture_capture: Path
) -> None:
    (fixture_capture / "manifest.json").unlink()
    (fixture_capture / "manifest.json").symlink_to(layout / "outside" / "evil" / "manifest.json")
    with pytest.raises(PathForbidden):
        resolve_capture_for_run(
            capture_directory="it-system-telemetry",
            base=data_root / "telemetry",
            data_root=data_root,
            bindings={},
        )


@pytest.mark.parametrize(
    "value",
    ["a.csv", "sub/a.csv", "a b.csv", "Ünïcode.csv", "x..y.csv"],
)
def test_acceptable_relative_paths(value: str) -> None:
    assert relative_path_problem(value) is None


def test_allowed_roots_are_realpathed_and_skip_blanks(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    roots = allowed_roots(
        data_root=tmp_path / "data",
        extra_roots=os.pathsep.join([str(tmp_path / "alias"), "", "  ", str(tmp_path / "real")]),
    )
    assert roots == [(tmp_path / "data" / "telemetry").resolve(), (tmp_path / "real").resolve()]
