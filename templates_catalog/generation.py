"""Template + parameters + mode → one engine model (spec 01 §3 phases 2–3, §5, §6).

Phase 2 checks the request (names, values, the bins rule, bindings) and collects every issue; phase 3
hands the generated model to the engine validator, whose codes pass through unchanged. The model text
is canonical: the same inputs give the same bytes, so ``modelId`` and ``modelHash`` repeat.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runs.canonical import canonical_json, format_timestamp, parse_timestamp, sha256_prefixed
from runs.errors import Issue, ModelError, TemplateError
from runs.version import package_version

from .documents import MODES, Template
from .model_yaml import NeedsParsing, dump_model_yaml, format_float, parsed_form
from .parameters import check_value
from .substitution import PLACEHOLDER, substitute_tree

if TYPE_CHECKING:
    from runs.engine import Model

BINDING_FILE_RE = re.compile(r"^[A-Za-z0-9._-]+$")
TELEMETRY_URI_PREFIX = "file://telemetry/"
PROVENANCE_SOURCE = "flowtime-runs"
DEFAULT_GENERATOR = "flowtime-sim"

NODE_KEY_ORDER = ("id", "kind", "values", "source", "expr", "pmf", "sample", "inflow", "outflow", "initial")
_TOPOLOGY_NODE_ORDER = ("id", "kind", "group", "semantics", "initialCondition", "ui")
SEMANTICS_KEY_ORDER = ("arrivals", "served", "errors", "queue", "capacity", "externalDemand", "slaMin")
_SEMANTICS_RENAMES = {"queueDepth": "queue", "external_demand": "externalDemand"}
_EDGE_ORDER = ("id", "from", "to", "weight")


@dataclass(frozen=True)
class GeneratedModel:
    """The generated ``model.yaml`` text, its tree, the validated engine model and its identity."""

    text: str
    tree: dict[str, Any]
    model: Model
    model_id: str
    mode: str
    parameters: dict[str, Any]
    # ``text`` as the YAML loader reads it (shared: never mutated); None when not parsed here.
    document: Any = None


def effective_mode(template: Template, mode: str | None) -> str:
    if mode is None:
        return template.mode
    lowered = mode.lower()
    if lowered not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return lowered


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _const_nodes(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    nodes = doc.get("nodes")
    return [
        n
        for n in (nodes if isinstance(nodes, list) else [])
        if isinstance(n, Mapping) and n.get("kind", "const") == "const"
    ]


def _whole_placeholder(value: Any) -> str | None:
    match = PLACEHOLDER.fullmatch(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return None


def resolve_parameters(
    template: Template,
    requested: Mapping[str, Any],
    *,
    mode: str,
    bindings: Mapping[str, Any],
) -> dict[str, Any]:
    """Phase 2: the effective canonical values in declaration order, or a ``TemplateError``."""
    declared = {spec.name for spec in template.parameters}
    lowered = {spec.name.lower(): spec.name for spec in template.parameters}
    issues: list[Issue] = []
    for name in sorted(str(n) for n in requested if n not in declared):
        hint = lowered.get(name.lower())
        message = f"Unknown parameter '{name}'" + (f"; did you mean '{hint}'?" if hint else "")
        issues.append(Issue("parameter_unknown", f"parameters.{name}", message))

    bound = {name: value for name, value in bindings.items() if name in declared}
    values: dict[str, Any] = {}
    per_parameter: dict[str, list[Issue]] = {}
    for spec in template.parameters:
        path = f"parameters.{spec.name}"
        found: list[Issue] = per_parameter.setdefault(spec.name, [])
        supplied = requested.get(spec.name)
        canonical = copy.deepcopy(spec.default)  # never share the cached template's lists
        if supplied is not None:
            canonical, value_issues = check_value(spec, supplied, path=path)
            found.extend(value_issues)
            if value_issues:
                continue
            if spec.telemetry_bindable and canonical != "":
                found.append(
                    Issue(
                        "parameter_invalid",
                        path,
                        f"{spec.name} is a telemetry source: set it through telemetry bindings, not a value",
                        reason="telemetry_source",
                    )
                )
                continue
        if spec.telemetry_bindable and isinstance(bound.get(spec.name), str):
            values[spec.name] = TELEMETRY_URI_PREFIX + bound[spec.name]
        elif supplied is None and spec.required:
            found.append(Issue("parameter_invalid", path, "a value is required", reason="required"))
        else:
            values[spec.name] = canonical

    bins = _grid_bins(template, values)
    if bins is not None:
        # Telemetry exception (spec 01 §2): a bound file supplies the values of its const node, so the
        # array there is never used and its length is not checked (an omitted value is fine).
        replaced = _bound_array_names(template, bound) if mode == "telemetry" else set()
        for name in _array_value_names(template):
            if name in replaced:
                continue
            value = values.get(name)
            array_spec = template.parameter(name)
            if (
                array_spec is not None
                and array_spec.type == "array"
                and isinstance(value, list)
                and len(value) != bins
            ):
                per_parameter[name].append(
                    Issue(
                        "parameter_invalid",
                        f"parameters.{name}",
                        f"{name} has {len(value)} elements but grid.bins is {bins}",
                        reason="length",
                    )
                )
    for spec in template.parameters:
        issues.extend(per_parameter[spec.name])
    issues.extend(_binding_issues(template, bindings, mode=mode))
    if issues:
        raise TemplateError(issues)
    return values


def _grid_bins(template: Template, values: Mapping[str, Any]) -> int | None:
    """``grid.bins`` after substitution, or ``None`` when a parameter it uses is invalid."""
    grid = template.document.get("grid")
    raw = grid.get("bins") if isinstance(grid, Mapping) else None
    if isinstance(raw, str) and any(m.group(1) not in values for m in PLACEHOLDER.finditer(raw)):
        return None
    return _as_int(substitute_tree(raw, values))


def _array_value_names(template: Template) -> list[str]:
    names: list[str] = []
    for node in _const_nodes(template.document):
        name = _whole_placeholder(node.get("values"))
        if name is not None and name not in names:
            names.append(name)
    return names


def _bound_array_names(template: Template, bound: Mapping[str, Any]) -> set[str]:
    """Array parameters whose every const node (``values`` the whole placeholder) has a whole ``source``
    placeholder that is bound."""
    replaced: set[str] = set()
    used_elsewhere: set[str] = set()
    for node in _const_nodes(template.document):
        array_name = _whole_placeholder(node.get("values"))
        if array_name is None:
            continue
        source_name = _whole_placeholder(node.get("source"))
        if source_name is not None and isinstance(bound.get(source_name), str):
            replaced.add(array_name)
        else:
            used_elsewhere.add(array_name)
    return replaced - used_elsewhere


def _binding_issues(template: Template, bindings: Mapping[str, Any], *, mode: str) -> list[Issue]:
    issues: list[Issue] = []
    for name in sorted(bindings):
        path = f"telemetry.bindings.{name}"
        spec = template.parameter(name)
        file_name = bindings[name]
        if mode != "telemetry":
            message = "telemetry bindings are only allowed in telemetry mode"
        elif spec is None:
            message = f"'{name}' is not a parameter of template '{template.id}'"
        elif not spec.telemetry_bindable:
            message = f"'{name}' is not a telemetry-bindable parameter"
        elif (
            not isinstance(file_name, str)
            or not BINDING_FILE_RE.fullmatch(file_name)
            or file_name
            in {
                ".",
                "..",
            }
        ):
            message = "the file name must match ^[A-Za-z0-9._-]+$ (and not be '.' or '..')"
        else:
            continue
        issues.append(Issue("binding_invalid", path, message))
    return issues


def _ordered(mapping: Mapping[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    return {key: mapping[key] for key in order if key in mapping and not _is_empty(mapping[key])}


def _timestamp_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return format_timestamp(parse_timestamp(value, utc_only=True))
    except ValueError:
        return value  # the engine reports it with its own code


def _pmf(pmf: Any) -> Any:
    if not isinstance(pmf, Mapping):
        return pmf
    if "values" in pmf or "probabilities" in pmf:
        return _ordered(pmf, ("values", "probabilities"))  # policy is accepted but ignored
    # Numeric YAML keys become their number text so the tree stays canonical-JSON-able.
    return {
        (format_float(float(k)) if isinstance(k, int | float) and not isinstance(k, bool) else k): v
        for k, v in pmf.items()
        if k != "policy"
    }


def _node(raw: Mapping[str, Any]) -> dict[str, Any]:
    node = dict(raw)
    if "expression" in node:
        node["expr"] = node.pop("expression")
    if "pmf" in node:
        node["pmf"] = _pmf(node["pmf"])
    return _ordered(node, NODE_KEY_ORDER)


def _topology_node(raw: Mapping[str, Any]) -> dict[str, Any]:
    node = dict(raw)
    semantics = node.get("semantics")
    if isinstance(semantics, Mapping):
        renamed = {_SEMANTICS_RENAMES.get(k) or k: v for k, v in semantics.items()}
        node["semantics"] = _ordered(renamed, SEMANTICS_KEY_ORDER)
    initial = node.get("initialCondition")
    if isinstance(initial, Mapping):
        node["initialCondition"] = _ordered(initial, ("queueDepth",))
    return _ordered(node, _TOPOLOGY_NODE_ORDER)


def _output(raw: Mapping[str, Any]) -> dict[str, Any]:
    series = raw.get("series", raw.get("source"))
    out = {
        "series": "*" if _is_empty(series) else series,
        "exclude": raw.get("exclude"),
        "as": raw.get("as", raw.get("filename")),
    }
    return _ordered(out, ("series", "exclude", "as"))


def build_model_tree(
    template: Template, values: Mapping[str, Any], *, mode: str, seed: int | None = None
) -> dict[str, Any]:
    """The generated model mapping (spec 01 §6), provenance included."""
    doc = substitute_tree({k: v for k, v in template.document.items() if k != "parameters"}, values)
    tree: dict[str, Any] = {
        "schemaVersion": 1,
        "generator": doc.get("generator") or DEFAULT_GENERATOR,
        "mode": mode,
    }
    metadata = doc.get("metadata") or {}
    tree["metadata"] = _ordered(metadata, ("id", "title", "description", "version", "tags"))
    window = doc.get("window")
    if isinstance(window, Mapping):
        window = {**window, "start": _timestamp_text(window.get("start"))}
        if not _is_empty(ordered := _ordered(window, ("start", "timezone"))):
            tree["window"] = ordered
    grid = dict(doc.get("grid") or {})
    start = grid.get("start") or grid.get("startTimeUtc")
    if start is None and isinstance(window, Mapping):
        start = window.get("start")
    grid["startTimeUtc"] = _timestamp_text(start)
    if isinstance(grid.get("binUnit"), str):
        grid["binUnit"] = grid["binUnit"].lower()
    tree["grid"] = _ordered(grid, ("bins", "binSize", "binUnit", "startTimeUtc"))
    topology = doc.get("topology") or {}
    tree["topology"] = _ordered(
        {
            "nodes": [_topology_node(n) for n in topology.get("nodes") or []],
            "edges": [_ordered(e, _EDGE_ORDER) for e in topology.get("edges") or []],
        },
        ("nodes", "edges"),
    )
    tree["nodes"] = [_node(n) for n in doc["nodes"]]
    tree["outputs"] = [_output(o) for o in doc["outputs"]]
    rng = doc.get("rng")
    if seed is not None:
        kind = rng.get("kind") if isinstance(rng, Mapping) and rng.get("kind") else "pcg32"
        rng = {"kind": kind, "seed": seed}
    if isinstance(rng, Mapping) and not _is_empty(rng):
        tree["rng"] = _ordered(rng, ("kind", "seed"))

    model_id = sha256_prefixed(canonical_json(tree))
    source = (doc.get("provenance") or {}).get("source")
    tree["provenance"] = {
        "source": source or PROVENANCE_SOURCE,
        "generator": f"flowtime-runs/{package_version()}",
        "templateId": template.id,
        "templateVersion": template.version,
        "mode": mode,
        "modelId": model_id,
        "schemaVersion": 1,
        "parameters": copy.deepcopy(dict(values)),
    }
    return tree


def generate_model(
    template: Template,
    *,
    parameters: Mapping[str, Any],
    mode: str | None = None,
    bindings: Mapping[str, str] | None = None,
    seed: int | None = None,
    max_bins: int = 10000,
) -> GeneratedModel:
    """Validate the request, generate the canonical model and validate it with the engine."""
    from runs.engine import load_model

    mode = effective_mode(template, mode)
    values = resolve_parameters(template, parameters, mode=mode, bindings=bindings or {})
    tree = build_model_tree(template, values, mode=mode, seed=seed)
    text = dump_model_yaml(tree)
    # The engine validates the written text as a reader gets it back (``parsed_form`` is exactly
    # ``load_yaml(text)``, without parsing it), so what it validates is what a run stores. The run
    # writer hands this document on to the readers of the staged model.yaml.
    try:
        document = parsed_form(tree)
    except NeedsParsing:
        document = None
    try:
        model = load_model(text if document is None else document, max_bins=max_bins)
    except ModelError as exc:
        raise TemplateError(exc.errors) from exc
    return GeneratedModel(
        text=text,
        tree=tree,
        model=model,
        model_id=tree["provenance"]["modelId"],
        mode=mode,
        parameters=values,
        document=document,
    )


def trial_generate(template: Template) -> None:
    """Load phase: generation with the defaults in the template's own mode must pass.

    Request-phase issues here are the defaults' fault, so they are reported as ``template_invalid`` at
    the parameter definition. A template with required parameters has no defaults to try.
    """
    if any(spec.required for spec in template.parameters):
        return
    try:
        generate_model(template, parameters={})
    except TemplateError as exc:
        positions = {spec.name: index for index, spec in enumerate(template.parameters)}
        issues = []
        for issue in exc.errors:
            match = re.match(r"^parameters\.([A-Za-z_][A-Za-z0-9_]*)(.*)$", issue.path)
            if match and issue.code == "parameter_invalid" and match.group(1) in positions:
                path = f"parameters[{positions[match.group(1)]}].default{match.group(2)}"
                issues.append(Issue("template_invalid", path, f"default: {issue.message}"))
            else:
                issues.append(issue)
        raise TemplateError(issues) from exc
