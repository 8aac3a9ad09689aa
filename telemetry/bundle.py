"""Bundle: a verified capture directory + a model → a canonical telemetry run (spec 04 §3).

``resolve_capture_for_run`` reads and verifies a capture (it writes nothing); ``ResolvedCapture.prepare``
rewrites a model tree for it (pure); ``PreparedTelemetry.copy_into`` writes ``model/telemetry/`` into
a run's staging directory. ``bundle_model_file_run`` builds a whole run from a model file. No Django.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from runs import artifacts
from runs.artifacts.metadata import first_text
from runs.artifacts.writer import write_file_durably
from runs.canonical import (
    canonical_json,
    format_timestamp,
    json_file_text,
    parse_timestamp,
    sha256_prefixed,
)
from runs.engine import Evaluation, Model, load_model
from runs.engine.sources import read_series_issue
from runs.engine.yaml_loader import YamlLoadError, load_yaml
from runs.errors import (
    CaptureError,
    FlowtimeError,
    InvalidRequest,
    Issue,
    ModelError,
    PathForbidden,
    TemplateError,
)
from runs.run_builder import existing_target, grid_of, publish_new_run, series_of
from telemetry.manifest import (
    CaptureFile,
    CaptureManifest,
    capture_invalid,
    metric_named,
    parse_manifest,
    plan_warning,
)
from telemetry.paths import (
    MANIFEST_NAME,
    allowed_roots,
    check_relative_path,
    read_confined_file,
    resolve_capture_dir,
    root_containing,
)
from templates_catalog.generation import NODE_KEY_ORDER, SEMANTICS_KEY_ORDER
from templates_catalog.model_yaml import dump_model_yaml, put_in_order

if TYPE_CHECKING:
    from runs.shapes import PlanFile, PlanWarning

TELEMETRY_URI_PREFIX = "file://telemetry/"
TELEMETRY_MANIFEST_NAME = "telemetry-manifest.json"
DEFAULT_MAX_BINS = 10000

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _binding_invalid(field_path: str, message: str) -> TemplateError:
    return TemplateError([Issue("binding_invalid", field_path, message)])


def _count_data_rows(data: bytes) -> int | None:
    """Rows after the header line, blank lines skipped; ``None`` when the bytes are not UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return sum(1 for line in text.split("\n")[1:] if line.strip())


def _verify_files(capture_dir: Path, manifest: CaptureManifest) -> tuple[dict[str, bytes], list[Issue]]:
    """Spec 04 §3.1 step 3: every file present, unchanged (hash) and a strict CSV of ``bins`` rows.

    A hash mismatch is raised at once; the other problems are returned, to be reported together
    with the grid check of step 5."""
    contents: dict[str, bytes] = {}
    problems: list[Issue] = []
    for i, entry in enumerate(manifest.files):
        data = read_confined_file(capture_dir, entry.path, field=f"files[{i}].path")
        if data is None:
            problems.append(
                Issue("capture_invalid", entry.path, f"Telemetry file '{entry.path}' does not exist.")
            )
            continue
        actual = sha256_prefixed(data)
        if actual != entry.hash:
            raise CaptureError(
                "capture_hash_mismatch",
                f"Telemetry file '{entry.path}' has {actual} but the manifest lists {entry.hash}.",
                errors=[Issue("capture_hash_mismatch", entry.path, "hash mismatch")],
            )
        rows = _count_data_rows(data)
        if rows is not None and rows != manifest.bins:
            problems.append(
                Issue(
                    "capture_invalid",
                    entry.path,
                    f"Telemetry CSV '{entry.path}' contained {rows} points but expected {manifest.bins}.",
                )
            )
            continue
        parsed = read_series_issue(capture_dir / entry.path, bins=manifest.bins, uri=entry.path)
        if isinstance(parsed, Issue):
            problems.append(Issue("capture_invalid", entry.path, f"Telemetry CSV {parsed.message}"))
            continue
        contents[entry.path] = data
    return contents, problems


GridKey = tuple[int, int, str]  # bins, binSize, binUnit (lower case)


def grid_problems(manifest: CaptureManifest, grid: GridKey) -> list[Issue]:
    """Spec 04 §3.1 step 5: the model's grid must equal the manifest's."""
    return [
        Issue(
            "capture_invalid",
            f"grid.{key}",
            f"The model's grid.{key} is {ours} but the capture's is {theirs}.",
        )
        for key, ours, theirs in (
            ("bins", grid[0], manifest.bins),
            ("binSize", grid[1], manifest.bin_size),
            ("binUnit", grid[2], manifest.bin_unit),
        )
        if ours != theirs
    ]


def _display_path(capture_dir: Path, *, data_root: Path, roots: Sequence[Path]) -> str:
    real_data = Path(os.path.realpath(data_root))
    if os.path.commonpath([str(capture_dir), str(real_data)]) == str(real_data):
        return capture_dir.relative_to(real_data).as_posix()
    root = root_containing(capture_dir, roots)
    assert root is not None  # resolve_capture_dir guarantees it
    inner = capture_dir.relative_to(root).as_posix()
    return root.name if inner == "." else f"{root.name}/{inner}"


@dataclass(frozen=True)
class PreparedTelemetry:
    """A model rewritten for a capture, and everything the run needs from the capture."""

    model_text: str
    model: Model
    tree: dict[str, Any]
    input_hash_part: dict[str, Any]
    run_warnings: list[str]
    capture_warnings: list[dict[str, Any]]
    bound_paths: tuple[str, ...]
    unbound_paths: tuple[str, ...]
    manifest_document: dict[str, Any] = field(repr=False)
    file_contents: Mapping[str, bytes] = field(repr=False)  # basename → verified bytes

    def copy_into(self, stage_dir: Path) -> None:
        """Write ``model/telemetry/<basename>`` (the verified bytes) and the normalised manifest."""
        target = Path(stage_dir) / "model" / "telemetry"
        target.mkdir(parents=True, exist_ok=True)
        for name, data in self.file_contents.items():
            write_file_durably(target / name, data, exclusive=True)
        write_file_durably(
            target / TELEMETRY_MANIFEST_NAME,
            json_file_text(self.manifest_document).encode("utf-8"),
            exclusive=True,
        )


@dataclass(frozen=True)
class ResolvedCapture:
    """A capture directory whose manifest and files have been read and verified."""

    capture_dir: Path
    display_path: str
    manifest: CaptureManifest
    bindings: Mapping[str, str]
    file_contents: Mapping[str, bytes] = field(repr=False)  # manifest path → verified bytes

    def plan_files(self) -> list[PlanFile]:
        return [{"nodeId": f.node_id, "metric": f.metric, "path": f.path} for f in self.manifest.files]

    def plan_warnings(self) -> list[PlanWarning]:
        return [plan_warning(warning) for warning in self.manifest.warnings]

    def check_grid(self, model: Model) -> None:
        """Spec 04 §3.1 step 5: the model's grid must equal the manifest's (``capture_invalid``)."""
        problems = grid_problems(self.manifest, grid_key(model))
        if problems:
            raise capture_invalid(problems)

    def prepare(self, generated: Any, *, max_bins: int = DEFAULT_MAX_BINS) -> PreparedTelemetry:
        """Rewrite a generated catalog model (``GeneratedModel``) for this capture; writes nothing."""
        self.check_grid(generated.model)
        return self.prepare_tree(generated.tree, max_bins=max_bins)

    def prepare_tree(self, tree: Mapping[str, Any], *, max_bins: int = DEFAULT_MAX_BINS) -> PreparedTelemetry:
        """Rewrite a model tree (spec 04 §3.2), re-validate it and dump its text; writes nothing."""
        rewritten, bound, warnings = rewrite_model_tree(tree, capture=self)
        text = dump_model_text(rewritten)
        model = load_model(text, max_bins=max_bins)
        self.check_grid(model)  # the rewrite never changes bins, binSize or binUnit
        manifest = self.manifest
        bound_files = [f for f in manifest.files if f.path in bound]
        return PreparedTelemetry(
            model_text=text,
            model=model,
            tree=rewritten,
            input_hash_part={
                "manifestHash": manifest.manifest_hash,
                "files": {f.path: f.hash for f in bound_files},
            },
            run_warnings=warnings,
            capture_warnings=[dict(w) for w in manifest.warnings],
            bound_paths=tuple(f.path for f in bound_files),
            unbound_paths=tuple(f.path for f in manifest.files if f.path not in bound),
            manifest_document=copy.deepcopy(manifest.document),
            file_contents={f.basename: self.file_contents[f.path] for f in manifest.files},
        )

    # --- mapping sources to manifest files -------------------------------------------------------

    def file_for_path(self, path: str) -> CaptureFile | None:
        for entry in self.manifest.files:
            if entry.path == path:
                return entry
        return None

    def file_for_source(self, source: str, *, field_path: str) -> CaptureFile:
        """The manifest file a const node's ``source`` names (spec 04 §3.2 step 1)."""
        text = source.strip()
        if text[:5].lower() == "file:":
            rest = text[5:]
            if rest.startswith("//"):
                host, _, raw = rest[2:].partition("/")
                if host.lower() == "telemetry":
                    name = unquote(raw)
                    check_relative_path(name, field=field_path, what="Source")
                    found = self.file_for_path(name) or next(
                        (f for f in self.manifest.files if f.basename == name), None
                    )
                    return self._found(found, source, field_path)
                if host == "":
                    return self._absolute_source("/" + raw, source, field_path)
                raise PathForbidden(f"Source '{source}' names host '{host}'.", field=field_path)
            if rest.startswith("/"):
                return self._absolute_source(rest, source, field_path)
            relative = check_relative_path(unquote(rest), field=field_path, what="Source")
            return self._found(self.file_for_path(relative), source, field_path)
        if _SCHEME.match(text):
            raise PathForbidden(f"Source '{source}' uses a scheme other than file:.", field=field_path)
        relative = check_relative_path(text, field=field_path, what="Source")
        return self._found(self.file_for_path(relative), source, field_path)

    def _absolute_source(self, raw: str, source: str, field_path: str) -> CaptureFile:
        decoded = unquote(raw)
        if "\x00" in decoded or "\\" in decoded:
            raise PathForbidden(f"Source '{source}' is not an acceptable path.", field=field_path)
        real = Path(os.path.realpath(decoded))
        root = self.capture_dir
        if os.path.commonpath([str(real), str(root)]) != str(root) or real == root:
            raise PathForbidden(f"Source '{source}' lies outside the capture directory.", field=field_path)
        return self._found(self.file_for_path(real.relative_to(root).as_posix()), source, field_path)

    def _found(self, found: CaptureFile | None, source: str, field_path: str) -> CaptureFile:
        if found is None:
            raise _binding_invalid(field_path, f"Source '{source}' names no file of the capture manifest.")
        return found


def dump_model_text(tree: Mapping[str, Any]) -> str:
    """A bundle's model.yaml text: the canonical writer of spec 01 §6, so its bytes (and modelHash)
    do not depend on the PyYAML version, exactly as for catalog runs."""
    return dump_model_yaml(tree)


def _uri(entry: CaptureFile) -> str:
    return TELEMETRY_URI_PREFIX + entry.basename


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _semantics_key(semantics: Mapping[str, Any], metric_name: str) -> str:
    metric = metric_named(metric_name)
    assert metric is not None
    # Keep a model's alias spelling: writing the canonical key next to it would be "both set".
    for alias in metric.aliases:
        if alias in semantics and metric.key not in semantics:
            return alias
    return metric.key


def rewrite_model_tree(
    tree: Mapping[str, Any], *, capture: ResolvedCapture
) -> tuple[dict[str, Any], set[str], list[str]]:
    """Spec 04 §3.2 on a copy of ``tree``: const sources, semantics and the start time.

    Returns the new tree, the manifest paths it bound and the run warnings.
    """
    out: dict[str, Any] = copy.deepcopy(dict(tree))
    bound: set[str] = set()
    warnings: list[str] = []
    nodes = out.get("nodes")
    node_list = [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []

    def is_const(node: Mapping[str, Any]) -> bool:
        return node.get("kind", "const") == "const"

    # 1. Const sources.
    for i, node in enumerate(nodes if isinstance(nodes, list) else []):
        if not isinstance(node, dict) or not is_const(node):
            continue
        source = node.get("source")
        if not isinstance(source, str) or _is_blank(source):
            continue
        entry = capture.file_for_source(source, field_path=f"nodes[{i}].source")
        node["source"] = _uri(entry)
        bound.add(entry.path)

    # 2. Semantics.
    topology = out.get("topology")
    topo_nodes = topology.get("nodes") if isinstance(topology, dict) else None
    topo_list = [n for n in topo_nodes if isinstance(n, dict)] if isinstance(topo_nodes, list) else []
    const_by_id = {n.get("id"): n for n in node_list if is_const(n)}
    for entry in capture.manifest.files:
        node = _topology_node_for(topo_list, entry.node_id)
        if node is None:
            if entry.path in bound:
                continue  # bound as a const source in step 1; the warning would be untrue
            warnings.append(
                f"Telemetry file '{entry.path}' names node '{entry.node_id}', which is not in the "
                "topology; copied but not bound."
            )
            continue
        semantics = node.get("semantics")
        if not isinstance(semantics, dict):
            semantics = {}
            node["semantics"] = semantics
        key = _semantics_key(semantics, entry.metric)
        old = semantics.get(key)
        target = const_by_id.get(old) if isinstance(old, str) else None
        if target is not None and _is_blank(target.get("source")):
            put_in_order(target, "source", _uri(entry), NODE_KEY_ORDER)
        put_in_order(semantics, key, _uri(entry), SEMANTICS_KEY_ORDER)
        bound.add(entry.path)

    # 3. Start time.
    start = capture.manifest.start_time_utc
    if start is not None:
        text = format_timestamp(parse_timestamp(start, utc_only=True))
        grid = out.get("grid")
        if isinstance(grid, dict):
            grid["startTimeUtc"] = text
        window = out.get("window")
        if isinstance(window, dict) and "start" in window:
            window["start"] = text

    provenance = out.get("provenance")
    if isinstance(provenance, dict) and "modelId" in provenance:
        # The rewrite changed the model, so its identity is recomputed as in spec 01 §6.
        provenance["modelId"] = model_id_of(out)
    return out, bound, warnings


def _topology_node_for(nodes: Sequence[dict[str, Any]], node_id: str) -> dict[str, Any] | None:
    for node in nodes:
        if node.get("id") == node_id:
            return node
    folded = [n for n in nodes if isinstance(n.get("id"), str) and n["id"].lower() == node_id.lower()]
    return folded[0] if len(folded) == 1 else None


def model_id_of(tree: Mapping[str, Any]) -> str:
    """``sha256:`` of the canonical JSON of the model without its top-level ``provenance``."""
    try:
        return sha256_prefixed(canonical_json({k: v for k, v in tree.items() if k != "provenance"}))
    except ValueError as exc:
        raise ModelError([Issue("model_invalid", "", f"The model cannot be identified: {exc}")]) from exc


def resolve_capture_for_run(
    *,
    capture_directory: str,
    base: Path,
    data_root: Path,
    bindings: Mapping[str, str],
    extra_roots: str = "",
    expected_grid: GridKey | None = None,
) -> ResolvedCapture:
    """Resolve, read and verify a capture and check the bindings against it (spec 04 §1, §3.1 1–3,
    and step 5 when ``expected_grid`` is given, so every ``capture_invalid`` problem is reported at once).

    Reads files, writes nothing. Raises ``path_forbidden``, ``capture_not_found``,
    ``capture_invalid``, ``capture_hash_mismatch`` or ``binding_invalid``.
    """
    roots = allowed_roots(data_root=data_root, extra_roots=extra_roots)
    capture_dir = resolve_capture_dir(capture_directory, base=base, roots=roots)
    raw = read_confined_file(capture_dir, MANIFEST_NAME, field="telemetry.captureDirectory")
    if raw is None:
        raise CaptureError(
            "capture_not_found", f"Capture directory '{capture_directory}' has no {MANIFEST_NAME}."
        )
    manifest = parse_manifest(raw)
    contents, file_problems = _verify_files(capture_dir, manifest)
    return _checked_capture(
        capture_dir=capture_dir,
        display_path=_display_path(capture_dir, data_root=data_root, roots=roots),
        manifest=manifest,
        contents=contents,
        file_problems=file_problems,
        bindings=bindings,
        expected_grid=expected_grid,
    )


def resolve_planned_capture(
    *,
    capture_dir: Path,
    display_path: str,
    manifest: CaptureManifest,
    files: Mapping[str, bytes],
    bindings: Mapping[str, str],
    expected_grid: GridKey | None = None,
) -> ResolvedCapture:
    """A capture built in memory (``telemetry.capture.plan_capture``) and not yet published, checked
    exactly as ``resolve_capture_for_run`` checks one on disk (grid, bindings); ``manifest`` is the
    plan's manifest as parsed (``parse_manifest`` of the bytes it publishes)."""
    problems: list[Issue] = []
    contents: dict[str, bytes] = {}
    # The capture writer made these bytes (rows `i,value`, hashed as written), so of the file checks of
    # spec 04 §3.1 step 3 only the row count can fail: a source series of the wrong length.
    for entry in manifest.files:
        data = files.get(entry.path)
        rows = _count_data_rows(data) if data is not None else None
        if data is None:
            problems.append(
                Issue("capture_invalid", entry.path, f"Telemetry file '{entry.path}' was not captured.")
            )
        elif rows != manifest.bins:
            problems.append(
                Issue(
                    "capture_invalid",
                    entry.path,
                    f"Telemetry CSV '{entry.path}' contained {rows} points but expected {manifest.bins}.",
                )
            )
        else:
            contents[entry.path] = data
    return _checked_capture(
        capture_dir=capture_dir,
        display_path=display_path,
        manifest=manifest,
        contents=contents,
        file_problems=problems,
        bindings=bindings,
        expected_grid=expected_grid,
    )


def _checked_capture(
    *,
    capture_dir: Path,
    display_path: str,
    manifest: CaptureManifest,
    contents: Mapping[str, bytes],
    file_problems: list[Issue],
    bindings: Mapping[str, str],
    expected_grid: GridKey | None,
) -> ResolvedCapture:
    if expected_grid is not None:
        file_problems = [*file_problems, *grid_problems(manifest, expected_grid)]
    if file_problems:
        raise capture_invalid(file_problems)
    paths = {f.path for f in manifest.files}
    problems: list[Issue] = []
    for name in sorted(bindings):
        field_path = f"telemetry.bindings.{name}"
        value = check_relative_path(bindings[name], field=field_path, what="Binding")
        if value not in paths:
            problems.append(
                Issue("binding_invalid", field_path, f"'{value}' is not a file of the capture manifest.")
            )
    if problems:
        raise TemplateError(problems)
    return ResolvedCapture(
        capture_dir=capture_dir,
        display_path=display_path,
        manifest=manifest,
        bindings=dict(bindings),
        file_contents=dict(contents),
    )


def grid_key(model: Model) -> GridKey:
    return (model.grid.bins, model.grid.bin_size, model.grid.bin_unit.lower())


# --- model-file runs ---------------------------------------------------------------------------

IdKind = Literal["deterministic", "explicit", "random"]


@dataclass(frozen=True)
class BundleOutcome:
    run_id: str
    was_reused: bool
    mode: str
    template_id: str
    input_hash: str
    bound: int
    unbound: int


def _read_model_file(path: Path) -> dict[str, Any]:
    try:
        data = load_yaml(Path(path).read_bytes())
    except OSError as exc:
        raise InvalidRequest(f"Model file '{path}' cannot be read: {exc.strerror}.") from exc
    except YamlLoadError as exc:
        raise ModelError([Issue("model_invalid", "", exc.message)]) from exc
    if not isinstance(data, dict):
        raise ModelError([Issue("model_invalid", "", "A model must be a YAML mapping")])
    return data


def read_provenance_file(path: Path) -> dict[str, Any]:
    """A provenance document: a JSON object file (``invalid_request`` otherwise)."""
    try:
        return artifacts.read_json_file(Path(path))
    except OSError as exc:
        raise InvalidRequest(f"Provenance file '{path}' cannot be read: {exc.strerror}.") from exc
    except ValueError as exc:
        raise InvalidRequest(f"Provenance file '{path}' is not a JSON object: {exc}") from exc


def bundle_model_file_run(
    *,
    capture: ResolvedCapture,
    model_path: Path,
    data_root: Path,
    engine_version: str,
    provenance_path: Path | None = None,
    run_id: str | None = None,
    deterministic_run_id: bool = False,
    overwrite: bool = False,
    max_bins: int = DEFAULT_MAX_BINS,
    cancel: Callable[[], None] | None = None,
) -> BundleOutcome:
    """Build (or reuse) a telemetry run from a model file (spec 03 §3.3, §4.1 model-file rules)."""
    if run_id is not None and deterministic_run_id:
        raise InvalidRequest("--run-id cannot be combined with --deterministic-run-id.")
    if run_id is not None and not artifacts.is_valid_run_id(run_id):
        raise InvalidRequest("The run id must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$.")
    tree = _read_model_file(model_path)
    supplied = read_provenance_file(provenance_path) if provenance_path is not None else None
    prepared = capture.prepare_tree(tree, max_bins=max_bins)

    meta = prepared.tree.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    template_id = first_text(meta.get("id")) or "adhoc-model"
    template_version = first_text(meta.get("version")) or "0.0.0"
    # Spec 03 §3.3: every run made from a capture is a telemetry run, whatever mode the model file
    # names (it replays recorded series).
    mode = "telemetry"
    input_hash = artifacts.input_hash(
        template_id=template_id,
        template_version=template_version,
        mode=mode,
        parameters={},
        telemetry=prepared.input_hash_part,
        rng_seed=prepared.model.rng_seed,
        model=model_id_of(prepared.tree),
    )
    id_kind: IdKind = "explicit" if run_id else ("deterministic" if deterministic_run_id else "random")
    if id_kind == "deterministic":
        run_id = artifacts.deterministic_run_id(template_id, input_hash)

    def outcome(final_id: str, reused: bool) -> BundleOutcome:
        return BundleOutcome(
            run_id=final_id,
            was_reused=reused,
            mode=mode,
            template_id=template_id,
            input_hash=input_hash,
            bound=len(prepared.bound_paths),
            unbound=len(prepared.unbound_paths),
        )

    runs_root = Path(data_root) / "runs"
    if existing_target(runs_root, run_id, id_kind=id_kind, overwrite=overwrite, input_hash=input_hash):
        return outcome(str(run_id), True)

    def make_content(evaluation: Evaluation, created_utc: datetime) -> artifacts.RunContent:
        return artifacts.RunContent(
            model_text=prepared.model_text,
            model_tree=prepared.tree,
            series=series_of(evaluation),
            grid=grid_of(prepared.model),
            engine_version=engine_version,
            model_seed=prepared.model.rng_seed,
            warnings=prepared.run_warnings,
            input_hash=input_hash,
            provenance=supplied,
            mode=mode,
        )

    result = publish_new_run(
        runs_root=runs_root,
        run_id=run_id,
        id_kind=id_kind,
        overwrite=overwrite,
        input_hash=input_hash,
        model=prepared.model,
        make_content=make_content,
        prepare_stage=prepared.copy_into,
        cancel=cancel,
    )
    return outcome(result.run_id, result.was_reused)


def telemetry_file_counts(run_dir: Path) -> tuple[int, int]:
    """(bound, unbound) manifest files of a published telemetry run, read from its model and manifest.

    A file is bound when its ``file://telemetry/<basename>`` URI is a const source or a semantics
    value of the run's model, which is exactly what the rewrite writes for bound files.
    """
    try:
        document = artifacts.read_json_file(run_dir / "model" / "telemetry" / TELEMETRY_MANIFEST_NAME)
        tree = load_yaml((run_dir / "model" / "model.yaml").read_bytes())
    except (OSError, ValueError) as exc:
        raise FlowtimeError(
            f"Run '{run_dir.name}' has no readable telemetry files: {exc}", "run_invalid", 409
        ) from exc
    model = tree if isinstance(tree, Mapping) else {}
    nodes = model.get("nodes")
    topology = model.get("topology")
    topo_nodes = topology.get("nodes") if isinstance(topology, Mapping) else None
    used: set[str] = set()
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, Mapping) and isinstance(node.get("source"), str):
            used.add(node["source"])
    for node in topo_nodes if isinstance(topo_nodes, list) else []:
        semantics = node.get("semantics") if isinstance(node, Mapping) else None
        if isinstance(semantics, Mapping):
            used.update(v for v in semantics.values() if isinstance(v, str))
    files = document.get("files")
    names = [
        str(f.get("path", "")).rsplit("/", 1)[-1]
        for f in (files if isinstance(files, list) else [])
        if isinstance(f, Mapping)
    ]
    bound = sum(1 for name in names if TELEMETRY_URI_PREFIX + name in used)
    return bound, len(names) - bound
