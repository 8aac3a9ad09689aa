"""Canonical text forms shared by every writer: numbers, timestamps, JSON, hashes (spec 03 §1, §4)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_PREFIXED = re.compile(r"^sha256:([0-9a-fA-F]{64})$", re.IGNORECASE)


def format_number(v: float | int) -> str:
    """The project's number text: ``NaN``/``Infinity``, ``0`` for ±0, integers without ``.0``."""
    if isinstance(v, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(v, int):
        return str(v)
    f = float(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    if f == 0.0:
        return "0"
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    return repr(f)


def json_number(v: float | int) -> float | int | None:
    """A number as the JSON writers emit it: integral floats as ints, non-finite as ``null``."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    f = float(v)
    if not math.isfinite(f):
        return None
    if f == 0.0:
        return 0
    if f.is_integer() and abs(f) < 1e16:
        return int(f)
    return f


def format_timestamp(dt: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC, with ``.ffffff`` only when the microseconds are non-zero."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    if dt.year < 1000:  # strftime writes such years unpadded; keep that spelling
        text = dt.strftime("%Y-%m-%dT%H:%M:%S")
        return text + (f".{dt.microsecond:06d}" if dt.microsecond else "") + "Z"
    # isoformat spells the same text (microseconds only when non-zero) at a third of strftime's cost,
    # which shows in a page of listed runs.
    return dt.isoformat() + "Z"


_TS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(text: str, *, utc_only: bool = False) -> datetime:
    """Parse ISO-8601 (``Z`` or an offset, 0–7 fraction digits; no zone = UTC) to an aware UTC datetime.

    With ``utc_only`` any offset other than ``Z``/``+00:00`` is rejected (grid and window starts).
    Raises ``ValueError`` with a readable message.
    """
    m = _TS.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not an ISO-8601 timestamp")
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    frac = (m.group(7) or "").ljust(7, "0")[:7]
    ticks = int(frac)  # 100 ns units
    zone = m.group(8)
    offset = timedelta(0)
    if zone and zone not in {"Z", "z"}:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if utc_only and offset != timedelta(0):
            raise ValueError(f"'{text}' must be in UTC (Z or +00:00)")
    base = datetime(year, month, day, hour, minute, second, ticks // 10, tzinfo=UTC)
    return base - offset


def utc_now_seconds() -> datetime:
    """The current instant truncated to whole seconds (createdUtc, capturedAtUtc)."""
    return datetime.now(UTC).replace(microsecond=0)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_prefixed(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def normalise_hash(value: object) -> str | None:
    """``sha256:<lower hex>`` for a bare or prefixed 64-hex hash, else ``None`` (unverifiable)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _HEX64.fullmatch(text):
        return "sha256:" + text.lower()
    m = _PREFIXED.fullmatch(text)
    if m:
        return "sha256:" + m.group(1).lower()
    return None


def _canonical_value(x: Any) -> Any:
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        return x
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError("canonical JSON cannot hold NaN or infinity")
        if x == 0.0:
            return 0
        if x.is_integer() and abs(x) < 1e16:
            return int(x)
        return x
    if isinstance(x, datetime):
        return format_timestamp(x if x.tzinfo else x.replace(tzinfo=UTC))
    if isinstance(x, date):
        return x.isoformat()
    if isinstance(x, Mapping):
        out = {}
        for k, v in x.items():
            if not isinstance(k, str):
                raise ValueError(f"canonical JSON keys must be strings, got {k!r}")
            out[k] = _canonical_value(v)
        return out
    if isinstance(x, list | tuple):
        return [_canonical_value(v) for v in x]
    raise ValueError(f"canonical JSON cannot hold {type(x).__name__}")


def canonical_json(x: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8; integral floats as ints; non-JSON values are errors."""
    return json.dumps(
        _canonical_value(x), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def json_ready(x: Any) -> Any:
    """A copy of ``x`` with every float written the project's way (``10`` not ``10.0``, NaN → null)."""
    if isinstance(x, float):
        return json_number(x)
    if isinstance(x, Mapping):
        return {str(k): json_ready(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_ready(v) for v in x]
    return x


def json_file_text(x: Any) -> str:
    """Artifact JSON: 2-space indent, non-ASCII kept, key order kept, project numbers, final LF."""
    return json.dumps(json_ready(x), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
