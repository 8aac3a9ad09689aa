"""Load and validate one template file (spec 01 §1, §2, §3 phase 1).

``load_template`` reads the file, checks the document, the parameter definitions and defaults, every
placeholder and the node dependencies, then generates a trial model with the defaults in the template's
own mode. Every issue of the phase is raised together as one ``TemplateError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runs.canonical import parse_timestamp, sha256_prefixed
from runs.engine.yaml_loader import YamlLoadError, load_yaml
from runs.errors import Issue, TemplateError

from .parameters import ParameterSpec, parse_parameter_definitions
from .substitution import PLACEHOLDER, scan_placeholders

MAX_TEMPLATE_BYTES = 1024 * 1024
MODES = ("simulation", "telemetry")
ROOT_PATH = "$"

TEMPLATE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", re.ASCII)

_TOP_KEYS = (
    "schemaVersion",
    "generator",
    "mode",
    "metadata",
    "window",
    "parameters",
    "grid",
    "topology",
    "nodes",
    "outputs",
    "rng",
    "provenance",
)
_METADATA_KEYS = frozenset({"id", "title", "version", "description", "tags"})
_WINDOW_KEYS = frozenset({"start", "timezone"})
_GRID_KEYS = frozenset({"bins", "binSize", "binUnit", "start", "startTimeUtc"})
_TOPOLOGY_KEYS = frozenset({"nodes", "edges"})
_TOPOLOGY_NODE_KEYS = frozenset({"id", "kind", "group", "semantics", "initialCondition", "ui"})
_SEMANTICS_KEYS = frozenset(
    {
        "arrivals",
        "served",
        "errors",
        "queue",
        "queueDepth",
        "capacity",
        "externalDemand",
        "external_demand",
        "slaMin",
    }
)
_SEMANTICS_SERIES_KEYS = (
    "arrivals",
    "served",
    "errors",
    "queue",
    "queueDepth",
    "capacity",
    "externalDemand",
    "external_demand",
)
_INITIAL_CONDITION_KEYS = frozenset({"queueDepth"})
_EDGE_KEYS = frozenset({"id", "from", "to", "weight"})
_NODE_KEYS = frozenset(
    {
        "id",
        "kind",
        "values",
        "source",
        "expr",
        "expression",
        "pmf",
        "sample",
        "inflow",
        "outflow",
        "initial",
        "dependencies",
    }
)
_OUTPUT_KEYS = frozenset({"series", "source", "exclude", "as", "filename", "id", "description"})
_RNG_KEYS = frozenset({"kind", "seed"})
_PROVENANCE_KEYS = frozenset(
    {"source", "generator", "templateId", "templateVersion", "mode", "modelId", "schemaVersion", "parameters"}
)
# Pairs that name one field twice: (key, alias).
_ALIASES = {
    "node": (("expr", "expression"),),
    "output": (("series", "source"), ("as", "filename")),
    "semantics": (("queue", "queueDepth"), ("externalDemand", "external_demand")),
}

_TOKEN_RE = re.compile(r"\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))", re.ASCII)


@dataclass(frozen=True)
class Template:
    """A valid template: its metadata, its parameter specs and the parsed document."""

    id: str
    title: str
    version: str
    description: str
    tags: tuple[str, ...]
    mode: str
    parameters: tuple[ParameterSpec, ...]
    file_hash: str
    file_name: str
    document: dict[str, Any]

    def parameter(self, name: str) -> ParameterSpec | None:
        for spec in self.parameters:
            if spec.name == name:
                return spec
        return None


def expression_references(text: str) -> set[str]:
    """Node ids an expression references: identifiers not followed by ``(``; placeholders count as numbers."""
    text = PLACEHOLDER.sub(" 0 ", text)
    refs: set[str] = set()
    tokens = [(m.group(1), m.group(2), m.group(3)) for m in _TOKEN_RE.finditer(text)]
    for index, (_number, ident, _other) in enumerate(tokens):
        if ident is None:
            continue
        following = tokens[index + 1][2] if index + 1 < len(tokens) else None
        if following != "(":
            refs.add(ident)
    return refs


def _walk_strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk_strings(value, _join(path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk_strings(item, f"{path}[{index}]")


def _walk_keys(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield _join(path, key), key
            yield from _walk_keys(value, _join(path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk_keys(item, f"{path}[{index}]")


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


class _Checker:
    """Collects template_invalid issues while walking the document."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, path: str, message: str, code: str = "template_invalid") -> None:
        self.issues.append(Issue(code, path, message))

    def keys(self, mapping: Mapping[Any, Any], allowed: frozenset[str] | tuple[str, ...], path: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.add(_join(path, key), f"unknown key '{key}'")

    def mapping(self, value: Any, path: str, *, required: bool = False) -> Mapping[Any, Any] | None:
        if value is None:
            if required:
                self.add(path, f"{path} is required")
            return None
        if not isinstance(value, Mapping):
            self.add(path, f"{path} must be a mapping")
            return None
        return value

    def list_of_mappings(self, value: Any, path: str, *, required: bool, min_items: int = 0) -> list[Any]:
        if value is None:
            if required:
                self.add(path, f"{path} is required")
            return []
        if not isinstance(value, list):
            self.add(path, f"{path} must be a list")
            return []
        if len(value) < min_items:
            self.add(path, f"{path} needs at least {min_items} item{'s' if min_items > 1 else ''}")
        for index, item in enumerate(value):
            if not isinstance(item, Mapping):
                self.add(f"{path}[{index}]", "must be a mapping")
        return value

    def aliases(self, mapping: Mapping[Any, Any], which: str, path: str) -> None:
        for key, alias in _ALIASES[which]:
            if key in mapping and alias in mapping:
                self.add(_join(path, alias), f"use either {key} or {alias}, not both")

    def optional_str(self, mapping: Mapping[Any, Any], key: str, path: str) -> None:
        if mapping.get(key) is not None and not isinstance(mapping[key], str):
            self.add(_join(path, key), f"{key} must be a string")


def _literal(value: Any) -> bool:
    return isinstance(value, str) and "${" not in value


def _check_timestamp(check: _Checker, value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        check.add(path, "must be an ISO-8601 timestamp string")
        return None
    if "${" in value:
        return None
    try:
        parsed = parse_timestamp(value, utc_only=True)
    except ValueError as exc:
        check.add(path, str(exc))
        return None
    return parsed.isoformat()


def _check_document(doc: Mapping[Any, Any], check: _Checker) -> None:
    check.keys(doc, _TOP_KEYS, "")
    version = doc.get("schemaVersion")
    if version is not None and (version not in (1, "1") or isinstance(version, bool)):
        check.add("schemaVersion", "schemaVersion must be 1")
    generator = doc.get("generator")
    if generator is not None and not (
        isinstance(generator, str) and generator.lower().startswith("flowtime-sim")
    ):
        check.add("generator", "generator must start with 'flowtime-sim'")
    mode = doc.get("mode")
    if mode is not None and not (isinstance(mode, str) and mode.lower() in MODES):
        check.add("mode", "mode must be 'simulation' or 'telemetry'")

    metadata = check.mapping(doc.get("metadata"), "metadata", required=True)
    if metadata is not None:
        check.keys(metadata, _METADATA_KEYS, "metadata")
        template_id = metadata.get("id")
        if not (isinstance(template_id, str) and TEMPLATE_ID_RE.fullmatch(template_id)):
            check.add("metadata.id", "id must match ^[a-z0-9][a-z0-9-]{0,63}$")
        title = metadata.get("title")
        if not (isinstance(title, str) and title.strip()):
            check.add("metadata.title", "title must be a non-empty string")
        template_version = metadata.get("version")
        if not (isinstance(template_version, str) and VERSION_RE.fullmatch(template_version)):
            check.add("metadata.version", "version must look like 1.2.3 (optionally -suffix)")
        check.optional_str(metadata, "description", "metadata")
        tags = metadata.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            check.add("metadata.tags", "tags must be a list of strings")

    window_start = None
    window = check.mapping(doc.get("window"), "window")
    if window is not None:
        check.keys(window, _WINDOW_KEYS, "window")
        window_start = _check_timestamp(check, window.get("start"), "window.start")
        timezone = window.get("timezone")
        if timezone is not None and timezone != "UTC":
            check.add("window.timezone", "timezone must be UTC")

    grid = check.mapping(doc.get("grid"), "grid", required=True)
    if grid is not None:
        check.keys(grid, _GRID_KEYS, "grid")
        for key in ("start", "startTimeUtc"):
            start = _check_timestamp(check, grid.get(key), f"grid.{key}")
            if start is not None and window_start is not None and start != window_start:
                check.add(f"grid.{key}", f"grid.{key} must agree with window.start")
            if start is not None and window_start is None:
                window_start = start

    node_ids = _check_nodes(doc, check)
    _check_topology(doc, check, node_ids)

    for index, output in enumerate(
        check.list_of_mappings(doc.get("outputs"), "outputs", required=True, min_items=1)
    ):
        if isinstance(output, Mapping):
            path = f"outputs[{index}]"
            check.keys(output, _OUTPUT_KEYS, path)
            check.aliases(output, "output", path)

    rng = check.mapping(doc.get("rng"), "rng")
    if rng is not None:
        check.keys(rng, _RNG_KEYS, "rng")
        kind = rng.get("kind")
        if _literal(kind) and str(kind).lower() != "pcg32":
            check.add("rng.kind", "rng.kind must be pcg32")
    provenance = check.mapping(doc.get("provenance"), "provenance")
    if provenance is not None:
        check.keys(provenance, _PROVENANCE_KEYS, "provenance")
        check.optional_str(provenance, "source", "provenance")


def _check_nodes(doc: Mapping[Any, Any], check: _Checker) -> set[str]:
    nodes = check.list_of_mappings(doc.get("nodes"), "nodes", required=True, min_items=1)
    ids = {n["id"] for n in nodes if isinstance(n, Mapping) and _literal(n.get("id"))}
    for index, node in enumerate(nodes):
        if not isinstance(node, Mapping):
            continue
        path = f"nodes[{index}]"
        check.keys(node, _NODE_KEYS, path)
        check.aliases(node, "node", path)
        pmf = node.get("pmf")
        if isinstance(pmf, Mapping) and ("values" in pmf or "probabilities" in pmf):
            check.keys(pmf, ("values", "probabilities", "policy"), f"{path}.pmf")
        dependencies = node.get("dependencies")
        if dependencies is None or dependencies == []:
            continue
        if not (isinstance(dependencies, list) and all(isinstance(d, str) for d in dependencies)):
            check.add(f"{path}.dependencies", "dependencies must be a list of node ids")
            continue
        refs: set[str] = set()
        expression = node.get("expr", node.get("expression"))
        if isinstance(expression, str):
            refs |= expression_references(expression)
        for key in ("inflow", "outflow"):
            if _literal(node.get(key)):
                refs.add(node[key])
        if set(dependencies) != refs:
            check.add(
                f"{path}.dependencies",
                f"dependencies [{', '.join(sorted(set(dependencies)))}] do not match the referenced ids "
                f"[{', '.join(sorted(refs))}]",
            )
    return ids


def _check_topology(doc: Mapping[Any, Any], check: _Checker, node_ids: set[str]) -> None:
    topology = check.mapping(doc.get("topology"), "topology", required=True)
    if topology is None:
        return
    check.keys(topology, _TOPOLOGY_KEYS, "topology")
    nodes = check.list_of_mappings(topology.get("nodes"), "topology.nodes", required=True)
    for index, node in enumerate(nodes):
        if not isinstance(node, Mapping):
            continue
        path = f"topology.nodes[{index}]"
        check.keys(node, _TOPOLOGY_NODE_KEYS, path)
        initial = check.mapping(node.get("initialCondition"), f"{path}.initialCondition")
        if initial is not None:
            check.keys(initial, _INITIAL_CONDITION_KEYS, f"{path}.initialCondition")
        semantics = check.mapping(node.get("semantics"), f"{path}.semantics", required=True)
        if semantics is None:
            continue
        spath = f"{path}.semantics"
        check.keys(semantics, _SEMANTICS_KEYS, spath)
        check.aliases(semantics, "semantics", spath)
        for key in ("arrivals", "served"):
            if semantics.get(key) in (None, ""):
                check.add(f"{spath}.{key}", f"every topology node needs semantics.{key}")
        for key in _SEMANTICS_SERIES_KEYS:
            value = semantics.get(key)
            if value in (None, ""):
                continue
            if not isinstance(value, str):
                check.add(f"{spath}.{key}", "must be a node id")
            elif "${" not in value and value not in node_ids:
                check.add(f"{spath}.{key}", f"'{value}' is not a node id")
    for index, edge in enumerate(
        check.list_of_mappings(topology.get("edges"), "topology.edges", required=False)
    ):
        if isinstance(edge, Mapping):
            check.keys(edge, _EDGE_KEYS, f"topology.edges[{index}]")


def _check_placeholders(doc: Mapping[Any, Any], declared: set[str], check: _Checker) -> None:
    for path, key in _walk_keys(doc, ""):
        if isinstance(key, str) and "${" in key:
            check.add(path, "a placeholder is not allowed in a key")
    for key, value in doc.items():
        if key == "parameters":
            continue
        for path, text in _walk_strings(value, str(key)):
            scan = scan_placeholders(text)
            for offset in scan.malformed:
                check.add(path, f"malformed placeholder at offset {offset}: use ${{name}}")
            for name in scan.names:
                if name not in declared:
                    check.add(path, f"unknown placeholder '${{{name}}}'", code="placeholder_unknown")


def bindable_parameter_names(doc: Mapping[Any, Any]) -> frozenset[str]:
    """Parameters whose placeholder is the whole ``source`` of a const node (spec 01 §2)."""
    names: set[str] = set()
    nodes = doc.get("nodes")
    for node in nodes if isinstance(nodes, list) else []:
        if (
            isinstance(node, Mapping)
            and node.get("kind", "const") == "const"
            and isinstance(node.get("source"), str)
        ):
            match = PLACEHOLDER.fullmatch(node["source"])
            if match:
                names.add(match.group(1))
    return frozenset(names)


def parse_template(data: bytes, *, file_name: str) -> Template:
    """Validate the document and parameter definitions (no trial generation)."""
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateError([Issue("template_invalid", ROOT_PATH, "the template is larger than 1 MiB")])
    try:
        doc = load_yaml(data)
    except YamlLoadError as exc:
        raise TemplateError([Issue("template_invalid", ROOT_PATH, exc.message)]) from exc
    if not isinstance(doc, dict):
        raise TemplateError([Issue("template_invalid", ROOT_PATH, "a template must be a YAML mapping")])
    check = _Checker()
    _check_document(doc, check)
    specs, parameter_issues = parse_parameter_definitions(
        doc.get("parameters"), bindable=bindable_parameter_names(doc)
    )
    check.issues.extend(parameter_issues)
    raw_parameters = doc.get("parameters")
    declared = {
        p["name"]
        for p in (raw_parameters if isinstance(raw_parameters, list) else [])
        if isinstance(p, Mapping) and isinstance(p.get("name"), str)
    }
    _check_placeholders(doc, declared, check)
    if check.issues:
        raise TemplateError(check.issues)
    metadata = doc["metadata"]
    return Template(
        id=metadata["id"],
        title=metadata["title"],
        version=metadata["version"],
        description=metadata.get("description") or "",
        tags=tuple(metadata.get("tags") or ()),
        mode=str(doc.get("mode") or "simulation").lower(),
        parameters=tuple(specs),
        file_hash=sha256_prefixed(data),
        file_name=file_name,
        document=doc,
    )


def load_template(path: Path, *, trial_generation: bool = True) -> Template:
    """Load a template file and run every load-phase check; raise ``TemplateError`` with all issues."""
    with path.open("rb") as handle:
        data = handle.read(MAX_TEMPLATE_BYTES + 1)
    template = parse_template(data, file_name=path.name)
    if trial_generation:
        from .generation import trial_generate  # generation imports this module

        trial_generate(template)
    return template
