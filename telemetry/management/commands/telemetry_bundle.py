"""``manage.py telemetry_bundle``: a capture directory + a model → a telemetry run (spec 04 §3, §4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from runs.artifacts import is_valid_run_id
from runs.command_options import (
    ExampleHelpCommand,
    add_template_options,
    parse_bindings,
    parse_parameters,
    stage_progress,
)
from runs.errors import FlowtimeError, error_lines
from runs.observability import command_logging
from runs.storage import runs_root
from telemetry.bundle import telemetry_file_counts


class Command(ExampleHelpCommand):
    help = """Bundle a telemetry capture with a catalog template or a model file into a run.

examples:
  manage.py telemetry_bundle --capture-dir var/data/telemetry/demo --template-id it-system-microservices \\
      --bind telemetryRequestsSource=LoadBalancer_arrivals.csv --param bins=6 --deterministic-run-id
  manage.py telemetry_bundle --capture-dir var/data/telemetry/demo --model model.yaml --json

--template-id, --param NAME=VALUE and --bind PARAM=FILE mean what they mean for create_run
(--template is kept as an alias of --template-id)."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--capture-dir",
            required=True,
            metavar="DIR",
            help="Capture directory (relative to the working directory), e.g. --capture-dir captures/demo.",
        )
        # Exactly one of --model / --template-id, checked in handle() so that both ways of calling the
        # command (command line and call_command) report it as a usage error, exit 2.
        parser.add_argument(
            "--model",
            type=Path,
            metavar="FILE",
            help="A model YAML file instead of a template: --model m.yaml.",
        )
        add_template_options(parser, required=False, legacy_alias="--template")
        parser.add_argument(
            "--provenance",
            type=Path,
            metavar="FILE",
            help="Provenance JSON written to model/provenance.json, e.g. --provenance prov.json.",
        )
        parser.add_argument(
            "--run-id", metavar="ID", help="Choose the run id, e.g. --run-id capture-2025-01-01."
        )
        parser.add_argument(
            "--overwrite", action="store_true", help="Replace an existing run with the same id atomically."
        )
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument(
            "--deterministic-run-id",
            dest="deterministic",
            action="store_true",
            help="Derive the id from the inputs: the same capture and parameters reuse one run.",
        )
        kind.add_argument(
            "--random-run-id",
            dest="deterministic",
            action="store_false",
            help="A fresh random id (the default).",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def _check_usage(self, options: dict[str, Any]) -> None:
        if options["model"] is not None and options["template_id"] is not None:
            raise CommandError("--model and --template-id cannot be combined", returncode=2)
        if options["model"] is None and options["template_id"] is None:
            raise CommandError("one of --model or --template-id is required", returncode=2)
        if options["template_id"] is None and (options["param"] or options["bind"]):
            raise CommandError("--param and --bind need --template-id", returncode=2)
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
            if options["template_id"] is not None:
                with stage_progress(
                    description="telemetry_bundle", stream=None if options["json"] else self.stderr
                ) as progress:
                    result = self._template_run(options, progress=progress)
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

    def _template_run(self, options: dict[str, Any], *, progress: Any = None) -> dict[str, Any]:
        from runs.orchestration import RunRequest, TelemetrySpec, create_run

        parameters = parse_parameters(options["param"])
        bindings = parse_bindings(options["bind"])
        extra: dict[str, Any] = {}
        if options["provenance"] is not None:
            from telemetry.bundle import read_provenance_file

            extra["provenance"] = read_provenance_file(options["provenance"])
        request = RunRequest(
            template_id=options["template_id"],
            mode="telemetry",
            parameters=parameters,
            telemetry=TelemetrySpec(capture_directory=options["capture_dir"], bindings=bindings),
            deterministic_run_id=bool(options["deterministic"]),
            run_id=options["run_id"],
            overwrite=bool(options["overwrite"]),
            capture_base=Path.cwd(),
            **extra,
        )
        outcome = create_run(request, progress=progress)
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
