"""Run ids and series ids (spec 03 §3.5, §5)."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from datetime import UTC, datetime

from runs.canonical import normalise_hash

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

_TEMPLATE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def is_valid_run_id(value: object) -> bool:
    """True when ``value`` is a string matching ``RUN_ID_PATTERN`` (so it cannot traverse paths)."""
    # fullmatch, not match: ``$`` would also accept a trailing newline.
    return isinstance(value, str) and RUN_ID_PATTERN.fullmatch(value) is not None


def deterministic_run_id(template_id: str, input_hash: str) -> str:
    """``run_<T>_<first 16 hex of the inputHash digest>``; T is the template id made id-safe, ≤ 100 chars."""
    digest = normalise_hash(input_hash)
    if digest is None:
        raise ValueError(f"'{input_hash}' is not a sha256 hash")
    safe = _TEMPLATE_ID_UNSAFE.sub("-", template_id)[:100]
    return f"run_{safe}_{digest.removeprefix('sha256:')[:16]}"


def _token_hex4() -> str:
    return secrets.token_hex(4)


def random_run_id(created_utc: datetime, token: Callable[[], str] = _token_hex4) -> str:
    """``run_<yyyyMMddTHHmmssZ>_<token>`` from the UTC creation second."""
    if created_utc.tzinfo is not None:
        created_utc = created_utc.astimezone(UTC)
    return f"run_{created_utc:%Y%m%dT%H%M%S}Z_{token()}"


def component_id_for(node_id: str) -> str:
    """NODEID: the node id with ASCII a–z upper-cased; ``str.upper`` would also change other letters."""
    return node_id.translate(_ASCII_UPPER)


def series_id_for(node_id: str) -> str:
    """``<nodeId>@<NODEID>@DEFAULT`` (spec 03 §3.5)."""
    return f"{node_id}@{component_id_for(node_id)}@DEFAULT"
