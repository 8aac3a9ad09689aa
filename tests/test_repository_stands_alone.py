"""A clone anywhere passes the suite: no tracked file reaches outside the repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests_fixtures import FIXTURE_BUNDLE, REPO_ROOT

# Built from parts so that this file does not match its own scan.
OUTSIDE_REFERENCES = ("." + "./shared", "/work" + "/shared", "shared" + "/fixtures", "shared" + "/spec")


def tracked_files() -> list[Path]:
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True, capture_output=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: nothing is tracked")
    return [REPO_ROOT / name for name in listing.decode().split("\0") if name]


def offending_lines(path: Path, root: Path = REPO_ROOT) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return []
    return [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), start=1)
        if any(reference in line for reference in OUTSIDE_REFERENCES)
    ]


def test_no_tracked_file_names_a_folder_outside_the_repository() -> None:
    problems = [line for path in tracked_files() for line in offending_lines(path)]
    assert problems == []


def test_the_scan_finds_a_reference_when_one_is_there(tmp_path: Path) -> None:
    planted = tmp_path / "docs" / "probe.md"
    planted.parent.mkdir()
    planted.write_text("fine\nsee " + OUTSIDE_REFERENCES[0] + "/spec/00-overview.md\n", encoding="utf-8")

    assert offending_lines(planted, tmp_path) == [
        f"docs/probe.md:2: see {OUTSIDE_REFERENCES[0]}/spec/00-overview.md"
    ]


def test_the_example_capture_bundle_ships_inside_the_repository() -> None:
    assert FIXTURE_BUNDLE.is_relative_to(REPO_ROOT)
    names = sorted(p.name for p in FIXTURE_BUNDLE.iterdir())
    assert names[-1] == "manifest.json"
    assert len(names) == 10  # 3 nodes × 3 metrics + the manifest
