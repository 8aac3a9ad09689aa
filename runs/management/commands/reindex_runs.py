"""``manage.py reindex_runs``: rebuild the run index from the run directories on disk."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from runs.command_options import ExampleHelpCommand, progress_bar, write_reindex_result
from runs.errors import FlowtimeError
from runs.services import runs_reindex


class Command(ExampleHelpCommand):
    help = """Rebuild Run rows from <data>/runs (idempotent). --prune drops rows whose directory is gone.

A progress bar is shown on a terminal; logs and pipes get only the summary.

examples:
  manage.py reindex_runs
  manage.py reindex_runs --prune --dry-run
  manage.py reindex_runs --prune --json"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prune", action="store_true", help="Remove rows whose directory is gone.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")
        parser.add_argument(
            "--json", action="store_true", help="Print the result as JSON (and no progress bar)."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Prune even when the data root holds no run at all (refused otherwise: a wrong or unmounted "
            "FLOWTIME_DATA_DIR would empty the index).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with progress_bar(
            total=None, description="reindex", stream=self.stderr if not options["json"] else None, unit="run"
        ) as bar:

            def progress(done: int, total: int) -> None:
                if bar is not None:
                    bar.total = total
                    bar.update(done - bar.n)

            try:
                result = runs_reindex(
                    prune=options["prune"],
                    dry_run=options["dry_run"],
                    force=options["force"],
                    progress=progress,
                )
            except FlowtimeError as exc:
                self.stderr.write(f"{exc.code}: {exc.detail}")
                raise SystemExit(1) from None
        write_reindex_result(
            self,
            result,
            noun="runs",
            id_key="runId",
            as_json=options["json"],
            prune=options["prune"],
            warn_skipped=True,
        )
