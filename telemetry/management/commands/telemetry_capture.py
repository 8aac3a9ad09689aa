"""``manage.py telemetry_capture``: a run directory → a capture directory (spec 04 §2, §4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from runs.errors import FlowtimeError
from runs.observability import command_logging
from runs.storage import data_root
from telemetry.capture import CaptureOptions, plan_capture, summary_lines
from telemetry.services import capture_publish


class Command(BaseCommand):
    help = "Capture a run's per-node metric series into a telemetry capture directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run-dir", required=True, help="The run directory to capture.")
        parser.add_argument(
            "--output",
            "--out",
            dest="output",
            default=None,
            help="Capture directory (default <data>/telemetry/<run dir name>); inside an allowed root.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Print the plan; write nothing.")
        parser.add_argument(
            "--gap-fill-nan", action="store_true", help="Write 0 for NaN/±∞ values (warning nan_fill)."
        )
        # One gap mode: the last of --gap-detect / --gap-fill-gaps given wins.
        parser.add_argument(
            "--gap-detect",
            dest="gap_mode",
            action="store_const",
            const="warn",
            default="ignore",
            help="Warn (data_gap) for each missing value.",
        )
        parser.add_argument(
            "--gap-fill-gaps",
            dest="gap_mode",
            action="store_const",
            const="fill_zero",
            help="Write 0 for each missing value (warning data_gap).",
        )
        parser.add_argument("--overwrite", action="store_true", help="Replace an existing capture.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        with command_logging(options["verbosity"]):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        try:
            plan = plan_capture(
                run_dir=Path(options["run_dir"]),
                data_root=data_root(),
                output_dir=options["output"],
                extra_roots=settings.FLOWTIME_TELEMETRY_ROOTS,
                options=CaptureOptions(gap_mode=options["gap_mode"], fill_nan=bool(options["gap_fill_nan"])),
                overwrite=bool(options["overwrite"]),
            )
            if not dry_run:
                capture_publish(plan, overwrite=bool(options["overwrite"]))
        except FlowtimeError as exc:
            self.stderr.write(f"{exc.code}: {exc.detail}")
            raise SystemExit(1) from exc
        except KeyboardInterrupt:
            # publish_capture removes its stage on the way out; nothing is left half-written.
            self.stderr.write("interrupted: nothing was published.")
            sys.exit(130)
        if options["json"]:
            body = {
                "isDryRun": dry_run,
                **plan.as_dict(),
                "manifestPath": None if dry_run else str(plan.manifest_path),
            }
            self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))
            return
        for line in summary_lines(plan, dry_run=dry_run):
            self.stdout.write(line)
