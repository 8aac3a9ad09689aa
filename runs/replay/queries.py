"""Query-string parsing for the state endpoints (spec 06 §8): raises 400 ``invalid_parameter``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from runs.errors import InvalidParameter

_BIN = re.compile(r"-?[0-9]{1,9}")
STATE_MODES = ("operational", "full")
# Topology kinds that are model plumbing rather than operational components: left out of the
# ``operational`` node set of /state_window (06 §6) and /graph (07 §4).
NON_OPERATIONAL_KINDS = frozenset({"const", "expr", "pmf", "backlog"})


def parse_bin_query(params: Mapping[str, Sequence[str]], name: str) -> int:
    """The single integer query parameter ``name``; missing, repeated or not an integer → 400."""
    values = params.get(name)
    if values is None or len(values) != 1 or not _BIN.fullmatch(values[0]):
        raise InvalidParameter(name, f"{name} query parameter is required and must be an integer.")
    return int(values[0])


def parse_mode_query(params: Mapping[str, Sequence[str]], name: str = "mode") -> str:
    """``operational`` (the default) or ``full``, any case; anything else → 400 naming ``mode``."""
    values = params.get(name)
    if values is None or len(values) == 0:
        return "operational"
    mode = values[0].strip().lower() if len(values) == 1 else ""
    if mode not in STATE_MODES:
        raise InvalidParameter(name, f"{name} must be 'operational' or 'full'.")
    return mode


def check_bin_range(name: str, value: int, bins: int) -> None:
    """400 unless ``0 <= value <= bins - 1``."""
    if not 0 <= value <= bins - 1:
        raise InvalidParameter(name, f"{name} must be between 0 and {bins - 1}.")
