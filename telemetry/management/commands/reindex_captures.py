"""``manage.py reindex_captures``: rebuild the capture index from the capture directories on disk."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from runs.command_options import write_reindex_result
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
        write_reindex_result(
            self, result, noun="captures", id_key="captureId", as_json=options["json"], prune=options["prune"]
        )
