"""``manage.py create_run``: a thin shell over the orchestration service (spec 05 §10)."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import CommandError, CommandParser

from runs.command_options import (
    ExampleHelpCommand,
    add_template_options,
    parse_bindings,
    parse_parameters,
    stage_progress,
)
from runs.errors import FlowtimeError, error_lines
from runs.observability import command_logging
from runs.orchestration import CancelToken, RunRequest, TelemetrySpec, create_run, plan_run
from runs.serializers import dry_run_body, plan_body, run_response_body


class Command(ExampleHelpCommand):
    help = """Create a run from a catalog template (the same service as POST /v1/runs).

examples:
  manage.py create_run --template-id order-system --deterministic-run-id
  manage.py create_run --template-id order-system --param orderErrorRate=0.1 \\
      --param 'orderArrivals=[10,14,18,12]' --seed 42 --json
  manage.py create_run --template-id it-system-microservices --capture-dir var/data/telemetry/demo \\
      --bind telemetryRequestsSource=LoadBalancer_arrivals.csv --dry-run"""

    def add_arguments(self, parser: CommandParser) -> None:
        add_template_options(parser, required=True)
        parser.add_argument(
            "--mode",
            choices=["simulation", "telemetry"],
            type=str.lower,
            help="simulation or telemetry; default telemetry with --capture-dir, else simulation.",
        )
        parser.add_argument(
            "--param-file",
            type=Path,
            metavar="FILE",
            help='JSON object of parameter values, e.g. --param-file params.json holding {"bins": 6}; '
            "--param wins over it.",
        )
        parser.add_argument(
            "--capture-dir",
            metavar="DIR",
            help="Telemetry capture directory, relative to the working directory or absolute inside "
            "FLOWTIME_TELEMETRY_ROOTS, e.g. --capture-dir var/data/telemetry/demo.",
        )
        parser.add_argument(
            "--deterministic-run-id",
            action="store_true",
            help="Derive the id from the inputs (run_<template>_<hash>): the same inputs reuse one run.",
        )
        parser.add_argument(
            "--run-id",
            metavar="ID",
            help="Choose the run id, e.g. --run-id nightly-2025-01-01 (^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$).",
        )
        parser.add_argument(
            "--overwrite", action="store_true", help="Replace an existing run with the same id atomically."
        )
        parser.add_argument(
            "--seed",
            type=int,
            metavar="N",
            help="RNG seed, an integer ≥ 0, e.g. --seed 42 (default: the model's).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate and print the plan (predicted id); write nothing.",
        )
        parser.add_argument("--json", action="store_true", help="Print exactly the API response body.")

    def _build_request(self, options: dict[str, Any]) -> RunRequest:
        if options["run_id"] is not None and options["deterministic_run_id"]:
            raise CommandError("--run-id cannot be combined with --deterministic-run-id", returncode=2)
        from runs.artifacts import is_valid_run_id

        if options["run_id"] is not None and not is_valid_run_id(options["run_id"]):
            raise CommandError("--run-id must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", returncode=2)
        if options["seed"] is not None and options["seed"] < 0:
            raise CommandError("--seed must be ≥ 0", returncode=2)
        parameters: dict[str, Any] = {}
        if options["param_file"] is not None:
            try:
                loaded = json.loads(options["param_file"].read_text(encoding="utf-8-sig"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"--param-file could not be read as JSON: {exc}", returncode=2) from exc
            if not isinstance(loaded, dict):
                raise CommandError("--param-file must hold a JSON object", returncode=2)
            parameters.update(loaded)
        parameters.update(parse_parameters(options["param"]))
        bindings = parse_bindings(options["bind"])
        telemetry = None
        if options["capture_dir"] is not None:
            telemetry = TelemetrySpec(capture_directory=options["capture_dir"], bindings=bindings)
        elif bindings:
            raise CommandError("--bind needs --capture-dir", returncode=2)
        return RunRequest(
            template_id=options["template_id"],
            mode=options["mode"],
            parameters=parameters,
            telemetry=telemetry,
            deterministic_run_id=options["deterministic_run_id"],
            run_id=options["run_id"],
            overwrite=options["overwrite"],
            seed=options["seed"],
            dry_run=options["dry_run"],
            capture_base=Path.cwd(),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with command_logging(options["verbosity"]):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        request = self._build_request(options)
        # A bar over the orchestration stages on a terminal; nothing on a pipe, a log or with --json.
        with stage_progress(
            description="create_run", stream=None if options["json"] else self.stderr
        ) as progress:
            self._run(request, options, progress)

    def _run(self, request: RunRequest, options: dict[str, Any], progress: Any) -> None:
        try:
            if request.dry_run:
                plan = plan_run(request, progress=progress)
                if options["json"]:
                    self.stdout.write(json.dumps(dry_run_body(plan), indent=2, ensure_ascii=False))
                else:
                    planned = plan_body(plan)
                    self.stdout.write(f"Dry run: would create {planned['predictedRunId'] or '(random id)'}")
                    self.stdout.write(f"Operations: {', '.join(planned['operations'])}")
                return
            cancel = CancelToken()
            previous = signal.getsignal(signal.SIGINT)

            def on_interrupt(signum: int, frame: FrameType | None) -> None:
                cancel.cancel()

            in_main_thread = _in_main_thread()
            if in_main_thread:
                signal.signal(signal.SIGINT, on_interrupt)
            try:
                outcome = create_run(request, cancel=cancel, progress=progress)
            finally:
                if in_main_thread:
                    signal.signal(signal.SIGINT, previous)
        except FlowtimeError as exc:
            for line in error_lines(exc):
                self.stderr.write(line)
            raise SystemExit(130 if exc.code == "run_cancelled" else 1) from None
        body = outcome.body or run_response_body(outcome.run_id, was_reused=outcome.was_reused)
        if options["json"]:
            self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))
        else:
            verb = "Run exists" if outcome.was_reused else "Run created"
            suffix = " (reused)" if outcome.was_reused else ""
            self.stdout.write(f"{verb}: {outcome.run_id}{suffix}")
            self.stdout.write(f"Directory: runs/{outcome.run_id}")
            self.stdout.write(f"Mode: {outcome.mode}")
            self.stdout.write(f"Template: {outcome.template_id}")
            self.stdout.write(f"Input hash: {outcome.input_hash}")


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
