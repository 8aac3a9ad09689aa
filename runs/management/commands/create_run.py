"""``manage.py create_run``: a thin shell over the orchestration service (spec 05 §10)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.errors import FlowtimeError
from runs.observability import command_logging
from runs.orchestration import CancelToken, RunRequest, TelemetrySpec, create_run, plan_run
from runs.serializers import dry_run_body, run_response_body


def parse_assignment(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise CommandError(f"{option} expects NAME=VALUE, got '{text}'", returncode=2)
    return name.strip(), value


def parse_param_value(raw: str) -> Any:
    """``--param`` values are JSON when they parse as JSON, else plain strings."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class Command(BaseCommand):
    help = "Create a run from a catalog template (the same service as POST /v1/runs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--template-id", required=True)
        parser.add_argument("--mode", choices=["simulation", "telemetry"], type=str.lower)
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
        parser.add_argument("--param-file", type=Path, help="JSON object of parameter values")
        parser.add_argument("--capture-dir", help="capture directory (relative to the working directory)")
        parser.add_argument("--bind", action="append", default=[], metavar="PARAM=FILE")
        parser.add_argument("--deterministic-run-id", action="store_true")
        parser.add_argument("--run-id")
        parser.add_argument("--overwrite", action="store_true")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--json", action="store_true", help="print exactly the API response body")

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
        for item in options["param"]:
            name, raw = parse_assignment(item, "--param")
            parameters[name] = parse_param_value(raw)
        bindings = dict(parse_assignment(item, "--bind") for item in options["bind"])
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

    def _progress(self, stage: str, detail: str) -> None:
        self.stderr.write(f"[{stage}] {detail}")

    def handle(self, *args: Any, **options: Any) -> None:
        with command_logging(options["verbosity"]):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        request = self._build_request(options)
        show_progress = sys.stderr.isatty() and not options["json"]
        progress = self._progress if show_progress else None
        try:
            if request.dry_run:
                plan = plan_run(request, progress=progress)
                body = dry_run_body(plan)
                if options["json"]:
                    self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))
                else:
                    self.stdout.write(
                        f"Dry run: would create {body['plan']['predictedRunId'] or '(random id)'}"
                    )
                    self.stdout.write(f"Operations: {', '.join(body['plan']['operations'])}")
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
            self.stderr.write(f"{exc.code}: {exc.detail}")
            for issue in exc.errors:
                item = issue.as_error_item()
                self.stderr.write(f"  - {item['field']}: {item['code']}: {item['message']}")
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
