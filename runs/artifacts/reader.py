"""Reading run directories, ours and FlowTime's, tolerantly (spec 03 §6, §8; spec 05 §10)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from runs.artifacts.document_cache import read_document
from runs.artifacts.documents import get_key, get_mapping, read_json_file
from runs.artifacts.metadata import derive_metadata, first_text, model_provenance
from runs.canonical import format_timestamp, normalise_hash, parse_timestamp, sha256_prefixed
from runs.errors import RunInvalid

if TYPE_CHECKING:
    from runs.shapes import RunWarning

__all__ = [
    "HashCheck",
    "RunSummary",
    "VerifyReport",
    "get_key",
    "is_run_dir",
    "iso_duration",
    "iter_run_dirs",
    "model_file_for",
    "read_json_file",
    "read_run_summary",
    "verify_run",
]

MODEL_FILES = ("model/model.yaml", "spec.yaml")
_UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080}


@dataclass(frozen=True)
class RunSummary:
    """What the run index row needs, read without loading any series (spec 05 §10)."""

    run_id: str
    template_id: str
    template_title: str
    template_version: str
    mode: str
    created_utc: str | None
    start_utc: str | None
    bins: int
    bin_size: int
    bin_unit: str
    duration: str
    warning_count: int
    provenance_hash: str
    input_hash: str | None
    model_hash: str
    model_file: str
    # The capture warnings a telemetry run carries, as RunResponse lists them (counted in warning_count).
    capture_warnings: tuple[RunWarning, ...] = ()
    # The parameters the run was made with, after defaults (model/metadata.json, else provenance),
    # and the seed the engine used (manifest rng.seed, else the model's rng.seed); spec 05 §2 (ours).
    parameters: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None


HashStatus = Literal["ok", "mismatch", "unverifiable", "missing"]


@dataclass(frozen=True)
class HashCheck:
    """One recorded hash compared with the bytes on disk; ``file`` is relative to the run directory."""

    file: str
    recorded_in: str
    recorded: str | None
    actual: str | None
    status: HashStatus


@dataclass(frozen=True)
class VerifyReport:
    run_id: str
    checks: tuple[HashCheck, ...]

    @property
    def failures(self) -> tuple[HashCheck, ...]:
        return tuple(c for c in self.checks if c.status in {"mismatch", "missing"})

    @property
    def unverifiable(self) -> tuple[HashCheck, ...]:
        return tuple(c for c in self.checks if c.status == "unverifiable")

    @property
    def ok(self) -> bool:
        """No recorded hash disagrees with its file and no file is missing (unverifiable is not a failure)."""
        return not self.failures


def iter_run_dirs(runs_root: Path) -> Iterator[Path]:
    """Candidate run directories under ``runs_root`` in name order; names starting with ``.`` are skipped."""
    if not runs_root.is_dir():
        return
    with os.scandir(runs_root) as entries:
        names = sorted(e.name for e in entries if not e.name.startswith(".") and e.is_dir())
    for name in names:
        yield runs_root / name


RUN_DOCUMENTS = (
    "run.json",
    "manifest.json",
    "spec.yaml",
    "model/model.yaml",
    "model/metadata.json",
    "model/provenance.json",
    "series/index.json",
)


def check_documents_confined(run_dir: Path) -> None:
    """``RunInvalid`` when a run document is a link leading out of the run directory: such a file is
    never read or served (a planted ``model/model.yaml`` -> ``/etc/passwd``).

    A document none of whose components below ``run_dir`` is a symlink is inside it by construction
    (the names hold no ``..``), so only linked ones are resolved: one ``lstat`` per component instead
    of a ``realpath`` of every document, which ``lstat``s each component of the whole absolute path.
    """
    root: str | None = None
    linked: dict[str, bool] = {}
    for relative in RUN_DOCUMENTS:
        prefix = ""
        through_link = False
        for part in relative.split("/"):
            prefix = f"{prefix}/{part}" if prefix else part
            if prefix not in linked:
                linked[prefix] = os.path.islink(os.path.join(run_dir, prefix))
            through_link = through_link or linked[prefix]
        if not through_link:
            continue
        root = root or os.path.realpath(run_dir)
        path = os.path.join(run_dir, relative)
        if os.path.lexists(path) and not os.path.realpath(path).startswith(root + os.sep):
            raise _invalid(run_dir.name, f"{relative} leads outside the run directory")


def model_file_for(run_dir: Path) -> Path | None:
    """``model/model.yaml``, else ``spec.yaml`` (FlowTime runs), else ``None``."""
    for name in MODEL_FILES:
        path = run_dir / name
        if path.is_file():
            return path
    return None


def _json_or_none(path: Path) -> dict[str, Any] | None:
    try:
        return read_json_file(path)
    except (OSError, ValueError):
        return None


def is_run_dir(path: Path) -> bool:
    """True when run.json and series/index.json parse as JSON objects and a model file exists."""
    return (
        path.is_dir()
        and _json_or_none(path / "run.json") is not None
        and _json_or_none(path / "series" / "index.json") is not None
        and model_file_for(path) is not None
    )


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if number >= 1 else None


def _timestamp_text(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return format_timestamp(parse_timestamp(value))
    except ValueError:
        return None


def iso_duration(bins: int, bin_size: int, bin_unit: str) -> str:
    """bins × bin length as ISO-8601: ``PT6H``, ``PT20M``, ``P1D``, ``P1DT1H30M``."""
    minutes = bins * bin_size * _UNIT_MINUTES[bin_unit.lower()]
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    if hours or mins:
        text += "T" + (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")
    return text if text != "P" else "PT0M"


def _invalid(run_id: str, reason: str) -> RunInvalid:
    return RunInvalid(f"Run '{run_id}' is not a valid run directory: {reason}.")


def _read_required(run_dir: Path, relative: str) -> dict[str, Any]:
    try:
        return read_json_file(run_dir / relative)
    except FileNotFoundError:
        raise _invalid(run_dir.name, f"{relative} is missing") from None
    except OSError as exc:
        raise _invalid(run_dir.name, f"{relative} cannot be read ({exc.strerror})") from None
    except ValueError:
        raise _invalid(run_dir.name, f"{relative} is not a JSON object") from None


def _grid(run_id: str, run: Mapping[str, Any], model: Mapping[str, Any]) -> tuple[int, int, str]:
    for grid in (get_mapping(run, "grid"), get_mapping(model, "grid")):
        bins = _positive_int(get_key(grid, "bins"))
        bin_size = _positive_int(get_key(grid, "binSize"))
        unit = get_key(grid, "binUnit")
        if bins and bin_size and isinstance(unit, str) and unit.strip().lower() in _UNIT_MINUTES:
            return bins, bin_size, unit.strip().lower()
    raise _invalid(run_id, "run.json has no valid grid (bins, binSize, binUnit)")


def capture_warnings(run_dir: Path) -> list[RunWarning]:
    """The capture warnings a telemetry run carries (its telemetry-manifest.json), as run warnings:
    ``{code, message, severity, nodeId}`` in manifest order (spec 05 §2)."""
    manifest = _json_or_none(run_dir / "model" / "telemetry" / "telemetry-manifest.json") or {}
    raw = get_key(manifest, "warnings")
    out: list[RunWarning] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            continue
        node = get_key(item, "nodeId")
        out.append(
            {
                "code": str(get_key(item, "code") or "capture_warning"),
                "message": str(get_key(item, "message") or ""),
                "severity": "warning",
                "nodeId": node if isinstance(node, str) else None,
            }
        )
    return out


def read_run_summary(run_dir: Path) -> RunSummary:
    """The index fields of one run; ``RunInvalid`` when ``run_dir`` is not a run (spec 03 §8)."""
    run_id = run_dir.name
    if not run_dir.is_dir():
        raise _invalid(run_id, "the directory does not exist")
    check_documents_confined(run_dir)
    run = _read_required(run_dir, "run.json")
    _read_required(run_dir, "series/index.json")
    model_path = model_file_for(run_dir)
    if model_path is None:
        raise _invalid(run_id, "neither model/model.yaml nor spec.yaml exists")
    # Shared with the replay check that follows on every index refresh: one YAML parse per file version.
    document = read_document(str(model_path), "yaml")
    if document is None:
        raise _invalid(run_id, f"{model_path.name} is not a readable file")
    model_bytes = document.data
    # A broken model still lists from run.json; the replay check reports it.
    model = document.value if document.error is None and isinstance(document.value, dict) else {}

    manifest = _json_or_none(run_dir / "manifest.json") or {}
    metadata = _json_or_none(run_dir / "model" / "metadata.json") or {}
    provenance = _json_or_none(run_dir / "model" / "provenance.json") or model_provenance(model)
    # Recorded metadata wins key by key; whatever is missing is derived as the writer would (§3.3).
    derived = derive_metadata(
        model,
        provenance,
        template_id=first_text(get_key(metadata, "templateId")),
        template_title=first_text(get_key(metadata, "templateTitle")),
        template_version=first_text(get_key(metadata, "templateVersion")),
        mode=first_text(get_key(metadata, "mode")),
    )
    bins, bin_size, bin_unit = _grid(run_id, run, model)
    created = _timestamp_text(get_key(run, "createdUtc")) or _timestamp_text(get_key(manifest, "createdUtc"))
    warnings = get_key(run, "warnings")
    carried = tuple(capture_warnings(run_dir))
    computed_hash = sha256_prefixed(model_bytes)
    return RunSummary(
        run_id=run_id,
        template_id=derived["templateId"],
        template_title=derived["templateTitle"],
        template_version=derived["templateVersion"],
        mode=derived["mode"],
        created_utc=created,
        start_utc=_timestamp_text(get_key(get_mapping(model, "grid"), "startTimeUtc")),
        bins=bins,
        bin_size=bin_size,
        bin_unit=bin_unit,
        duration=iso_duration(bins, bin_size, bin_unit),
        warning_count=(len(warnings) if isinstance(warnings, list) else 0) + len(carried),
        provenance_hash=normalise_hash(get_key(metadata, "modelHash")) or computed_hash,
        input_hash=normalise_hash(get_key(metadata, "inputHash")),
        model_hash=computed_hash,
        model_file=model_path.relative_to(run_dir).as_posix(),
        capture_warnings=carried,
        parameters=_recorded_parameters(metadata, derived),
        seed=_recorded_seed(manifest, model),
    )


def _recorded_parameters(metadata: Mapping[str, Any], derived: Mapping[str, Any]) -> dict[str, Any]:
    recorded = get_key(metadata, "parameters")
    if isinstance(recorded, Mapping):
        return dict(recorded)
    fallback = derived.get("parameters")
    return dict(fallback) if isinstance(fallback, Mapping) else {}


def _recorded_seed(manifest: Mapping[str, Any], model: Mapping[str, Any]) -> int | None:
    for seed in (get_key(get_mapping(manifest, "rng"), "seed"), get_key(get_mapping(model, "rng"), "seed")):
        if isinstance(seed, int) and not isinstance(seed, bool):
            return seed
    return None


def _check(file: str, recorded_in: str, recorded: object, actual: str | None) -> HashCheck:
    recorded_text = recorded if isinstance(recorded, str) else None
    if actual is None:
        return HashCheck(file, recorded_in, recorded_text, None, "missing")
    expected = normalise_hash(recorded)
    if expected is None:
        return HashCheck(file, recorded_in, recorded_text, actual, "unverifiable")
    return HashCheck(file, recorded_in, recorded_text, actual, "ok" if expected == actual else "mismatch")


def _file_hash(run_dir: Path, relative: str) -> str | None:
    """sha256 of a file inside the run; ``None`` when it is missing or the path leaves the run."""
    root = run_dir.resolve()
    path = (run_dir / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return sha256_prefixed(path.read_bytes())


def verify_run(run_dir: Path) -> VerifyReport:
    """Compare the recorded model and series hashes with the files (spec 03 §8); raises ``RunInvalid``."""
    run_id = run_dir.name
    run = _read_required(run_dir, "run.json")
    index = _read_required(run_dir, "series/index.json")
    manifest = _json_or_none(run_dir / "manifest.json")
    metadata = _json_or_none(run_dir / "model" / "metadata.json")
    model_path = model_file_for(run_dir)
    if model_path is None:
        raise _invalid(run_id, "neither model/model.yaml nor spec.yaml exists")
    model_name = model_path.relative_to(run_dir).as_posix()
    model_actual = sha256_prefixed(model_path.read_bytes())

    checks: list[HashCheck] = [_check(model_name, "run.json", get_key(run, "modelHash"), model_actual)]
    if manifest is not None:
        checks.append(_check(model_name, "manifest.json", get_key(manifest, "modelHash"), model_actual))
    if metadata is not None:
        checks.append(_check(model_name, "model/metadata.json", get_key(metadata, "modelHash"), model_actual))

    paths: dict[str, str] = {}
    entries = get_key(index, "series")
    for entry in entries if isinstance(entries, list) else []:
        sid = get_key(entry, "id")
        if not isinstance(sid, str):
            continue
        path = get_key(entry, "path")
        relative = path if isinstance(path, str) and path.strip() else f"series/{sid}.csv"
        paths[sid] = relative
        checks.append(
            _check(relative, "series/index.json", get_key(entry, "hash"), _file_hash(run_dir, relative))
        )
    recorded_series = get_mapping(manifest, "seriesHashes")
    for sid, recorded in recorded_series.items():
        relative = paths.get(sid, f"series/{sid}.csv")
        checks.append(_check(relative, "manifest.json", recorded, _file_hash(run_dir, relative)))
    return VerifyReport(run_id, tuple(checks))
