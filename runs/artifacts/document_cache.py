"""Run documents (run.json, metadata.json, model.yaml, index.json) parsed once per file version.

A request, an index refresh and the replay check all read the same few documents; the YAML model
alone can take most of a run's indexing time. Entries are keyed by the file's identity (real path,
device, inode, size, mtime), so a run replaced by an atomic rename is never served stale. Pure Python.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

from runs.engine.yaml_loader import YamlLoadError, load_yaml

# (real path, st_dev, st_ino, st_size, st_mtime_ns)
FileIdentity = tuple[str, int, int, int, int]

_MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
_MAX_DOCUMENTS = 512


def file_identity(real_path: str, st: os.stat_result) -> FileIdentity:
    return (real_path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def read_all(fd: int, size: int) -> bytes:
    """Up to ``size + 1`` bytes of an open file (one more than expected reveals a file still growing)."""
    chunks: list[bytes] = []
    remaining = size + 1
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class Document:
    """The bytes of a run document and their parse; ``value`` is shared, callers never mutate it."""

    data: bytes
    value: Any
    error: str | None


_documents: OrderedDict[tuple[FileIdentity, str], Document] = OrderedDict()
_documents_lock = threading.Lock()


def _parse_document(data: bytes, kind: Literal["json", "yaml"]) -> Document:
    if kind == "yaml":
        try:
            return Document(data, load_yaml(data), None)
        except YamlLoadError as exc:
            return Document(data, None, exc.message)
        except RecursionError:
            return Document(data, None, "YAML nesting is too deep")
    try:
        return Document(data, json.loads(data.decode("utf-8-sig")), None)
    except UnicodeDecodeError:
        return Document(data, None, "not UTF-8 text")
    except (ValueError, RecursionError) as exc:
        return Document(data, None, f"not valid JSON ({type(exc).__name__})")


def read_document(path: str, kind: Literal["json", "yaml"]) -> Document | None:
    """Read and parse a small run document, cached by identity; ``None`` when it is not a readable file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        key = (file_identity(os.path.abspath(path), st), kind)
        with _documents_lock:
            found = _documents.get(key)
            if found is not None:
                _documents.move_to_end(key)
                return found
        if st.st_size > _MAX_DOCUMENT_BYTES:
            document = Document(b"", None, "file is too large")
        else:
            document = _parse_document(read_all(fd, st.st_size), kind)
        with _documents_lock:
            _documents[key] = document
            while len(_documents) > _MAX_DOCUMENTS:
                _documents.popitem(last=False)
        return document
    except OSError:
        return None
    finally:
        os.close(fd)


def remember_document(path: str, data: bytes, value: Any) -> None:
    """Cache ``value`` as the YAML parse of the file just written at ``path`` with ``data``, so its
    first reader does not parse it again; the caller vouches that ``value == load_yaml(data)``."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
        return
    key = (file_identity(os.path.abspath(path), st), "yaml")
    with _documents_lock:
        _documents[key] = Document(data, value, None)
        while len(_documents) > _MAX_DOCUMENTS:
            _documents.popitem(last=False)


def clear_document_cache() -> None:
    with _documents_lock:
        _documents.clear()
