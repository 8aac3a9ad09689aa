"""The commands help a first-time user: help on every option, examples in every description, one
spelling of the template options across create_run and telemetry_bundle (old spellings kept), progress
bars on a terminal only, a token in one step, and errors that say what to do."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest
from command_helpers import run_command
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from runs.orchestration import STAGES, RunRequest, create_run

pytestmark = pytest.mark.django_db

COMMANDS = {
    "create_run": "runs",
    "reindex_runs": "runs",
    "create_token": "runs",
    "telemetry_bundle": "telemetry",
    "telemetry_capture": "telemetry",
    "sync_templates": "templates_catalog",
}
DJANGO_OPTIONS = {
    "--help",
    "--version",
    "--verbosity",
    "--settings",
    "--pythonpath",
    "--traceback",
    "--no-color",
    "--force-color",
    "--skip-checks",
}


def parser_of(name: str) -> argparse.ArgumentParser:
    command = load_command_class(COMMANDS[name], name)
    return command.create_parser("manage.py", name)


def own_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        action
        for action in parser._actions
        if not (set(action.option_strings) & DJANGO_OPTIONS) and action.dest != "help"
    ]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_has_help_and_the_description_has_examples(name: str) -> None:
    parser = parser_of(name)
    actions = own_actions(parser)
    assert actions
    for action in actions:
        assert action.help and action.help != argparse.SUPPRESS, (name, action.option_strings)
        assert len(action.help) > 10, (name, action.option_strings)
    assert "examples:" in (parser.description or "")
    assert f"manage.py {name} " in (parser.description or "")
    text = parser.format_help()
    # The examples are printed as written (one per line), not re-wrapped into a paragraph.
    assert f"\n  manage.py {name}" in text


def test_create_run_help_shows_the_array_syntax() -> None:
    text = parser_of("create_run").format_help()
    assert "--param 'orderArrivals=[10,14,18,12]'" in text
    for option in ("--template-id ID", "--mode", "--param NAME=VALUE", "--bind PARAM=FILE", "--seed N"):
        assert option in text


def test_create_run_and_telemetry_bundle_share_option_names_and_help() -> None:
    def options(name: str) -> dict[str, tuple[str | None, Any]]:
        return {
            string: (action.help, action.metavar)
            for action in own_actions(parser_of(name))
            for string in action.option_strings
        }

    run, bundle = options("create_run"), options("telemetry_bundle")
    for option in ("--template-id", "--param", "--bind"):
        assert run[option] == bundle[option], option
    assert bundle["--template"] == bundle["--template-id"]  # the old spelling is an alias


@pytest.mark.parametrize("spelling", ["--template", "--template-id"])
def test_telemetry_bundle_accepts_both_template_spellings(spelling: str) -> None:
    parsed = parser_of("telemetry_bundle").parse_args(["--capture-dir", "d", spelling, "order-system"])
    assert parsed.template_id == "order-system"


def test_param_syntax_errors_show_an_example() -> None:
    with pytest.raises(CommandError) as info:
        call_command("create_run", "--template-id", "order-system", "--param", "bins")
    assert str(info.value) == "--param expects NAME=VALUE (for example --param bins=6), got 'bins'"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def make_runs(count: int) -> None:
    for index in range(count):
        create_run(RunRequest(template_id="order-system", run_id=f"run_{index}"))


def test_reindex_is_quiet_when_not_on_a_terminal() -> None:
    make_runs(3)
    out, err = io.StringIO(), io.StringIO()
    call_command("reindex_runs", stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert out.getvalue() == "Indexed 3 runs.\n"


def test_reindex_shows_a_progress_bar_on_a_terminal() -> None:
    make_runs(3)
    out, err = io.StringIO(), FakeTerminal()
    call_command("reindex_runs", stdout=out, stderr=err)
    assert "reindex" in err.getvalue()
    assert "3/3" in err.getvalue()
    assert out.getvalue() == "Indexed 3 runs.\n"


def test_reindex_json_has_no_bar_even_on_a_terminal() -> None:
    make_runs(1)
    err = FakeTerminal()
    call_command("reindex_runs", "--json", stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""


def test_create_token_makes_the_user_and_prints_a_working_token(data_root: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_token", "alice", "--create-user", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert len(key) == 40
    assert err.getvalue() == "Created user 'alice' (no password, no admin access).\n"

    again = io.StringIO()
    call_command("create_token", "alice", stdout=again)
    assert again.getvalue().strip() == key  # the same token until --reset

    response = APIClient().post(
        "/v1/runs", {"templateId": "order-system"}, format="json", HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert response.status_code == 201, response.content

    reset = io.StringIO()
    call_command("create_token", "alice", "--reset", stdout=reset)
    assert reset.getvalue().strip() != key


def test_create_token_for_a_missing_user_says_how() -> None:
    with pytest.raises(CommandError) as info:
        call_command("create_token", "bob")
    assert str(info.value) == (
        "not_found: no user 'bob'. Add --create-user to make one: manage.py create_token bob --create-user"
    )


def test_telemetry_capture_takes_a_bare_run_id(
    data_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run_id = create_run(RunRequest(template_id="order-system", deterministic_run_id=True)).run_id
    monkeypatch.chdir(tmp_path)  # not the data root: the id must resolve through FLOWTIME_DATA_DIR
    code, stdout, stderr = run_command("telemetry_capture", "--run-dir", run_id, "--json")
    assert code == 0, stderr
    assert (data_root / "telemetry" / run_id / "manifest.json").is_file()
    assert json.loads(stdout)["isDryRun"] is False


def test_telemetry_capture_of_an_unknown_run_says_what_to_pass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _stdout, stderr = run_command("telemetry_capture", "--run-dir", "run_nope")
    assert code == 1
    assert stderr == (
        "run_not_found: 'run_nope' is neither a run directory nor the id of a run under the data root "
        "(FLOWTIME_DATA_DIR/runs). Pass a run directory path or a run id; GET /v1/runs or "
        "manage.py reindex_runs --dry-run lists the runs.\n"
    )


def test_capture_output_outside_the_roots_names_the_setting(data_root: Path, tmp_path: Path) -> None:
    run_id = create_run(RunRequest(template_id="order-system", deterministic_run_id=True)).run_id
    code, _stdout, stderr = run_command(
        "telemetry_capture", "--run-dir", run_id, "--output", str(tmp_path / "elsewhere")
    )
    assert code == 1
    assert stderr == (
        f"path_forbidden: Output directory '{tmp_path / 'elsewhere'}' lies outside the allowed telemetry "
        "roots. Use a directory under <data>/telemetry, or add an absolute root to FLOWTIME_TELEMETRY_ROOTS "
        "(comma-separated).\n"
    )


def test_create_run_shows_its_stages_as_a_bar_on_a_terminal_only() -> None:
    err = FakeTerminal()
    call_command(
        "create_run", "--template-id", "order-system", "--run-id", "r1", stdout=io.StringIO(), stderr=err
    )
    stages = len(STAGES)  # validate … index, every one shown
    assert "create_run" in err.getvalue() and f"{stages}/{stages}" in err.getvalue()
    quiet = io.StringIO()
    call_command(
        "create_run", "--template-id", "order-system", "--run-id", "r2", stdout=io.StringIO(), stderr=quiet
    )
    assert quiet.getvalue() == ""


def test_telemetry_capture_shows_a_bar_on_a_terminal_only(data_root: Path) -> None:
    create_run(RunRequest(template_id="order-system", run_id="r1"))
    create_run(RunRequest(template_id="order-system", run_id="r2"))
    err = FakeTerminal()
    call_command("telemetry_capture", "--run-dir", "r1", stdout=io.StringIO(), stderr=err)
    assert "telemetry_capture" in err.getvalue() and "2/2" in err.getvalue()
    quiet = io.StringIO()
    call_command("telemetry_capture", "--run-dir", "r2", stdout=io.StringIO(), stderr=quiet)
    assert quiet.getvalue() == ""
