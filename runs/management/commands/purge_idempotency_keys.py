"""``manage.py purge_idempotency_keys``: delete stored Idempotency-Key answers older than 24 hours."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from runs.idempotency import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key answers of POST /v1/runs older than 24 hours."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted")

    def handle(self, *args: Any, **options: Any) -> None:
        count = idempotency_keys_purge(dry_run=options["dry_run"])
        verb = "Would purge" if options["dry_run"] else "Purged"
        self.stdout.write(f"{verb} {count} expired idempotency keys.")
