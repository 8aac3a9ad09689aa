"""numpy arrays to JSON-ready lists under the project number rule (integral → int, non-finite → None)."""

from __future__ import annotations

import numpy as np

from runs.replay.series_cache import FloatArray

JsonNumber = int | float | None

_INT_LIMIT = 1e16


def json_values(values: FloatArray) -> list[JsonNumber]:
    """``values`` as a list of ints, floats and ``None``; per-element fixes only where needed."""
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        integral = finite & (np.trunc(values) == values) & (np.abs(values) < _INT_LIMIT)
    if integral.all():
        as_ints: list[JsonNumber] = values.astype(np.int64).tolist()
        return as_ints
    out: list[JsonNumber] = values.tolist()
    for i in np.flatnonzero(~finite).tolist():
        out[i] = None
    for i in np.flatnonzero(integral).tolist():
        out[i] = int(values[i])
    return out


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
