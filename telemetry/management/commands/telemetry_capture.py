"""``manage.py telemetry_capture``: a run directory → a capture directory (spec 04 §2, §4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from runs.artifacts import is_valid_run_id
from runs.command_options import ExampleHelpCommand, progress_bar
from runs.errors import FlowtimeError
from runs.observability import command_logging
from runs.storage import data_root, runs_root
from telemetry.capture import CaptureOptions, plan_capture, summary_lines
from telemetry.services import capture_publish


class Command(ExampleHelpCommand):
    help = """Capture a run's per-node metric series into a telemetry capture directory.

examples:
  manage.py telemetry_capture --run-dir run_order-system_72feff8e278346d9
  manage.py telemetry_capture --run-dir var/data/runs/run_order-system_72feff8e278346d9 --dry-run
  manage.py telemetry_capture --run-dir RUN_ID --output var/data/telemetry/demo --gap-detect --overwrite"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--run-dir",
            required=True,
            metavar="DIR_OR_ID",
            help="The run to capture: a run directory (var/data/runs/<runId>) or just a run id under "
            "the data root, e.g. --run-dir run_order-system_72feff8e278346d9.",
        )
        parser.add_argument(
            "--output",
            "--out",
            dest="output",
            default=None,
            metavar="DIR",
            help="Capture directory (default <data>/telemetry/<run id>), inside <data>/telemetry or a "
            "FLOWTIME_TELEMETRY_ROOTS entry, e.g. --output var/data/telemetry/demo.",
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

    def _run_dir(self, text: str) -> Path:
        """``--run-dir`` as given when it is a directory, else the run of that id under the data root."""
        given = Path(text)
        if given.is_dir():
            return given
        if is_valid_run_id(text) and (runs_root() / text).is_dir():
            return runs_root() / text
        self.stderr.write(
            f"run_not_found: '{text}' is neither a run directory nor the id of a run under the data root "
            "(FLOWTIME_DATA_DIR/runs). Pass a run directory path or a run id; GET /v1/runs or "
            "manage.py reindex_runs --dry-run lists the runs."
        )
        raise SystemExit(1)

    def _handle(self, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        run_dir = self._run_dir(options["run_dir"])
        try:
            with progress_bar(
                total=1 if dry_run else 2,
                description="telemetry_capture",
                stream=None if options["json"] else self.stderr,
                unit="step",
            ) as bar:
                plan = plan_capture(
                    run_dir=run_dir,
                    data_root=data_root(),
                    output_dir=options["output"],
                    extra_roots=settings.FLOWTIME_TELEMETRY_ROOTS,
                    options=CaptureOptions(
                        gap_mode=options["gap_mode"], fill_nan=bool(options["gap_fill_nan"])
                    ),
                    overwrite=bool(options["overwrite"]),
                )
                if bar is not None:
                    bar.update(1)
                if not dry_run:
                    capture_publish(plan, overwrite=bool(options["overwrite"]))
                    if bar is not None:
                        bar.update(1)
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
