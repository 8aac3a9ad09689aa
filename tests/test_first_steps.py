"""The README's first steps work as written on a fresh `make run`.

`make run` makes a demo run before serving; the README's first POST must still answer 201 (a new
run), not 200 ``wasReused`` because the demo already made the very same run.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent.parent


def demo_command_arguments() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^demo:.*\n\t\$\(BIN\)/python manage\.py create_run (.+)$", makefile, re.MULTILINE)
    assert match, "the Makefile's demo target no longer runs create_run"
    return shlex.split(match.group(1))


def readme_first_post_body() -> dict[str, object]:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"-X POST \S+/v1/runs .*?-d '(\{.*?\})'", readme, re.DOTALL)
    assert match, "the README no longer shows a POST /v1/runs example"
    body: dict[str, object] = json.loads(match.group(1))
    return body


@pytest.mark.django_db(transaction=True)
def test_the_readme_first_post_makes_a_new_run_after_the_demo(settings: object) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True  # type: ignore[attr-defined]  # as `make run` serves
    call_command("sync_templates", verbosity=0)
    call_command("create_run", *demo_command_arguments(), verbosity=0, stdout=io.StringIO())

    response = APIClient().post("/v1/runs", readme_first_post_body(), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["wasReused"] is False
