"""Where telemetry may be read and written, and which relative file paths are acceptable (spec 04 §1).

Every violation is ``path_forbidden``. Pure Python: no Django.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

from runs.errors import CaptureError, PathForbidden

MANIFEST_NAME = "manifest.json"

_DRIVE = re.compile(r"^[A-Za-z]:")


# What to do about a path outside the roots; names the setting, never a server path.
ROOTS_HINT = (
    " Use a directory under <data>/telemetry, or add an absolute root to FLOWTIME_TELEMETRY_ROOTS"
    " (comma-separated)."
)


def allowed_roots(*, data_root: Path, extra_roots: str = "") -> list[Path]:
    """``<data>/telemetry`` plus the ``os.pathsep``-separated ``extra_roots``, each ``realpath``-ed."""
    entries = [str(Path(data_root) / "telemetry")]
    entries.extend(part for part in (extra_roots or "").split(os.pathsep) if part.strip())
    roots: list[Path] = []
    for entry in entries:
        real = Path(os.path.realpath(entry))
        if real not in roots:
            roots.append(real)
    return roots


def _within(path: Path, root: Path) -> bool:
    return os.path.commonpath([str(path), str(root)]) == str(root)


def root_containing(path: Path, roots: Sequence[Path]) -> Path | None:
    """The first root that ``path`` (already real) equals or lies under."""
    for root in roots:
        if _within(path, root):
            return root
    return None


MAX_NAME_BYTES = 255  # NAME_MAX of common filesystems
MAX_PATH_BYTES = 4096  # PATH_MAX


def _too_long(value: str) -> bool:
    """No filesystem holds such a name: asking the OS would only raise ENAMETOOLONG."""
    encoded = value.encode("utf-8", errors="surrogatepass")
    return len(encoded) > MAX_PATH_BYTES or any(len(part) > MAX_NAME_BYTES for part in encoded.split(b"/"))


def _forbid_unsafe_text(value: str, *, field: str, what: str) -> None:
    """Reject NUL, backslashes, drive letters and percent-escapes that decode to traversal.

    A capture directory is a filesystem path, but it comes from clients that may think in Windows
    paths or URLs; none of these forms names a directory we would accept, so they are refused
    outright rather than resolved to something surprising.
    """
    if _too_long(value):
        raise PathForbidden(f"{what} is longer than any path the server accepts.", field=field)
    decoded = unquote(value, errors="replace")
    for text in (value, decoded):
        if "\x00" in text:
            raise PathForbidden(f"{what} must not contain a NUL byte.", field=field)
        if "\\" in text:
            raise PathForbidden(f"{what} '{value}' must not contain '\\'.", field=field)
        if _DRIVE.match(text):
            raise PathForbidden(f"{what} '{value}' must not start with a drive letter.", field=field)
    if decoded != value and (".." in decoded.split("/") or decoded.startswith("/")):
        raise PathForbidden(f"{what} '{value}' decodes to a path that leaves its directory.", field=field)


def resolve_capture_dir(
    value: str, *, base: Path, roots: Sequence[Path], field: str = "telemetry.captureDirectory"
) -> Path:
    """The real path of a capture directory named by ``value`` (relative to ``base``).

    ``path_forbidden`` when it is a symlink or resolves outside every root; ``capture_not_found`` when
    it is not a directory holding ``manifest.json``.
    """
    if not isinstance(value, str) or not value.strip():
        raise PathForbidden("The capture directory must be a non-empty path.", field=field)
    _forbid_unsafe_text(value, field=field, what="Capture directory")
    candidate = os.path.normpath(os.path.join(str(base), value))
    if os.path.islink(candidate):
        raise PathForbidden(f"Capture directory '{value}' is a symbolic link.", field=field)
    real = Path(os.path.realpath(candidate))
    if root_containing(real, roots) is None:
        raise PathForbidden(
            f"Capture directory '{value}' lies outside the allowed telemetry roots.{ROOTS_HINT}", field=field
        )
    if not real.is_dir():
        raise CaptureError("capture_not_found", f"Capture directory '{value}' does not exist.")
    manifest = real / MANIFEST_NAME
    if not os.path.lexists(manifest):
        raise CaptureError("capture_not_found", f"Capture directory '{value}' has no {MANIFEST_NAME}.")
    return real


def resolve_output_dir(value: Path | str, *, roots: Sequence[Path], field: str = "output") -> Path:
    """The absolute path a capture will be published to; it must lie strictly inside a root.

    A directory that does not exist yet is checked through its nearest existing ancestor, so a
    symlinked ancestor cannot smuggle the output elsewhere.
    """
    text = str(value)
    _forbid_unsafe_text(text, field=field, what="Output directory")
    candidate = Path(os.path.normpath(os.path.abspath(text)))
    if candidate.is_symlink():
        raise PathForbidden(f"Output directory '{text}' is a symbolic link.", field=field)
    existing = candidate
    missing: list[str] = []
    while not os.path.lexists(existing) and existing != existing.parent:
        missing.insert(0, existing.name)
        existing = existing.parent
    real = Path(os.path.realpath(existing)).joinpath(*missing)
    root = root_containing(real, roots)
    # The output must be a directory *inside* a root: its staging area lives next to it.
    if root is None or real == root:
        raise PathForbidden(
            f"Output directory '{text}' lies outside the allowed telemetry roots.{ROOTS_HINT}", field=field
        )
    return real


def relative_path_problem(value: object) -> str | None:
    """Why ``value`` is not an acceptable relative file path (spec 04 §1), or ``None`` when it is."""
    if not isinstance(value, str) or value == "":
        return "must be a non-empty relative path"
    if _too_long(value):
        return "is longer than any path the server accepts"
    decoded = unquote(value, errors="replace")
    for text in (value, decoded):
        if "\x00" in text:
            return "must not contain a NUL byte"
        if text.startswith(("/", "\\")):
            return "must be relative"
        if _DRIVE.match(text):
            return "must not start with a drive letter"
        if "\\" in text:
            return "must use '/' separators"
        if ":" in text:
            return "must not contain ':'"
        for segment in text.split("/"):
            if segment in {"", ".", ".."}:
                return "must not contain empty, '.' or '..' segments"
    return None


def check_relative_path(value: object, *, field: str, what: str = "Path") -> str:
    """``value`` when it is an acceptable relative file path, else ``path_forbidden`` at ``field``."""
    problem = relative_path_problem(value)
    if problem is not None:
        raise PathForbidden(f"{what} '{value}' {problem}.", field=field)
    assert isinstance(value, str)
    return value


def read_confined_file(directory: Path, relative: str, *, field: str) -> bytes | None:
    """The bytes of ``directory/relative``, a regular file that is no symlink and stays inside it.

    ``None`` when it does not exist; ``path_forbidden`` for a symlink, a non-regular file, or a path
    whose parents lead outside ``directory``. The file is opened with ``O_NOFOLLOW``.
    """
    check_relative_path(relative, field=field)
    root = Path(os.path.realpath(directory))
    target = root / relative
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise PathForbidden(f"File '{relative}' is a symbolic link.", field=field)
    if not stat.S_ISREG(info.st_mode):
        raise PathForbidden(f"File '{relative}' is not a regular file.", field=field)
    if not _within(Path(os.path.realpath(target)), root):
        raise PathForbidden(f"File '{relative}' resolves outside its directory.", field=field)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PathForbidden(f"File '{relative}' is a symbolic link.", field=field) from exc
        if exc.errno == errno.ENOENT:
            return None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise PathForbidden(f"File '{relative}' is not a regular file.", field=field)
        return handle.read()
