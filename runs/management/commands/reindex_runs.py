"""``manage.py reindex_runs``: rebuild the run index from the run directories on disk."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from runs.errors import FlowtimeError
from runs.services import runs_reindex


class Command(BaseCommand):
    help = "Rebuild Run rows from <data>/runs (idempotent). --prune drops rows whose directory is gone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prune", action="store_true", help="remove rows whose directory is gone")
        parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
        parser.add_argument(
            "--force", action="store_true", help="prune even when the data root holds no run at all"
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        show_bar = sys.stderr.isatty() and not options["json"]

        def progress(done: int, total: int) -> None:
            if not show_bar or (done % 200 and done != total):
                return
            width = 30
            filled = int(width * done / total) if total else width
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()

        try:
            result = runs_reindex(
                prune=options["prune"], dry_run=options["dry_run"], force=options["force"], progress=progress
            )
        except FlowtimeError as exc:
            self.stderr.write(f"{exc.code}: {exc.detail}")
            raise SystemExit(1) from None
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "indexed": result.indexed,
                        "pruned": result.pruned,
                        "skipped": [{"runId": name, "reason": why} for name, why in result.skipped],
                        "staleStagingRemoved": result.stale_staging_removed,
                        "dryRun": result.dry_run,
                    },
                    indent=2,
                )
            )
            return
        prefix = "Would index" if result.dry_run else "Indexed"
        self.stdout.write(f"{prefix} {result.indexed} runs.")
        if options["prune"]:
            self.stdout.write(f"{'Would prune' if result.dry_run else 'Pruned'} {result.pruned} rows.")
        for name, why in result.skipped:
            self.stdout.write(f"Skipped {name}: {why}")
            self.stderr.write(f"warning: skipped {name}: {why}")
