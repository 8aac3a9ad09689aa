"""Parsed series CSVs and small run documents, cached per process by file identity (spec 06 §11).

A cache key is ``(real path, st_dev, st_ino, st_size, st_mtime_ns)`` taken with ``fstat`` on the very
descriptor the bytes are read from, so a key always describes the bytes stored under it. Publishing a
run renames a new directory into place: its files have new inodes, so requests after the rename miss
the cache and read the new files; entries of the old run simply age out of the LRU.
"""

from __future__ import annotations

import math
import os
import re
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from runs.artifacts.document_cache import FileIdentity, clear_document_cache, file_identity, read_all

FloatArray = npt.NDArray[np.float64]

DEFAULT_MAX_VALUES = 50_000_000
# A series CSV needs a few dozen bytes per row; anything far larger is not a series of this run and
# is refused before it is read into memory.
_CSV_BYTES_PER_ROW = 256
_CSV_SLACK_BYTES = 64 * 1024

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)

_INDEX = re.compile(r"[0-9]{1,12}")
_NUMBER = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)",
    re.IGNORECASE,
)
_HEADER_INDEX_NAMES = frozenset({"bin_index", "t"})


@dataclass(frozen=True)
class ParsedSeries:
    """One CSV read against a grid: ``values`` is read-only float64 (NaN = no finite value)."""

    values: FloatArray
    malformed: bool
    valid: bool


def _malformed(bins: int) -> ParsedSeries:
    values = np.full(bins, np.nan)
    values.setflags(write=False)
    return ParsedSeries(values, malformed=True, valid=False)


# The exact shape our writers produce (spec 03 §3.5, spec 04 §2.3): rows in order, LF, canonical
# numbers or an empty gap. Checked by one regex over the whole body, then converted in C.
_CANONICAL_ROWS = re.compile(
    r"(?:[0-9]{1,12},(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|Infinity|-Infinity)?\n)*"
)


def _parse_canonical(text: str, bins: int) -> ParsedSeries | None:
    """The fast path for files in canonical form; ``None`` sends anything else to the full parser."""
    header, _, body = text.partition("\n")
    if header not in ("t,value", "bin_index,value") or not _CANONICAL_ROWS.fullmatch(body):
        return None
    cells = body.replace("\n", ",").split(",")[:-1]
    if len(cells) != 2 * bins or cells[0::2] != [str(i) for i in range(bins)]:
        return None
    texts = cells[1::2]
    if "" in texts:
        texts = [value or "nan" for value in texts]
    array = np.array(texts, dtype=np.float64)
    array.setflags(write=False)
    return ParsedSeries(array, malformed=False, valid=bool(np.isfinite(array).all()))


def parse_series_csv(data: bytes, bins: int) -> ParsedSeries:
    """Parse a series CSV (spec 06 §3): bad files give all-NaN ``malformed`` series, never an error."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _malformed(bins)
    fast = _parse_canonical(text, bins)
    if fast is not None:
        return fast
    values = [math.nan] * bins
    seen = bytearray(bins)
    header_seen = False
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        row = line.strip()
        if not row:
            continue
        first, sep, rest = row.partition(",")
        if not sep or "," in rest:
            return _malformed(bins)
        if not header_seen:
            if first.strip().lower() not in _HEADER_INDEX_NAMES or rest.strip().lower() != "value":
                return _malformed(bins)
            header_seen = True
            continue
        index_text = first.strip()
        if not _INDEX.fullmatch(index_text):
            return _malformed(bins)
        index = int(index_text)
        if index >= bins or seen[index]:
            return _malformed(bins)
        seen[index] = 1
        value_text = rest.strip()
        if not value_text:
            continue
        if not _NUMBER.fullmatch(value_text):
            return _malformed(bins)
        values[index] = float(value_text)
    if not header_seen:
        return _malformed(bins)
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return ParsedSeries(array, malformed=False, valid=bool(np.isfinite(array).all()))


class SeriesCache:
    """A thread-safe LRU of parsed series, bounded by the total number of float values held."""

    def __init__(self, max_values: int = DEFAULT_MAX_VALUES) -> None:
        self._max_values = max_values
        self._entries: OrderedDict[tuple[FileIdentity, int], ParsedSeries] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()
        self.parses = 0

    @property
    def max_values(self) -> int:
        return self._max_values

    @property
    def total_values(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._entries)

    def configure(self, max_values: int) -> None:
        with self._lock:
            self._max_values = max(0, max_values)
            self._evict()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0

    def get(self, key: tuple[FileIdentity, int]) -> ParsedSeries | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[FileIdentity, int], series: ParsedSeries) -> None:
        size = int(series.values.size)
        with self._lock:
            self.parses += 1
            if size > self._max_values:
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._total -= int(old.values.size)
            self._entries[key] = series
            self._total += size
            self._evict()

    def _evict(self) -> None:
        while self._total > self._max_values and self._entries:
            _key, evicted = self._entries.popitem(last=False)
            self._total -= int(evicted.values.size)


# Bounded by FLOWTIME_SERIES_CACHE_MAX_VALUES, applied at start-up (RunsConfig.ready).
SERIES_CACHE = SeriesCache(DEFAULT_MAX_VALUES)


def configure_series_cache(*, max_values: int) -> None:
    """Set the bound (total float values held) of the process-wide series cache."""
    SERIES_CACHE.configure(max_values)


def read_series(real_path: str, bins: int) -> ParsedSeries:
    """The parsed CSV at ``real_path`` (already resolved and confined by the caller), cached by identity.

    A file that cannot be opened or read, is not a regular file, or is far too large for the grid
    is reported as a malformed series rather than raised.
    """
    try:
        fd = os.open(real_path, _OPEN_FLAGS)
    except OSError:
        return _malformed(bins)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return _malformed(bins)
        key = (file_identity(real_path, st), bins)
        cached = SERIES_CACHE.get(key)
        if cached is not None:
            return cached
        if st.st_size > bins * _CSV_BYTES_PER_ROW + _CSV_SLACK_BYTES:
            parsed = _malformed(bins)
        else:
            parsed = parse_series_csv(read_all(fd, st.st_size), bins)
        SERIES_CACHE.put(key, parsed)
        return parsed
    except OSError:
        return _malformed(bins)
    finally:
        os.close(fd)


def clear_caches() -> None:
    """Forget every cached series and document (tests; memory pressure)."""
    SERIES_CACHE.clear()
    clear_document_cache()
