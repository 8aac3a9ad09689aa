"""The run-directory lifecycle: stage, publish new, replace, delete, snapshot read (spec 03 §7).

Every way a run directory comes, changes or goes passes through here, so the guarantees hold for all
callers (API, admin, commands, telemetry bundles and captures):

- ``<runs>/<runId>`` always names a complete run, old or new: a new run appears with one rename, a
  replacement is one ``renameat2(RENAME_EXCHANGE)`` (Linux) and a delete is one rename out of ``runs/``.
- Staging entries are named ``<unix seconds>-<uuid hex>`` by the writer that makes them and guarded by
  ``<name>.lock``, which that writer holds (``flock``) for as long as it works. Cleanup removes an
  entry when its lock is free (the owner died, e.g. ``kill -9``) or, without a lock file, when the
  recorded time is more than 24 h old. It never looks at a directory's mtime, which a rename keeps.
- ``read_snapshot`` runs a read against one version of a run: the run directory's identity is taken
  before and after, and a read that overlapped a replace or delete is done again.

Pure Python: no Django.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

from runs.artifacts.documents import get_key, read_json_file
from runs.artifacts.ids import is_valid_run_id, random_run_id
from runs.artifacts.reader import is_run_dir
from runs.artifacts.writer import restamp_run_id
from runs.canonical import normalise_hash
from runs.errors import InvalidRequest, RunExists, RunInvalid

logger = logging.getLogger("flowtime.runs")

STAGING_DIR_NAME = ".staging"
STALE_STAGING_AGE = timedelta(hours=24)
_RANDOM_ID_ATTEMPTS = 20
_PUBLISH_ATTEMPTS = 20
# rename(2) reports an occupied target directory as EEXIST or ENOTEMPTY (ENOTDIR when it is a file).
_TARGET_TAKEN = {errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR}
# "<unix seconds>-<uuid4 hex>", then ".lock" for its lock file or ".old" for the fallback's old version.
_ENTRY_NAME = re.compile(r"(?P<base>(?P<seconds>[0-9]{1,12})-[0-9a-f]{32})(?P<suffix>\.lock|\.old)?")

IdKind = Literal["deterministic", "explicit", "random"]
T = TypeVar("T")
P = ParamSpec("P")


# --- atomic exchange ---------------------------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM}


def _load_renameat2() -> Any:
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not Linux, or a C library older than glibc 2.28
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()
_fallback_reported = False


class ExchangeUnsupported(OSError):
    """The platform or filesystem has no atomic exchange of two names."""


def exchange_supported_by_platform() -> bool:
    """Whether the C library offers ``renameat2`` (the filesystem may still refuse it)."""
    return _renameat2 is not None


def exchange_paths(first: Path, second: Path) -> None:
    """Swap two existing directory entries in one atomic step (``renameat2(RENAME_EXCHANGE)``)."""
    if _renameat2 is None:
        raise ExchangeUnsupported(errno.ENOSYS, "renameat2 is not available")
    if _renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        raise ExchangeUnsupported(code, os.strerror(code))
    raise OSError(code, os.strerror(code), str(second))


def atomic_exchange_available(directory: Path) -> bool:
    """Whether the filesystem holding ``directory`` swaps two names atomically (probed with two dirs)."""
    with staged_dir(directory) as first, staged_dir(directory) as second:
        try:
            exchange_paths(first.path, second.path)
        except ExchangeUnsupported:
            return False
    return True


def _report_fallback(reason: OSError) -> None:
    global _fallback_reported
    if not _fallback_reported:
        _fallback_reported = True
        logger.warning(
            "atomic exchange unavailable (%s): replacing runs with two renames; a reader between them "
            "sees the run as absent",
            reason.strerror,
        )


# --- staging entries ---------------------------------------------------------------------------------


class Stage:
    """A staging directory ``<parent>/.staging/<seconds>-<hex>/`` owned by this writer.

    ``published`` once it has been renamed into place. The writer holds ``<name>.lock`` until
    ``release``; while it does, cleanup leaves the entry alone.
    """

    __slots__ = ("_lock_fd", "name", "path", "published", "staging")

    def __init__(self, staging: Path, name: str, lock_fd: int) -> None:
        self.staging = staging
        self.name = name
        self.path = staging / name
        self.published = False
        self._lock_fd: int | None = lock_fd

    def release(self) -> None:
        """Remove what is left of this entry (a failed stage, an old version) and drop the lock."""
        _remove_quietly(self.path)
        _remove_quietly(self.staging / f"{self.name}.old")
        if self._lock_fd is not None:
            with suppress(FileNotFoundError):
                os.unlink(self.staging / f"{self.name}.lock")
            os.close(self._lock_fd)
            self._lock_fd = None

    def __repr__(self) -> str:
        return f"Stage({self.name!r})"


def _claim(staging: Path) -> Stage:
    """A new entry name with its lock file, locked. The directory itself is not made here."""
    name = f"{int(time.time())}-{uuid.uuid4().hex}"
    while True:
        staging.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(staging / f"{name}.lock", os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_CLOEXEC, 0o600)
            break
        except FileNotFoundError:
            continue  # another writer removed the then empty staging directory: make it again
    # A cleaner that locks the file before we do deletes it (and our not yet existing directory);
    # the directory made next then has no lock file and is only aged by its recorded time: safe.
    fcntl.flock(fd, fcntl.LOCK_EX)
    return Stage(staging, name, fd)


def _remove_quietly(path: Path) -> None:
    # Used only for garbage or while another error propagates; what is left is removed by cleanup.
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def _free_lock(path: Path) -> int | None:
    """An fd holding the lock at ``path`` when nobody else holds it; ``None`` when held or missing."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def clean_stale_staging(
    runs_root: Path, *, max_age: timedelta = STALE_STAGING_AGE, now: float | None = None
) -> int:
    """Delete the ``.staging/`` entries no writer owns any more; return how many were removed.

    An entry goes when its lock file is free (its writer has ended without cleaning up) or, when it
    has no lock file, when its recorded time is older than ``max_age``. Names this module does not
    write are left alone: their age is unknown.
    """
    staging = runs_root / STAGING_DIR_NAME
    try:
        names = os.listdir(staging)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    groups: dict[str, list[str]] = {}
    recorded: dict[str, int] = {}
    for name in names:
        match = _ENTRY_NAME.fullmatch(name)
        if match is not None:
            groups.setdefault(match["base"], []).append(name)
            recorded[match["base"]] = int(match["seconds"])
    cutoff = (time.time() if now is None else now) - max_age.total_seconds()
    removed = 0
    for base in sorted(groups):
        lock_path = staging / f"{base}.lock"
        has_lock = f"{base}.lock" in groups[base]
        fd = _free_lock(lock_path) if has_lock else None
        if has_lock and fd is None:
            continue  # a live writer holds it, or it just went (then the entry is aged next time)
        if not has_lock and recorded[base] >= cutoff:
            continue
        for name in groups[base]:
            if not name.endswith(".lock"):
                _remove_quietly(staging / name)
        if fd is not None:
            with suppress(FileNotFoundError):
                os.unlink(lock_path)
            os.close(fd)
        removed += 1
    return removed


@contextmanager
def staged_dir(parent: Path) -> Iterator[Stage]:
    """A fresh, locked ``<parent>/.staging/<seconds>-<hex>/``; removed unless published, and the
    old version a replace left there is removed too."""
    staging = parent / STAGING_DIR_NAME
    staging.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(parent)
    stage = _claim(staging)
    try:
        stage.path.mkdir()
        yield stage
    finally:
        stage.release()


def staged_run(runs_root: Path) -> AbstractContextManager[Stage]:
    """``staged_dir`` for a run: ``<runs_root>/.staging/<seconds>-<hex>/``."""
    return staged_dir(runs_root)


# --- publication -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    run_id: str
    run_dir: Path
    was_reused: bool
    replaced: bool
    # What the publishing request built from its own stage (the RunResponse), when it asked for one.
    description: Any = None


PublishOutcome = Literal["new", "replaced", "taken"]


def _rename(source: Path, target: Path) -> bool:
    """``os.rename``; False when the target is taken, other errors propagate."""
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno in _TARGET_TAKEN:
            return False
        raise
    return True


def _replace_two_step(stage: Stage, target: Path) -> bool:
    """The documented fallback without an atomic exchange: old version aside, then the new one in."""
    old = stage.staging / f"{stage.name}.old"
    try:
        os.rename(target, old)
    except FileNotFoundError:
        return False
    try:
        moved = _rename(stage.path, target)
    except BaseException:
        os.rename(old, target)
        raise
    if not moved:  # another writer published in between: put ours back in the queue
        _remove_quietly(old)
        return False
    stage.published = True
    return True


def publish_dir(stage: Stage, target: Path, *, overwrite: bool) -> PublishOutcome:
    """Move ``stage`` to ``target``: ``new`` when the name was free, ``replaced`` when ``overwrite``
    swapped it with the version there (removed afterwards), ``taken`` when it exists and may not be
    replaced. At every instant ``target`` is absent, the old version or the new one, never a part."""
    if stage.published or not stage.path.is_dir():
        raise ValueError("the stage was already published or removed")
    for _ in range(_PUBLISH_ATTEMPTS):
        if _rename(stage.path, target):
            stage.published = True
            return "new"
        if not overwrite:
            return "taken"
        try:
            exchange_paths(stage.path, target)
        except FileNotFoundError:
            continue  # deleted meanwhile: publish as new
        except ExchangeUnsupported as exc:
            _report_fallback(exc)
            if _replace_two_step(stage, target):
                _remove_quietly(stage.staging / f"{stage.name}.old")
                return "replaced"
            continue
        # The stage's name now holds the old version, still under this writer's lock.
        stage.published = True
        _remove_quietly(stage.path)
        return "replaced"
    raise RunExists(target.name, f"'{target.name}' kept changing while it was being published.")


def existing_input_hash(run_dir: Path) -> str | None:
    """The normalised ``inputHash`` of a published run's model/metadata.json, or ``None``."""
    try:
        metadata = read_json_file(run_dir / "model" / "metadata.json")
    except (OSError, ValueError):
        return None
    return normalise_hash(get_key(metadata, "inputHash"))


def find_reusable_run(runs_root: Path, run_id: str, input_hash: str) -> Path | None:
    """The published run ``run_id`` when its inputHash equals ``input_hash`` (reuse without evaluating)."""
    wanted = normalise_hash(input_hash)
    if wanted is None or not is_valid_run_id(run_id):
        return None
    run_dir = runs_root / run_id
    if not is_run_dir(run_dir):
        return None
    return run_dir if existing_input_hash(run_dir) == wanted else None


def _publish_random(
    stage: Stage, runs_root: Path, run_id: str | None, created_utc: datetime, token: Callable[[], str] | None
) -> PublishResult:
    draw: Callable[[], str] = (
        (lambda: random_run_id(created_utc)) if token is None else (lambda: random_run_id(created_utc, token))
    )
    candidate = run_id or draw()
    stamped = run_id
    for _ in range(_RANDOM_ID_ATTEMPTS):
        if candidate != stamped:
            restamp_run_id(stage.path, candidate)
            stamped = candidate
        target = runs_root / candidate
        if publish_dir(stage, target, overwrite=False) == "new":
            return PublishResult(candidate, target, was_reused=False, replaced=False)
        candidate = draw()
    raise RunExists(candidate, f"No free random run id after {_RANDOM_ID_ATTEMPTS} attempts.")


def publish_run(
    stage: Stage,
    *,
    runs_root: Path,
    run_id: str | None,
    id_kind: IdKind,
    overwrite: bool,
    input_hash: str | None,
    created_utc: datetime,
    token: Callable[[], str] | None = None,
) -> PublishResult:
    """Move the stage to ``<runs_root>/<runId>``, following the table of spec 03 §5.

    ``random`` ids get a fresh suffix (and a re-stamped run.json) while the target exists; a
    deterministic id whose run has the same inputHash is reused and the stage discarded; otherwise an
    occupied id raises ``RunExists`` unless ``overwrite`` asks for the atomic replace.
    """
    if stage.published or not stage.path.is_dir():
        raise ValueError("the stage was already published or removed")
    if run_id is not None and not is_valid_run_id(run_id):
        raise InvalidRequest(f"Run id '{run_id}' is not a valid run id.")
    if id_kind == "random":
        return _publish_random(stage, runs_root, run_id, created_utc, token)
    if run_id is None:
        raise ValueError(f"a {id_kind} run id is required")
    target = runs_root / run_id
    outcome = publish_dir(stage, target, overwrite=overwrite)
    if outcome != "taken":
        return PublishResult(run_id, target, was_reused=False, replaced=outcome == "replaced")
    wanted = normalise_hash(input_hash)
    if id_kind == "deterministic" and wanted is not None and existing_input_hash(target) == wanted:
        return PublishResult(run_id, target, was_reused=True, replaced=False)
    raise RunExists(run_id)


# --- delete ------------------------------------------------------------------------------------------


def delete_run_dir(runs_root: Path, run_id: str) -> bool:
    """Remove ``<runs_root>/<runId>``: one rename out of ``runs/`` into a staging entry, then the files.

    True when this call removed it; False when there was nothing (of that name) to remove. Of several
    concurrent deletes exactly one gets True. A reader sees the whole run or none.
    """
    if not is_valid_run_id(run_id):
        return False
    return withdraw_dir(runs_root, run_id)


def withdraw_dir(parent: Path, name: str) -> bool:
    """Remove the published directory ``<parent>/<name>`` (a run or a capture) as ``delete_run_dir``
    does: one rename into ``<parent>/.staging/``, then the files. ``name`` must already be checked."""
    staging = parent / STAGING_DIR_NAME
    if not os.path.lexists(parent / name):
        return False
    entry = _claim(staging)
    try:
        try:
            os.rename(parent / name, entry.path)
        except FileNotFoundError:
            return False
        return True
    finally:
        entry.release()
        # Leave no empty staging area behind; one another writer is using is not empty.
        with suppress(OSError):
            staging.rmdir()


# --- snapshot reads ----------------------------------------------------------------------------------

VersionKey = tuple[int, int, int]
_SNAPSHOT_ATTEMPTS = 50


def run_version(runs_root: Path, run_id: str) -> VersionKey | None:
    """The identity of the version ``<runs_root>/<runId>`` names now, or ``None`` when there is none.

    A run directory that is (or reaches through) a symlink resolving outside the data root (the parent
    of ``runs_root``) raises ``RunInvalid``: nothing outside the data root is served.
    """
    path = runs_root / run_id
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not os.path.isdir(path):
        return None
    real = os.path.realpath(path)
    data_real = os.path.realpath(runs_root.parent)
    if not real.startswith(data_real + os.sep):
        raise RunInvalid(f"Run '{run_id}' is a link that leaves the data root.")
    if os.path.islink(path):
        st = os.stat(path)
    # A replacement or a re-created run is a new directory: new inode, and its ctime moves on a rename.
    return (st.st_dev, st.st_ino, st.st_ctime_ns)


def read_snapshot(runs_root: Path, run_id: str, read: Callable[[], T]) -> T:
    """``read()`` against one version of the run: when the version changed while it ran (a replace or
    a delete), its answer may mix two versions, so it is discarded and ``read`` runs again. Errors of
    a read that overlapped a change are discarded alike (a file missing mid-swap is not an answer)."""
    if not is_valid_run_id(run_id):
        return read()  # no run directory can change under it: one read is the answer
    pause = 0.001
    for attempt in range(_SNAPSHOT_ATTEMPTS):
        before = run_version(runs_root, run_id)
        try:
            result = read()
        except Exception:
            if before == run_version(runs_root, run_id):
                raise
        else:
            if before == run_version(runs_root, run_id):
                return result
        if attempt == _SNAPSHOT_ATTEMPTS - 1:
            break
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    logger.warning("run %s changed during %d reads in a row", run_id, _SNAPSHOT_ATTEMPTS)
    return read()


def snapshot_of_run(read: Callable[Concatenate[Path, str, P], T]) -> Callable[Concatenate[Path, str, P], T]:
    """Decorate ``read(data_root, run_id, ...)`` so that it answers from one version of the run."""

    @functools.wraps(read)
    def wrapper(data_root: Path, run_id: str, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return read_snapshot(
            Path(data_root) / "runs", run_id, lambda: read(data_root, run_id, *args, **kwargs)
        )

    return wrapper
