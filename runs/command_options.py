"""Options and output helpers shared by the management commands, so ``create_run`` and
``telemetry_bundle`` spell the same thing the same way (``--template-id``, ``--param NAME=VALUE``,
``--bind PARAM=FILE``) and long work shows a progress bar on a terminal only."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, DjangoHelpFormatter

if TYPE_CHECKING:
    from runs.services import ReindexResult

PARAM_HELP = (
    "A template parameter, repeatable. VALUE is read as JSON when it parses, else as a string: "
    "--param bins=6 --param orderErrorRate=0.1 --param 'orderArrivals=[10,14,18,12]' "
    "--param label=peak (arrays need quotes in most shells)."
)
TEMPLATE_ID_HELP = (
    "Catalog template id (see GET /v1/templates or the admin), e.g. --template-id order-system."
)
BIND_HELP = (
    "Bind a telemetry-bindable parameter to a file inside the capture directory, repeatable: "
    "--bind telemetryRequestsSource=LoadBalancer_arrivals.csv."
)


class ExampleHelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's option order, with the description (and its examples) printed as written."""


def use_example_formatter(parser: CommandParser) -> CommandParser:
    parser.formatter_class = ExampleHelpFormatter
    return parser


class ExampleHelpCommand(BaseCommand):
    """A command whose ``help`` (and the examples in it) is printed as written."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        return use_example_formatter(super().create_parser(prog_name, subcommand, **kwargs))


def add_template_options(parser: CommandParser, *, required: bool, legacy_alias: str | None = None) -> None:
    """``--template-id`` (plus an older spelling kept as an alias), ``--param`` and ``--bind``."""
    names = ["--template-id"] + ([legacy_alias] if legacy_alias else [])
    parser.add_argument(*names, dest="template_id", required=required, metavar="ID", help=TEMPLATE_ID_HELP)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help=PARAM_HELP)
    parser.add_argument("--bind", action="append", default=[], metavar="PARAM=FILE", help=BIND_HELP)


def parse_assignment(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise CommandError(
            f"{option} expects NAME=VALUE (for example {option} bins=6), got '{text}'", returncode=2
        )
    return name.strip(), value


def parse_param_value(raw: str) -> Any:
    """``--param`` values are JSON when they parse as JSON, else plain strings."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_parameters(items: list[str]) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    for item in items:
        name, raw = parse_assignment(item, "--param")
        parameters[name] = parse_param_value(raw)
    return parameters


def parse_bindings(items: list[str]) -> dict[str, str]:
    return dict(parse_assignment(item, "--bind") for item in items)


def is_terminal(stream: Any) -> bool:
    """True when ``stream`` (a Django OutputWrapper or a file) is an interactive terminal."""
    target = getattr(stream, "_out", stream)
    isatty = getattr(target, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress_bar(*, total: int | None, description: str, stream: Any, unit: str = "item") -> Iterator[Any]:
    """A tqdm bar on ``stream`` when it is a terminal; ``None`` otherwise, so logs and pipes stay quiet."""
    if not is_terminal(stream):
        yield None
        return
    from tqdm import tqdm

    target = getattr(stream, "_out", stream)
    with tqdm(total=total, desc=description, unit=unit, file=target, leave=True, dynamic_ncols=True) as bar:
        yield bar


@contextmanager
def stage_progress(*, description: str, stream: Any) -> Iterator[Callable[[str, str], None] | None]:
    """A ``create_run`` progress sink advancing a bar one step per orchestration stage on ``stream``
    when it is a terminal; ``None`` otherwise (a pipe, a log, ``--json`` passing ``stream=None``)."""
    from runs.orchestration import STAGES

    with progress_bar(total=len(STAGES), description=description, stream=stream, unit="stage") as bar:
        if bar is None:
            yield None
            return

        def report(stage: str, detail: str) -> None:
            if stage in STAGES:
                bar.update(STAGES.index(stage) + 1 - bar.n)
            bar.set_postfix_str(f"{stage}: {detail}"[:60], refresh=True)

        yield report


def write_reindex_result(
    command: BaseCommand,
    result: ReindexResult,
    *,
    noun: str,
    id_key: str,
    as_json: bool,
    prune: bool,
    warn_skipped: bool = False,
) -> None:
    """The report of ``reindex_runs`` and ``reindex_captures``: a JSON body, or a summary of ``noun``
    (``runs``, ``captures``) with one line per skipped directory (and a stderr warning if asked)."""
    if as_json:
        body = {
            "indexed": result.indexed,
            "pruned": result.pruned,
            "skipped": [{id_key: name, "reason": why} for name, why in result.skipped],
            "staleStagingRemoved": result.stale_staging_removed,
            "dryRun": result.dry_run,
        }
        command.stdout.write(json.dumps(body, indent=2))
        return
    prefix = "Would index" if result.dry_run else "Indexed"
    command.stdout.write(f"{prefix} {result.indexed} {noun}.")
    if prune:
        command.stdout.write(f"{'Would prune' if result.dry_run else 'Pruned'} {result.pruned} rows.")
    for name, why in result.skipped:
        command.stdout.write(f"Skipped {name}: {why}")
        if warn_skipped:
            command.stderr.write(f"warning: skipped {name}: {why}")
