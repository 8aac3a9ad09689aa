"""``manage.py reindex_captures``: rebuild the capture index from the capture directories on disk."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from telemetry.services import captures_reindex


class Command(BaseCommand):
    help = (
        "Rebuild Capture rows from <data>/telemetry (idempotent). --prune drops rows whose directory is gone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prune", action="store_true", help="remove rows whose directory is gone")
        parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        result = captures_reindex(prune=options["prune"], dry_run=options["dry_run"])
        if options["json"]:
            body = {
                "indexed": result.indexed,
                "pruned": result.pruned,
                "skipped": [{"captureId": name, "reason": why} for name, why in result.skipped],
                "staleStagingRemoved": result.stale_staging_removed,
                "dryRun": result.dry_run,
            }
            self.stdout.write(json.dumps(body, indent=2))
            return
        prefix = "Would index" if result.dry_run else "Indexed"
        self.stdout.write(f"{prefix} {result.indexed} captures.")
        if options["prune"]:
            self.stdout.write(f"{'Would prune' if result.dry_run else 'Pruned'} {result.pruned} rows.")
        for name, why in result.skipped:
            self.stdout.write(f"Skipped {name}: {why}")
