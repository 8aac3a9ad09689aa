"""Series CSV text (spec 03 §3.5), formatted in bulk but byte-identical to ``format_number``."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

_HEADER = "t,value\n"


def _format_scalar(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return repr(v)


def format_values(values: npt.ArrayLike) -> list[str]:
    """``format_number`` of every value, vectorised for the common integral case."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    with np.errstate(invalid="ignore"):
        integral = np.isfinite(arr) & (np.abs(arr) < 1e16) & (arr == np.trunc(arr))
    # Integral values (±0 included) go through int64 text in one step; only the rest need repr.
    if integral.all():
        return list(map(str, arr.astype(np.int64).tolist()))
    out = np.empty(arr.shape[0], dtype=object)
    out[integral] = list(map(str, arr[integral].astype(np.int64).tolist()))
    finite = np.isfinite(arr)
    # Finite fractions are repr's shortest round-trip text: ``map(repr, …)`` runs it without a Python
    # call per value (the bulk of a generated series); NaN and ±inf have their own spellings.
    fractional = finite & ~integral
    out[fractional] = list(map(repr, arr[fractional].tolist()))
    out[~finite] = [_format_scalar(v) for v in arr[~finite].tolist()]
    return out.tolist()


def series_csv_text(values: npt.ArrayLike, *, index_text: list[str] | None = None) -> str:
    """``t,value`` then ``i,format_number(v)`` per bin, LF line ends and a final LF.

    ``index_text`` (``str(i)`` for each bin) may be passed in to share it between the series of a run.
    """
    formatted = format_values(values)
    if index_text is None or len(index_text) != len(formatted):
        index_text = [str(i) for i in range(len(formatted))]
    return _HEADER + "".join([f"{i},{v}\n" for i, v in zip(index_text, formatted, strict=True)])


def series_csv_bytes(values: npt.ArrayLike) -> bytes:
    """The UTF-8 bytes of ``series_csv_text``; the series hash covers exactly these."""
    return series_csv_text(values).encode("utf-8")
