"""``manage.py create_token <username> [--create-user]``: a write token for the API in one step."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from rest_framework.authtoken.models import Token

from runs.command_options import ExampleHelpCommand


class Command(ExampleHelpCommand):
    help = """Print the API token of a user (made if missing), for `Authorization: Token <key>`.

examples:
  manage.py create_token alice --create-user
  manage.py create_token alice
  curl -H "Authorization: Token $(manage.py create_token alice)" -H "Content-Type: application/json" \\
      -d '{"templateId": "order-system"}' http://127.0.0.1:8000/v1/runs"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The user the token belongs to, e.g. alice.")
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="Make the user (no password, no admin access) when it does not exist yet.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Replace an existing token with a new one (the old stops working).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        username = options["username"]
        try:
            user = users.objects.get_by_natural_key(username)
        except users.DoesNotExist:
            if not options["create_user"]:
                raise CommandError(
                    f"not_found: no user '{username}'. Add --create-user to make one: "
                    f"manage.py create_token {username} --create-user"
                ) from None
            user = users.objects.create_user(username=username)
            self.stderr.write(f"Created user '{username}' (no password, no admin access).")
        if options["reset"]:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
