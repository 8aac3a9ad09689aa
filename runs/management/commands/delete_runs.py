"""``manage.py delete_runs``: retention. Deletes runs (directory and index row) chosen by filters."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from runs.errors import RunNotFound
from runs.models import Run
from runs.orchestration import delete_run

_AGE = re.compile(r"^([0-9]{1,6})([dhm])$")
_UNIT = {"d": "days", "h": "hours", "m": "minutes"}


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m`` → a timedelta; anything else is a usage error."""
    match = _AGE.fullmatch(text.strip())
    if match is None:
        raise CommandError(f"--older-than must look like 30d, 12h or 90m, got '{text}'.", returncode=2)
    return timedelta(**{_UNIT[match[2]]: int(match[1])})


class Command(BaseCommand):
    help = "Delete runs matching every given filter (at least one). --dry-run lists them and deletes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", help="created more than this long ago: 30d, 12h, 90m")
        parser.add_argument("--template-id", help="exact template id, case-insensitive")
        parser.add_argument("--mode", choices=["simulation", "telemetry"])
        parser.add_argument("--dry-run", action="store_true", help="print what would be deleted")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = Run.objects.all()
        if options["older_than"]:
            rows = rows.filter(created_utc__lt=timezone.now() - parse_age(options["older_than"]))
        if options["template_id"]:
            rows = rows.filter(template_key=options["template_id"].lower())
        if options["mode"]:
            rows = rows.filter(mode=options["mode"])
        if not (options["older_than"] or options["template_id"] or options["mode"]):
            raise CommandError("Give at least one of --older-than, --template-id, --mode.", returncode=2)
        # The index chooses; the run store deletes. A run without a row is indexed by reindex_runs first.
        run_ids = list(rows.order_by("created_utc", "run_id").values_list("run_id", flat=True))
        deleted: list[str] = []
        if not options["dry_run"]:
            for run_id in run_ids:
                try:
                    delete_run(run_id=run_id)
                    deleted.append(run_id)
                except RunNotFound:
                    pass  # gone meanwhile
        if options["json"]:
            body = {"dryRun": options["dry_run"], "matched": run_ids, "deleted": deleted}
            self.stdout.write(json.dumps(body, indent=2))
            return
        for run_id in run_ids:
            self.stdout.write(f"{'Would delete' if options['dry_run'] else 'Deleted'}: {run_id}")
        total = len(run_ids) if options["dry_run"] else len(deleted)
        self.stdout.write(f"{'Would delete' if options['dry_run'] else 'Deleted'} {total} runs.")
