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
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

from runs.artifacts.document_cache import clear_document_cache, file_identity, read_all

FloatArray = npt.NDArray[np.float64]
V = TypeVar("V")

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
    # The cache key it was read under (file identity, bins); ``None`` when the file could not be read.
    identity: Hashable | None = None


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


class SizedCache(Generic[V]):
    """A thread-safe LRU (cachetools) bounded by the total ``sizeof`` of its entries; an entry larger
    than the whole bound is not kept."""

    def __init__(self, max_size: int, sizeof: Callable[[V], int]) -> None:
        self._sizeof = sizeof
        self._entries: LRUCache[Hashable, V] = LRUCache(max(0, max_size), getsizeof=sizeof)
        self._lock = threading.Lock()
        self.misses = 0

    @property
    def max_size(self) -> int:
        return int(self._entries.maxsize)

    @property
    def total_size(self) -> int:
        return int(self._entries.currsize)

    def __len__(self) -> int:
        return len(self._entries)

    def configure(self, max_size: int) -> None:
        """Set the bound, keeping what still fits."""
        with self._lock:
            old = self._entries
            self._entries = LRUCache(max(0, max_size), getsizeof=self._sizeof)
            for key, value in old.items():
                if self._sizeof(value) <= self._entries.maxsize:
                    self._entries[key] = value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self.misses += 1
            if self._sizeof(value) <= self._entries.maxsize:
                self._entries[key] = value


# Bounded by FLOWTIME_SERIES_CACHE_MAX_VALUES (float values held), applied at start-up (RunsConfig.ready).
SERIES_CACHE: SizedCache[ParsedSeries] = SizedCache(
    DEFAULT_MAX_VALUES, lambda series: int(series.values.size)
)


def configure_series_cache(*, max_values: int) -> None:
    """Set the bound (total float values held) of the process-wide series cache."""
    SERIES_CACHE.configure(max_values)


def read_series(real_path: str, bins: int) -> ParsedSeries:
    """The parsed CSV at ``real_path`` (already resolved and confined by the caller), cached by identity.

    A file that cannot be opened or read, is not a regular file, or is far too large for the grid
    is reported as a malformed series rather than raised.
    """
    # A cached parse is found with one lstat: a regular file with the identity it was read under is
    # those bytes (a link put in its place has another identity and goes the long way, refused).
    try:
        st = os.lstat(real_path)
    except OSError:
        return _malformed(bins)
    if stat.S_ISREG(st.st_mode):
        cached = SERIES_CACHE.get((file_identity(real_path, st), bins))
        if cached is not None:
            return cached
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
        parsed = replace(parsed, identity=key)
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
