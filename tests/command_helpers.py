"""Management commands called in-process with their output captured (``call_command``)."""

from __future__ import annotations

import io
from typing import NamedTuple

from django.core.management import call_command


class CommandResult(NamedTuple):
    code: int
    stdout: str
    stderr: str


def run_command(name: str, *args: str) -> CommandResult:
    """``call_command`` capturing output; ``code`` is the SystemExit code (0 when it returned)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return CommandResult(code, out.getvalue(), err.getvalue())
