"""Whole-run series rendered once as JSON, so that any window of them is one slice of bytes.

Scrubbing asks for a different window on every request. Converting ~140k numbers to JSON-ready
Python objects and encoding them again per request cost ~15 ms of a 500-bin × 50-node window. A
``RenderedSeries`` keeps the whole run's values of one series (a metric, a derived metric, a flow
volume, the bin timestamps), encoded once by orjson under the project number rule, with the byte
offset of every element: a window is ``text[offsets]`` wrapped in brackets, byte-identical to
encoding the window's own values (JSON array elements do not depend on their neighbours).

Entries are keyed by what they are computed from (file identities from the series cache, the grid,
an edge fraction), never by a request or a window: nothing here is a finished body.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from runs.canonical import format_timestamp
from runs.replay.numbers import JsonNumber, json_scalar, json_values
from runs.replay.series_cache import FloatArray, SizedCache

IntArray = npt.NDArray[np.int64]

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
# A Python object header per entry besides its arrays and text; keeps tiny entries from being free.
_ENTRY_OVERHEAD = 256


@dataclass(frozen=True, eq=False)
class RenderedSeries:
    """One whole-run series: its numbers (``None`` for a text series) and their JSON text, where
    element ``i`` is ``text[edges[i] + 1 : edges[i + 1]]``."""

    values: FloatArray | None
    text: bytes
    edges: IntArray

    @property
    def nbytes(self) -> int:
        size = len(self.text) + self.edges.nbytes + _ENTRY_OVERHEAD
        return size + (0 if self.values is None else self.values.nbytes)

    def window(self, start: int, stop: int) -> orjson.Fragment:
        """Elements ``start`` (inclusive) to ``stop`` (exclusive) as a JSON array, ready for orjson."""
        edges = self.edges
        return orjson.Fragment(b"[" + self.text[edges[start] + 1 : edges[stop]] + b"]")

    def at(self, index: int) -> JsonNumber:
        """Element ``index`` under the number rule (numeric series only)."""
        return json_scalar(self.values, index)


@dataclass(frozen=True, eq=False)
class NodeRendering:
    """Every series a ``/state_window`` node carries, in contract order, rendered over the whole run."""

    parts: Mapping[str, RenderedSeries]  # read-only: shared by every request that reads the node

    @property
    def nbytes(self) -> int:
        return sum(part.nbytes for part in self.parts.values()) + _ENTRY_OVERHEAD


def _rendered(values: FloatArray | None, items: list[Any]) -> RenderedSeries:
    text = orjson.dumps(items)
    # Numbers, null and our timestamps hold no comma, so the commas are exactly the separators.
    commas = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == ord(","))
    if len(commas) != max(len(items) - 1, 0):
        raise ValueError("a rendered series element holds a comma")
    edges = np.concatenate(([0], commas, [len(text) - 1])).astype(np.int64)
    edges.setflags(write=False)
    if values is not None:
        values.setflags(write=False)
    return RenderedSeries(values, text, edges)


def render_values(values: FloatArray) -> RenderedSeries:
    return _rendered(values, json_values(values))


# Bounded by FLOWTIME_RENDERED_SERIES_CACHE_MAX_BYTES, applied at start-up (RunsConfig.ready).
RENDERED_CACHE: SizedCache[RenderedSeries | NodeRendering] = SizedCache(
    DEFAULT_MAX_BYTES, lambda entry: entry.nbytes
)


def configure_rendered_cache(*, max_bytes: int) -> None:
    """Set the bound (bytes held) of the process-wide rendered-series cache."""
    RENDERED_CACHE.configure(max_bytes)


def rendered(key: Hashable, compute: Callable[[], FloatArray]) -> RenderedSeries:
    """The rendering of ``compute()``, cached under ``key`` (which names every input it reads)."""
    found = RENDERED_CACHE.get(key)
    if isinstance(found, RenderedSeries):
        return found
    made = render_values(compute())
    RENDERED_CACHE.put(key, made)
    return made


def rendered_node(key: Hashable, compute: Callable[[], dict[str, FloatArray]]) -> NodeRendering:
    """The renderings of every array ``compute()`` returns, cached together under ``key``."""
    found = RENDERED_CACHE.get(key)
    if isinstance(found, NodeRendering):
        return found
    parts = {name: render_values(values) for name, values in compute().items()}
    made = NodeRendering(MappingProxyType(parts))
    RENDERED_CACHE.put(key, made)
    return made


def rendered_timestamps(start: datetime, bin_minutes: int, bins: int) -> RenderedSeries:
    """Every bin's start time as ``timestampsUtc`` text, cached per grid."""
    key = ("timestamps", start, bin_minutes, bins)
    found = RENDERED_CACHE.get(key)
    if isinstance(found, RenderedSeries):
        return found
    step = timedelta(minutes=bin_minutes)
    made = _rendered(None, [format_timestamp(start + i * step) for i in range(bins)])
    RENDERED_CACHE.put(key, made)
    return made
