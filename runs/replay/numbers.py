"""numpy arrays to JSON-ready lists under the project number rule (integral → int, non-finite → None)."""

from __future__ import annotations

import numpy as np

from runs.replay.series_cache import FloatArray

JsonNumber = int | float | None

_INT_LIMIT = 1e16


def json_values(values: FloatArray) -> list[JsonNumber]:
    """``values`` as a list of ints, floats and ``None``, built in C rather than per element in Python
    (a 500-bin × 50-node window converts ~300 of these per request)."""
    finite = np.isfinite(values)
    integral = finite & (np.trunc(values) == values) & (np.abs(values) < _INT_LIMIT)
    if integral.all():
        as_ints: list[JsonNumber] = values.astype(np.int64).tolist()
        return as_ints
    out = values.astype(object)  # Python floats
    if integral.any():
        out[integral] = values[integral].astype(np.int64).astype(object)  # Python ints
    if not finite.all():
        out[~finite] = None
    result: list[JsonNumber] = out.tolist()
    return result


def json_scalar(values: FloatArray | None, position: int) -> JsonNumber:
    """One element of ``values`` under the number rule; ``None`` when there is no array."""
    if values is None:
        return None
    value = float(values[position])
    if not np.isfinite(value):
        return None
    if value.is_integer() and abs(value) < _INT_LIMIT:
        return int(value)
    return value
