"""``manage.py sync_templates [--json]``: index the catalog directory (a shell over templates_sync)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from runs.command_options import ExampleHelpCommand
from templates_catalog.services import templates_sync


class Command(ExampleHelpCommand):
    help = """Index the template catalog: valid templates are upserted, vanished or broken ones removed.

examples:
  manage.py sync_templates
  manage.py sync_templates --directory templates_catalog/catalog --json"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument(
            "--directory",
            type=Path,
            default=None,
            metavar="DIR",
            help="Catalog directory (default: FLOWTIME_TEMPLATES_DIR), e.g. --directory my-catalog.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = templates_sync(directory=options["directory"])
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        else:
            for label, ids in (
                ("added", result.added),
                ("updated", result.updated),
                ("unchanged", result.unchanged),
                ("removed", result.removed),
            ):
                for template_id in ids:
                    self.stdout.write(f"{label}: {template_id}")
            for problem in result.problems:
                for line in problem.lines():
                    self.stderr.write(line)
        if result.problems:
            count = len(result.problems)
            raise CommandError(
                f"template_invalid: {count} template file{'s are' if count > 1 else ' is'} broken."
            )
