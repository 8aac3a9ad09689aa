"""``manage.py telemetry_bundle``: a capture directory + a model → a telemetry run (spec 04 §3, §4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.artifacts import is_valid_run_id
from runs.errors import FlowtimeError, error_lines
from runs.observability import command_logging
from runs.storage import runs_root
from telemetry.bundle import telemetry_file_counts


def _assignment(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise CommandError(f"{option} expects NAME=VALUE, got '{text}'", returncode=2)
    return name.strip(), value


def _param_value(raw: str) -> Any:
    """``--param`` values are JSON when they parse as JSON, else plain strings."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class Command(BaseCommand):
    help = "Bundle a telemetry capture with a model file or a catalog template into a run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--capture-dir", required=True, help="Capture directory (relative to the cwd).")
        # Exactly one of --model / --template, checked in handle() so that both ways of calling the
        # command (command line and call_command) report it as a usage error, exit 2.
        parser.add_argument("--model", type=Path, help="A model YAML file.")
        parser.add_argument("--template", help="A catalog template id.")
        parser.add_argument("--param", action="append", default=[], metavar="NAME=JSON")
        parser.add_argument("--bind", action="append", default=[], metavar="NAME=FILE")
        parser.add_argument(
            "--provenance", type=Path, help="Provenance JSON written to model/provenance.json."
        )
        parser.add_argument("--run-id")
        parser.add_argument("--overwrite", action="store_true")
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--deterministic-run-id", dest="deterministic", action="store_true")
        kind.add_argument("--random-run-id", dest="deterministic", action="store_false")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def _check_usage(self, options: dict[str, Any]) -> None:
        if options["model"] is not None and options["template"] is not None:
            raise CommandError("--model and --template cannot be combined", returncode=2)
        if options["model"] is None and options["template"] is None:
            raise CommandError("one of --model or --template is required", returncode=2)
        if options["template"] is None and (options["param"] or options["bind"]):
            raise CommandError("--param and --bind need --template", returncode=2)
        if options["run_id"] is not None and options["deterministic"]:
            raise CommandError("--run-id cannot be combined with --deterministic-run-id", returncode=2)
        if options["run_id"] is not None and not is_valid_run_id(options["run_id"]):
            raise CommandError("--run-id must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", returncode=2)

    def handle(self, *args: Any, **options: Any) -> None:
        with command_logging(options["verbosity"]):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        self._check_usage(options)
        try:
            if options["template"] is not None:
                result = self._template_run(options)
            else:
                result = self._model_run(options)
        except FlowtimeError as exc:
            for line in error_lines(exc):  # every problem, one per line
                self.stderr.write(line)
            raise SystemExit(1) from exc
        except KeyboardInterrupt:
            # The staging directory is removed on the way out; no run was published.
            self.stderr.write("interrupted: no run was published.")
            sys.exit(130)
        self._print(result, as_json=bool(options["json"]))

    def _template_run(self, options: dict[str, Any]) -> dict[str, Any]:
        from runs.orchestration import RunRequest, TelemetrySpec, create_run

        parameters = {}
        for item in options["param"]:
            name, raw = _assignment(item, "--param")
            parameters[name] = _param_value(raw)
        bindings = dict(_assignment(item, "--bind") for item in options["bind"])
        extra: dict[str, Any] = {}
        if options["provenance"] is not None:
            from telemetry.bundle import read_provenance_file

            extra["provenance"] = read_provenance_file(options["provenance"])
        request = RunRequest(
            template_id=options["template"],
            mode="telemetry",
            parameters=parameters,
            telemetry=TelemetrySpec(capture_directory=options["capture_dir"], bindings=bindings),
            deterministic_run_id=bool(options["deterministic"]),
            run_id=options["run_id"],
            overwrite=bool(options["overwrite"]),
            capture_base=Path.cwd(),
            **extra,
        )
        outcome = create_run(request)
        return {
            "runId": outcome.run_id,
            "wasReused": outcome.was_reused,
            "mode": outcome.mode,
            "templateId": outcome.template_id,
            "inputHash": outcome.input_hash,
        }

    def _model_run(self, options: dict[str, Any]) -> dict[str, Any]:
        from telemetry.services import telemetry_model_run_create

        outcome = telemetry_model_run_create(
            capture_directory=options["capture_dir"],
            capture_base=Path.cwd(),
            model_path=options["model"],
            provenance_path=options["provenance"],
            run_id=options["run_id"],
            deterministic_run_id=bool(options["deterministic"]),
            overwrite=bool(options["overwrite"]),
        )
        return {
            "runId": outcome.run_id,
            "wasReused": outcome.was_reused,
            "mode": outcome.mode,
            "templateId": outcome.template_id,
            "inputHash": outcome.input_hash,
        }

    def _print(self, result: dict[str, Any], *, as_json: bool) -> None:
        run_dir = runs_root() / result["runId"]
        bound, unbound = telemetry_file_counts(run_dir)
        if as_json:
            body = {
                **result,
                "directory": f"runs/{result['runId']}",
                "telemetryFiles": {"bound": bound, "unbound": unbound},
            }
            self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))
            return
        if result["wasReused"]:
            self.stdout.write(f"Run exists: {result['runId']} (reused)")
        else:
            self.stdout.write(f"Run created: {result['runId']}")
        self.stdout.write(f"Directory: {run_dir}")
        self.stdout.write(f"Mode: {result['mode']}")
        self.stdout.write(f"Template: {result['templateId']}")
        self.stdout.write(f"Telemetry files: {bound} bound, {unbound} unbound")
