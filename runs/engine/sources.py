"""File sources of const nodes (spec 02 §8): ``file:`` URI resolution, confinement and the strict CSV.

Resolution and reading return an ``Issue`` rather than raising internally, so that ``evaluate``
can report every bad source of a model at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from runs.errors import Issue, ModelError

_VALUE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_INFINITY = re.compile(r"^([+-]?)(inf|infinity)$", re.IGNORECASE)
_INDEX = re.compile(r"^[0-9]+$")


@dataclass(frozen=True, slots=True)
class FileUri:
    """A syntactically valid ``file:`` URI: a decoded path, relative to the model dir or absolute."""

    path: str
    absolute: bool


def parse_file_uri(uri: str) -> FileUri | str:
    """Split a ``file:`` URI into its decoded path; a string result is why it is ``source_invalid``."""
    if not isinstance(uri, str) or uri[:5].lower() != "file:":
        return f"Source '{uri}' must be a file: URI"
    rest = uri[5:]
    if "\\" in rest:
        return f"Source '{uri}' must not contain '\\'"
    prefix = ""
    if rest.startswith("//"):
        host, _, raw = rest[2:].partition("/")
        if host == "":
            absolute, prefix = True, "/"
        elif host.lower() == "telemetry":
            absolute, prefix = False, "telemetry/"
        else:
            return f"Source '{uri}' names host '{host}'; only file://telemetry/… is allowed"
    elif rest.startswith("/"):
        absolute, raw = True, rest
    else:
        absolute, raw = False, rest
    try:
        decoded = unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return f"Source '{uri}' has percent-escapes that are not UTF-8"
    if "\\" in decoded or "\x00" in decoded:
        return f"Source '{uri}' must not contain '\\' or NUL"
    if decoded.strip("/") == "":
        return f"Source '{uri}' has no file path"
    if not absolute and decoded.startswith("/"):
        # Only an escaped %2F can get here; a relative form must stay relative once decoded.
        return f"Source '{uri}' is a relative form whose decoded path starts with '/'"
    path = prefix + decoded
    return FileUri(path, absolute)


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve_source_issue(
    uri: str, *, model_dir: Path | None, confine_to: Path | None, issue_path: str = "source"
) -> Path | Issue:
    """``resolve_file_source`` that returns the ``source_invalid`` issue instead of raising it."""
    parsed = parse_file_uri(uri)
    if isinstance(parsed, str):
        return Issue("source_invalid", issue_path, parsed)

    def invalid(why: str) -> Issue:
        return Issue("source_invalid", issue_path, f"Source '{uri}' {why}")

    if parsed.absolute:
        if confine_to is not None:
            return invalid("is an absolute path, which is not allowed here")
        candidate = Path(parsed.path)
    else:
        if model_dir is None:
            return invalid("is relative but there is no model directory to resolve it against")
        if confine_to is not None and ".." in parsed.path.split("/"):
            return invalid("must not contain '..' segments")
        candidate = Path(model_dir) / parsed.path
    if confine_to is not None:
        real = Path(os.path.realpath(candidate))
        root = Path(os.path.realpath(confine_to))
        if not _is_within(real, root):
            return invalid("resolves outside the run directory")
    return candidate


def resolve_file_source(uri: str, *, model_dir: Path | None, confine_to: Path | None) -> Path:
    """The file a ``file:`` URI names (spec 02 §8); raises ``ModelError`` (``source_invalid``).

    Relative forms resolve against ``model_dir``. With ``confine_to``, absolute forms, ``..``
    segments and paths whose realpath leaves ``realpath(confine_to)`` are rejected. The file need
    not exist.
    """
    result = resolve_source_issue(uri, model_dir=model_dir, confine_to=confine_to)
    if isinstance(result, Issue):
        raise ModelError([result])
    return result


def _parse_value(text: str) -> float | None:
    if text == "" or text.lower() == "nan":
        return float("nan")
    m = _INFINITY.match(text)
    if m:
        return float("-inf") if m.group(1) == "-" else float("inf")
    if _VALUE.fullmatch(text):
        return float(text)
    return None


def _describe_bins(missing: list[int]) -> str:
    shown = ", ".join(str(i) for i in missing[:10])
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    return f"bin{'s' if len(missing) > 1 else ''} {shown}{more}"


def read_series_issue(path: Path, *, bins: int, uri: str, issue_path: str = "source") -> np.ndarray | Issue:
    """``read_series_csv`` that returns the first problem as an ``Issue`` instead of raising it."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return Issue("source_not_found", issue_path, f"Source file not found: {uri}")
    except IsADirectoryError:
        return Issue("source_not_found", issue_path, f"Source is not a file: {uri}")
    except OSError as exc:
        return Issue("source_not_found", issue_path, f"Source file cannot be read: {uri} ({exc.strerror})")

    def bad(line: int, why: str) -> Issue:
        return Issue("csv_invalid", issue_path, f"{uri}: line {line}: {why}")

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return bad(data.count(b"\n", 0, exc.start) + 1, "not UTF-8 text")
    lines = text.split("\n")
    if lines[0].rstrip("\r").strip().lower() != "bin_index,value":
        return bad(1, "the header must be 'bin_index,value'")
    values = np.full(bins, np.nan, dtype=np.float64)
    seen = np.zeros(bins, dtype=bool)
    for number, raw_line in enumerate(lines[1:], start=2):
        line = raw_line[:-1] if raw_line.endswith("\r") else raw_line
        if line.strip() == "":
            continue
        fields = line.split(",")
        if len(fields) != 2:
            return bad(number, f"expected 2 fields, found {len(fields)}")
        index_text = fields[0].strip()
        if not _INDEX.fullmatch(index_text):
            return bad(number, f"bin index '{index_text}' is not a non-negative integer")
        index = int(index_text)
        if index >= bins:
            return bad(number, f"bin index {index} is outside 0..{bins - 1}")
        if seen[index]:
            return bad(number, f"bin index {index} appears twice")
        value = _parse_value(fields[1].strip())
        if value is None:
            return bad(number, f"value '{fields[1].strip()}' is not a number")
        seen[index] = True
        values[index] = value
    if not seen.all():
        missing = np.flatnonzero(~seen).tolist()
        return Issue("csv_invalid", issue_path, f"{uri}: missing {_describe_bins(missing)}")
    return values


def read_series_csv(path: Path, *, bins: int, uri: str, issue_path: str = "source") -> np.ndarray:
    """Read a strict ``bin_index,value`` CSV (spec 02 §8) holding every bin 0..bins−1 exactly once.

    Raises ``ModelError`` with one ``source_not_found`` or ``csv_invalid`` issue whose message
    names ``uri`` and the 1-based line (or the missing bins).
    """
    result = read_series_issue(path, bins=bins, uri=uri, issue_path=issue_path)
    if isinstance(result, Issue):
        raise ModelError([result])
    return result
