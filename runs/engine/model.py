"""The model schema and its validation (spec 02 §1–§5, §9, §10).

``load_model`` turns YAML text or a mapping into an immutable ``Model``: every issue is collected
in document order (grid, nodes, topology, outputs, rng, then the cycle check) and raised together.
Every expression is parsed and compiled here, once.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from runs.canonical import parse_timestamp
from runs.engine.expressions import (
    Expr,
    ExpressionSyntaxError,
    Program,
    check_expression,
    compile_expression,
    expression_inputs,
    parse_expression,
)
from runs.engine.ordering import cycle_members, kahn_order
from runs.engine.rng import SEED_MAX_EXCLUSIVE, SEED_MIN
from runs.engine.sources import parse_file_uri
from runs.engine.yaml_loader import YamlLoadError, load_yaml
from runs.errors import Issue, ModelError

DEFAULT_MAX_BINS = 10000
MAX_BIN_SIZE = 1000
NODE_KINDS = ("const", "expr", "pmf", "backlog")
BIN_UNIT_MINUTES: dict[str, int] = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080}
# Canonical semantics keys and the alias each may be written as.
SEMANTICS_KEYS: tuple[tuple[str, str | None], ...] = (
    ("arrivals", None),
    ("served", None),
    ("errors", None),
    ("queue", "queueDepth"),
    ("capacity", None),
    ("externalDemand", "external_demand"),
)

_NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_INT_TEXT = re.compile(r"^\s*([+-]?\d+)\s*$", re.ASCII)
_NUMBER_TEXT = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$", re.ASCII)


@dataclass(frozen=True, slots=True)
class Grid:
    """The time grid: ``bins`` bins of ``bin_size`` ``bin_unit`` each, from an optional UTC start."""

    bins: int
    bin_size: int
    bin_unit: str
    start_time_utc: datetime | None

    @property
    def bin_minutes(self) -> float:
        return float(self.bin_size * BIN_UNIT_MINUTES[self.bin_unit])

    def bin_start(self, i: int) -> datetime | None:
        """The start of bin ``i``, or ``None`` when the grid has no start time."""
        if self.start_time_utc is None:
            return None
        return self.start_time_utc + timedelta(minutes=i * self.bin_minutes)


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One validated node. Fields of other kinds are ``None``; ``values`` is ``None`` when ``source`` wins.

    For a backlog, ``initial`` is the resolved Q[−1]. ``pmf_probabilities`` are as written (not
    normalised). ``inputs`` are the distinct node ids this node reads.
    """

    id: str
    kind: str
    values: tuple[float, ...] | None = None
    source: str | None = None
    expr: str | None = None
    pmf_values: tuple[float, ...] | None = None
    pmf_probabilities: tuple[float, ...] | None = None
    sample: bool = False
    inflow: str | None = None
    outflow: str | None = None
    initial: float | None = None
    inputs: tuple[str, ...] = ()
    expr_tree: Expr | None = field(default=None, repr=False, compare=False)
    program: Program | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class TopologyNode:
    """A topology node; ``semantics`` has every canonical key (aliases folded in), ``None`` if unset."""

    id: str
    kind: str
    group: str | None
    semantics: Mapping[str, str | None]
    sla_min: float | None
    initial_queue_depth: float | None

    @property
    def is_queue(self) -> bool:
        return self.kind.lower() == "queue"


@dataclass(frozen=True, slots=True)
class Edge:
    id: str | None
    from_node: str
    from_port: str | None
    to_node: str
    to_port: str | None
    weight: float


@dataclass(frozen=True, slots=True)
class OutputSpec:
    series: str
    exclude: tuple[str, ...]
    as_name: str | None


@dataclass(frozen=True, slots=True)
class Model:
    """A validated model; ``order`` is the evaluation order (spec 02 §7)."""

    schema_version: int
    grid: Grid
    nodes: tuple[NodeSpec, ...]
    topology: tuple[TopologyNode, ...]
    edges: tuple[Edge, ...]
    outputs: tuple[OutputSpec, ...]
    rng_kind: str | None
    rng_seed: int | None
    raw: Mapping[str, Any]
    order: tuple[str, ...] = ()
    _by_id: dict[str, NodeSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {n.id: n for n in self.nodes})

    def node(self, node_id: str) -> NodeSpec:
        """The node with this id; ``KeyError`` if there is none."""
        return self._by_id[node_id]


# --- small value readers -----------------------------------------------------------------------


def _as_int(value: Any) -> int | None:
    """An int, an integral float or a decimal string as an int; anything else (bools too) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        m = _INT_TEXT.match(value)
        return int(m.group(1)) if m else None
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _all_numbers(values: list[Any]) -> bool:
    # Type set first: models carry 10⁵–10⁶ values and a per-item isinstance chain dominates loading.
    if set(map(type, values)) <= {int, float}:
        return True
    return all(_is_number(v) for v in values)


def _finite_non_negative(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value) and value >= 0


# --- the validator -----------------------------------------------------------------------------


@dataclass
class _NodeCheck:
    spec: NodeSpec | None
    inputs: list[str]


class _Validator:
    def __init__(self, doc: Mapping[str, Any], max_bins: int) -> None:
        self.doc = doc
        self.max_bins = max_bins
        self.node_ids: dict[str, int] = {}
        self.grid: Grid | None = None

    def run(self) -> Model:
        header = self.check_header()
        grid_issues = self.check_grid()
        raw_nodes, node_structure = self.collect_node_ids()
        topology, edges, queue_depths, topology_issues = self.check_topology()
        node_issues: list[Issue] = list(node_structure)
        checks = [self.check_node(i, raw, queue_depths, node_issues) for i, raw in enumerate(raw_nodes)]
        outputs, output_issues = self.check_outputs()
        rng_kind, rng_seed, rng_issues = self.check_rng(checks)
        order, graph_issues = self.check_graph(checks)
        issues = [
            *header,
            *grid_issues,
            *node_issues,
            *topology_issues,
            *output_issues,
            *rng_issues,
            *graph_issues,
        ]
        if issues:
            raise ModelError(issues)
        assert self.grid is not None
        nodes = tuple(self.compiled(check.spec) for check in checks if check.spec is not None)
        return Model(
            schema_version=1,
            grid=self.grid,
            nodes=nodes,
            topology=tuple(topology),
            edges=tuple(edges),
            outputs=tuple(outputs),
            rng_kind=rng_kind,
            rng_seed=rng_seed,
            raw=self.doc,
            order=tuple(order),
        )

    def compiled(self, spec: NodeSpec) -> NodeSpec:
        if spec.expr_tree is None:
            return spec
        assert self.grid is not None
        program = compile_expression(spec.expr_tree, self.grid.bins)
        return replace(spec, program=program)

    # header ------------------------------------------------------------------------------------

    def check_header(self) -> list[Issue]:
        issues: list[Issue] = []
        if "schemaVersion" in self.doc:
            version = self.doc["schemaVersion"]
            if _as_int(version) != 1:
                issues.append(Issue("model_invalid", "schemaVersion", "schemaVersion must be 1"))
        if "arrivals" in self.doc:
            issues.append(
                Issue(
                    "model_invalid",
                    "arrivals",
                    "Top-level 'arrivals' is a legacy form; define a const node in nodes instead",
                )
            )
        if "route" in self.doc:
            issues.append(
                Issue(
                    "model_invalid",
                    "route",
                    "Top-level 'route' is a legacy form; describe the flow with topology instead",
                )
            )
        return issues

    # grid --------------------------------------------------------------------------------------

    def check_grid(self) -> list[Issue]:
        raw = self.doc.get("grid")
        if raw is None:
            return [Issue("model_invalid", "grid", "grid is required")]
        if not isinstance(raw, Mapping):
            return [Issue("model_invalid", "grid", "grid must be a mapping")]
        issues: list[Issue] = []
        legacy = "binMinutes" in raw
        if legacy:
            issues.append(
                Issue(
                    "model_invalid",
                    "grid.binMinutes",
                    "grid.binMinutes is a legacy form; use binSize and binUnit instead",
                )
            )
        bins = _as_int(raw.get("bins"))
        if bins is None or not 1 <= bins <= self.max_bins:
            issues.append(
                Issue("grid_invalid", "grid.bins", f"grid.bins must be an integer from 1 to {self.max_bins}")
            )
        size = _as_int(raw.get("binSize"))
        if (size is None or not 1 <= size <= MAX_BIN_SIZE) and not (legacy and "binSize" not in raw):
            issues.append(
                Issue(
                    "grid_invalid",
                    "grid.binSize",
                    f"grid.binSize must be an integer from 1 to {MAX_BIN_SIZE}",
                )
            )
        unit_raw = raw.get("binUnit")
        unit = unit_raw.lower() if isinstance(unit_raw, str) else None
        if unit not in BIN_UNIT_MINUTES and not (legacy and "binUnit" not in raw):
            issues.append(
                Issue("grid_invalid", "grid.binUnit", "grid.binUnit must be minutes, hours, days or weeks")
            )
        start: datetime | None = None
        start_raw = raw.get("startTimeUtc")
        if isinstance(start_raw, str):
            try:
                start = parse_timestamp(start_raw, utc_only=True)
            except ValueError as exc:
                issues.append(Issue("grid_invalid", "grid.startTimeUtc", f"grid.startTimeUtc: {exc}"))
        elif isinstance(start_raw, datetime):
            offset = start_raw.utcoffset()
            if offset is not None and offset != timedelta(0):
                issues.append(Issue("grid_invalid", "grid.startTimeUtc", "grid.startTimeUtc must be in UTC"))
            start = start_raw.replace(tzinfo=UTC)
        elif start_raw is not None:
            issues.append(
                Issue("grid_invalid", "grid.startTimeUtc", "grid.startTimeUtc must be an ISO-8601 instant")
            )
        if not issues:
            assert bins is not None and size is not None and unit is not None
            self.grid = Grid(bins, size, unit, start)
        return issues

    # nodes -------------------------------------------------------------------------------------

    def collect_node_ids(self) -> tuple[list[Any], list[Issue]]:
        """The raw node list and the ids usable as references (first definition of each valid id)."""
        raw = self.doc.get("nodes")
        if raw is None:
            return [], [Issue("model_invalid", "nodes", "nodes is required")]
        if isinstance(raw, Mapping):
            return [], [Issue("model_invalid", "nodes", "nodes must be a list, not a mapping")]
        if not isinstance(raw, list):
            return [], [Issue("model_invalid", "nodes", "nodes must be a list")]
        if not raw:
            return [], [Issue("model_invalid", "nodes", "nodes must contain at least one node")]
        for i, node in enumerate(raw):
            if isinstance(node, Mapping):
                node_id = node.get("id")
                if isinstance(node_id, str) and _NODE_ID.fullmatch(node_id) and node_id not in self.node_ids:
                    self.node_ids[node_id] = i
        return raw, []

    def check_node(
        self, i: int, raw: Any, queue_depths: Mapping[str, float], issues: list[Issue]
    ) -> _NodeCheck:
        path = f"nodes[{i}]"
        none = _NodeCheck(None, [])
        if not isinstance(raw, Mapping):
            issues.append(Issue("model_invalid", path, "A node must be a mapping"))
            return none
        node_id = raw.get("id")
        valid_id = isinstance(node_id, str) and self.node_ids.get(node_id) == i
        label = node_id if isinstance(node_id, str) else path
        if node_id is None:
            issues.append(Issue("model_invalid", f"{path}.id", "A node needs an id"))
        elif not isinstance(node_id, str) or not _NODE_ID.fullmatch(node_id):
            issues.append(
                Issue(
                    "model_invalid",
                    f"{path}.id",
                    f"Node id '{node_id}' is invalid: use up to 128 letters, digits or '_', "
                    "not starting with a digit",
                )
            )
        elif not valid_id:
            issues.append(Issue("model_invalid", f"{path}.id", f"Duplicate node id '{node_id}'"))
        legacy_expression = "expression" in raw
        if legacy_expression:
            issues.append(
                Issue(
                    "model_invalid",
                    f"{path}.expression",
                    f"Node {label}: 'expression' is a legacy key; use 'expr' instead",
                )
            )
        kind = raw.get("kind")
        kind = "const" if kind is None else kind
        if kind not in NODE_KINDS:
            issues.append(
                Issue(
                    "model_invalid",
                    f"{path}.kind",
                    f"Node {label}: unknown kind '{kind}'; use const, expr, pmf or backlog",
                )
            )
            return none
        before = len(issues)
        spec_fields: dict[str, Any] = {}
        inputs: list[str] = []
        if kind == "const":
            spec_fields = self.check_const(path, label, raw, issues)
        elif kind == "expr":
            spec_fields, inputs = self.check_expr(path, raw, legacy_expression, issues)
        elif kind == "pmf":
            spec_fields = self.check_pmf(path, label, raw, issues)
        else:
            spec_fields = self.check_backlog(path, label, raw, queue_depths, issues)
            inputs = [n for n in dict.fromkeys((spec_fields["inflow"], spec_fields["outflow"])) if n]
        # Unknown references are left out of the cycle check (spec 02 §10).
        inputs = [n for n in inputs if n in self.node_ids]
        if not valid_id:
            return none
        assert isinstance(node_id, str)
        spec = None
        if len(issues) == before:
            spec = NodeSpec(id=node_id, kind=kind, inputs=tuple(inputs), **spec_fields)
        return _NodeCheck(spec, inputs)

    def check_const(
        self, path: str, label: str, raw: Mapping[str, Any], issues: list[Issue]
    ) -> dict[str, Any]:
        source = raw.get("source")
        if source is not None and source != "":
            if not isinstance(source, str):
                issues.append(
                    Issue("model_invalid", f"{path}.source", f"Node {label}: source must be a file: URI")
                )
                return {}
            parsed = parse_file_uri(source)
            if isinstance(parsed, str):
                issues.append(Issue("source_invalid", f"{path}.source", parsed))
            return {"source": source}
        values = raw.get("values")
        if values is None:
            issues.append(
                Issue(
                    "model_invalid", f"{path}.values", f"Node {label}: a const node needs values or a source"
                )
            )
            return {}
        if not isinstance(values, list) or not _all_numbers(values):
            issues.append(
                Issue("model_invalid", f"{path}.values", f"Node {label}: values must be a list of numbers")
            )
            return {}
        if self.grid is not None and len(values) != self.grid.bins:
            issues.append(
                Issue(
                    "values_length_mismatch",
                    f"{path}.values",
                    f"Node {label}: values length {len(values)} != grid length {self.grid.bins}",
                )
            )
        return {"values": tuple(map(float, values))}

    def check_expr(
        self, path: str, raw: Mapping[str, Any], legacy: bool, issues: list[Issue]
    ) -> tuple[dict[str, Any], list[str]]:
        text = raw.get("expr")
        if not isinstance(text, str) or not text.strip():
            if not legacy or "expr" in raw:
                issues.append(
                    Issue("model_invalid", f"{path}.expr", "An expr node needs a non-blank 'expr' string")
                )
            return {}, []
        try:
            tree = parse_expression(text)
        except ExpressionSyntaxError as exc:
            issues.append(Issue("expr_syntax", f"{path}.expr", exc.message, position=exc.position))
            return {}, []
        for problem in check_expression(tree, self.node_ids):
            issues.append(Issue(problem.code, f"{path}.expr", problem.message, position=problem.position))
        return {"expr": text, "expr_tree": tree}, expression_inputs(tree)

    def check_pmf(self, path: str, label: str, raw: Mapping[str, Any], issues: list[Issue]) -> dict[str, Any]:
        sample = raw.get("sample", False)
        sample = False if sample is None else sample
        if not isinstance(sample, bool):
            issues.append(
                Issue("model_invalid", f"{path}.sample", f"Node {label}: sample must be true or false")
            )
        parsed = _parse_pmf(raw.get("pmf"))
        if isinstance(parsed, str):
            issues.append(Issue("pmf_invalid", f"{path}.pmf", f"Node {label}: {parsed}"))
            return {}
        values, probabilities = parsed
        return {"pmf_values": values, "pmf_probabilities": probabilities, "sample": sample is True}

    def check_backlog(
        self,
        path: str,
        label: str,
        raw: Mapping[str, Any],
        queue_depths: Mapping[str, float],
        issues: list[Issue],
    ) -> dict[str, Any]:
        refs: dict[str, str | None] = {}
        for key in ("inflow", "outflow"):
            ref = raw.get(key)
            refs[key] = None
            if not isinstance(ref, str) or not ref:
                issues.append(
                    Issue(
                        "model_invalid", f"{path}.{key}", f"Node {label}: a backlog needs '{key}' (a node id)"
                    )
                )
            elif ref not in self.node_ids:
                issues.append(Issue("node_unknown", f"{path}.{key}", f"Unknown node: {ref}"))
            else:
                refs[key] = ref
        explicit = raw.get("initial")
        from_topology = queue_depths.get(label)
        initial = 0.0
        if explicit is not None:
            if not _finite_non_negative(explicit):
                issues.append(
                    Issue(
                        "model_invalid",
                        f"{path}.initial",
                        f"Node {label}: initial must be a finite number >= 0",
                    )
                )
            elif from_topology is not None and float(explicit) != from_topology:
                issues.append(
                    Issue(
                        "model_invalid",
                        f"{path}.initial",
                        f"Node {label}: initial {explicit} differs from the topology's "
                        f"initialCondition.queueDepth {from_topology}",
                    )
                )
            else:
                initial = float(explicit)
        elif from_topology is not None:
            initial = from_topology
        return {"inflow": refs["inflow"], "outflow": refs["outflow"], "initial": initial}

    # topology ----------------------------------------------------------------------------------

    def check_topology(
        self,
    ) -> tuple[list[TopologyNode], list[Edge], dict[str, float], list[Issue]]:
        issues: list[Issue] = []
        raw = self.doc.get("topology")
        if raw is None:
            return [], [], {}, issues
        if not isinstance(raw, Mapping):
            return [], [], {}, [Issue("model_invalid", "topology", "topology must be a mapping")]
        raw_nodes = raw.get("nodes")
        raw_nodes = [] if raw_nodes is None else raw_nodes
        nodes: list[TopologyNode] = []
        queue_depths: dict[str, float] = {}
        seen: set[str] = set()
        if not isinstance(raw_nodes, list):
            issues.append(Issue("model_invalid", "topology.nodes", "topology.nodes must be a list"))
            raw_nodes = []
        for j, item in enumerate(raw_nodes):
            node = self.check_topology_node(f"topology.nodes[{j}]", item, seen, issues)
            if node is not None:
                nodes.append(node)
                queue = node.semantics.get("queue")
                if queue in self.node_ids and node.initial_queue_depth is not None:
                    queue_depths.setdefault(queue, node.initial_queue_depth)
        raw_edges = raw.get("edges")
        raw_edges = [] if raw_edges is None else raw_edges
        edges: list[Edge] = []
        if not isinstance(raw_edges, list):
            issues.append(Issue("model_invalid", "topology.edges", "topology.edges must be a list"))
            raw_edges = []
        for k, item in enumerate(raw_edges):
            edge = self.check_edge(f"topology.edges[{k}]", item, seen, issues)
            if edge is not None:
                edges.append(edge)
        return nodes, edges, queue_depths, issues

    def check_topology_node(
        self, path: str, raw: Any, seen: set[str], issues: list[Issue]
    ) -> TopologyNode | None:
        if not isinstance(raw, Mapping):
            issues.append(Issue("model_invalid", path, "A topology node must be a mapping"))
            return None
        before = len(issues)
        node_id = raw.get("id")
        if not isinstance(node_id, str) or not node_id or len(node_id) > 128 or ":" in node_id:
            issues.append(
                Issue(
                    "model_invalid",
                    f"{path}.id",
                    "A topology node id must be a non-empty string of at most 128 characters without ':'",
                )
            )
        elif node_id in seen:
            issues.append(Issue("model_invalid", f"{path}.id", f"Duplicate topology node id '{node_id}'"))
        else:
            seen.add(node_id)
        kind = raw.get("kind")
        # Spec 02 §4: `queue` (any case) means a queue; any other value behaves like `service`.
        kind = kind if isinstance(kind, str) and kind.strip() else "service"
        group = raw.get("group")
        depth: float | None = None
        condition = raw.get("initialCondition")
        if condition is not None:
            if not isinstance(condition, Mapping):
                issues.append(
                    Issue("model_invalid", f"{path}.initialCondition", "initialCondition must be a mapping")
                )
            elif condition.get("queueDepth") is not None:
                if _finite_non_negative(condition["queueDepth"]):
                    depth = float(condition["queueDepth"])
                else:
                    issues.append(
                        Issue(
                            "model_invalid",
                            f"{path}.initialCondition.queueDepth",
                            "initialCondition.queueDepth must be a finite number >= 0",
                        )
                    )
        raw_semantics = raw.get("semantics")
        semantics, sla_min = self.check_semantics(f"{path}.semantics", raw_semantics, issues)
        # A queue value that names an unknown node is reported as node_unknown, not as missing.
        queue_written = isinstance(raw_semantics, Mapping) and any(
            raw_semantics.get(key) not in (None, "") for key in ("queue", "queueDepth")
        )
        if kind.strip().lower() == "queue" and semantics.get("queue") is None and not queue_written:
            issues.append(
                Issue(
                    "model_invalid", f"{path}.semantics.queue", "A queue topology node needs semantics.queue"
                )
            )
        if len(issues) != before:
            return None
        assert isinstance(node_id, str)
        return TopologyNode(
            id=node_id,
            kind=kind,
            group=None if group is None else str(group),
            semantics=semantics,
            sla_min=sla_min,
            initial_queue_depth=depth,
        )

    def check_semantics(
        self, path: str, raw: Any, issues: list[Issue]
    ) -> tuple[dict[str, str | None], float | None]:
        semantics: dict[str, str | None] = {key: None for key, _ in SEMANTICS_KEYS}
        if raw is None:
            return semantics, None
        if not isinstance(raw, Mapping):
            issues.append(Issue("model_invalid", path, "semantics must be a mapping"))
            return semantics, None
        for key, alias in SEMANTICS_KEYS:
            written = key
            if alias is not None and alias in raw:
                if key in raw:
                    issues.append(
                        Issue(
                            "model_invalid",
                            f"{path}.{alias}",
                            f"Set semantics.{key} or semantics.{alias}, not both",
                        )
                    )
                    continue
                written = alias
            value = raw.get(written)
            if value is None or value == "":
                continue
            if not isinstance(value, str):
                issues.append(
                    Issue(
                        "model_invalid",
                        f"{path}.{written}",
                        f"semantics.{written} must be a node id or a file: URI",
                    )
                )
            elif ":" in value:
                # Node ids cannot hold ':', so anything with one is a URI.
                parsed = parse_file_uri(value)
                if isinstance(parsed, str):
                    issues.append(Issue("source_invalid", f"{path}.{written}", parsed))
                else:
                    semantics[key] = value
            elif value not in self.node_ids:
                issues.append(Issue("node_unknown", f"{path}.{written}", f"Unknown node: {value}"))
            else:
                semantics[key] = value
        sla_min: float | None = None
        sla = raw.get("slaMin")
        if sla is not None:
            if _is_number(sla) and math.isfinite(sla) and sla > 0:
                sla_min = float(sla)
            else:
                issues.append(
                    Issue("model_invalid", f"{path}.slaMin", "semantics.slaMin must be a number > 0")
                )
        return semantics, sla_min

    def check_edge(self, path: str, raw: Any, topology_ids: set[str], issues: list[Issue]) -> Edge | None:
        if not isinstance(raw, Mapping):
            issues.append(Issue("model_invalid", path, "An edge must be a mapping"))
            return None
        before = len(issues)
        ends: dict[str, tuple[str, str | None]] = {}
        for key in ("from", "to"):
            ref = raw.get(key)
            if not isinstance(ref, str) or not ref:
                issues.append(
                    Issue("model_invalid", f"{path}.{key}", f"An edge needs '{key}' (Node or Node:port)")
                )
                continue
            node, colon, port = ref.partition(":")
            if colon and not port:
                issues.append(
                    Issue("model_invalid", f"{path}.{key}", f"Edge {key} '{ref}' has an empty port")
                )
            elif node not in topology_ids:
                issues.append(
                    Issue("model_invalid", f"{path}.{key}", f"Edge {key} '{ref}' names no topology node")
                )
            else:
                ends[key] = (node, port if colon else None)
        weight = raw.get("weight")
        weight = 1.0 if weight is None else weight
        if not (_is_number(weight) and math.isfinite(weight)):
            issues.append(Issue("model_invalid", f"{path}.weight", "An edge weight must be a finite number"))
        if len(issues) != before:
            return None
        edge_id = raw.get("id")
        return Edge(
            id=None if edge_id is None else str(edge_id),
            from_node=ends["from"][0],
            from_port=ends["from"][1],
            to_node=ends["to"][0],
            to_port=ends["to"][1],
            weight=float(weight),
        )

    # outputs -----------------------------------------------------------------------------------

    def check_outputs(self) -> tuple[list[OutputSpec], list[Issue]]:
        raw = self.doc.get("outputs")
        if raw is None:
            return [], []
        if not isinstance(raw, list):
            return [], [Issue("model_invalid", "outputs", "outputs must be a list")]
        outputs: list[OutputSpec] = []
        issues: list[Issue] = []
        for k, item in enumerate(raw):
            path = f"outputs[{k}]"
            if not isinstance(item, Mapping):
                issues.append(Issue("model_invalid", path, "An output must be a mapping"))
                continue
            before = len(issues)
            series = item.get("series")
            if not isinstance(series, str) or not series:
                issues.append(
                    Issue("model_invalid", f"{path}.series", "An output needs series: '*' or a node id")
                )
            elif series != "*" and series not in self.node_ids:
                issues.append(Issue("node_unknown", f"{path}.series", f"Unknown node: {series}"))
            exclude = item.get("exclude")
            exclude = [] if exclude is None else exclude
            if not isinstance(exclude, list):
                issues.append(Issue("model_invalid", f"{path}.exclude", "exclude must be a list of node ids"))
                exclude = []
            for m, ref in enumerate(exclude):
                if not isinstance(ref, str):
                    issues.append(
                        Issue("model_invalid", f"{path}.exclude[{m}]", "exclude must list node ids")
                    )
                elif ref not in self.node_ids:
                    issues.append(Issue("node_unknown", f"{path}.exclude[{m}]", f"Unknown node: {ref}"))
            as_name = item.get("as")
            if as_name is not None and not isinstance(as_name, str):
                issues.append(Issue("model_invalid", f"{path}.as", "as must be a file name"))
            if len(issues) == before:
                assert isinstance(series, str)
                outputs.append(OutputSpec(series, tuple(exclude), as_name))
        return outputs, issues

    # rng ---------------------------------------------------------------------------------------

    def check_rng(self, checks: Sequence[_NodeCheck]) -> tuple[str | None, int | None, list[Issue]]:
        issues: list[Issue] = []
        raw = self.doc.get("rng")
        kind: str | None = None
        seed: int | None = None
        if raw is not None:
            if not isinstance(raw, Mapping):
                issues.append(Issue("rng_invalid", "rng", "rng must be a mapping {kind: pcg32, seed}"))
            else:
                raw_kind = raw.get("kind")
                if isinstance(raw_kind, str) and raw_kind.lower() == "pcg32":
                    kind = "pcg32"
                else:
                    issues.append(Issue("rng_invalid", "rng.kind", "rng.kind must be pcg32"))
                seed = _as_int(raw.get("seed"))
                if seed is None or not SEED_MIN <= seed < SEED_MAX_EXCLUSIVE:
                    issues.append(
                        Issue("rng_invalid", "rng.seed", "rng.seed must be an integer in [-2^63, 2^64)")
                    )
                    seed = None
        if raw is None:
            for check in checks:
                spec = check.spec
                if spec is not None and spec.sample:
                    i = self.node_ids[spec.id]
                    issues.append(
                        Issue(
                            "rng_invalid",
                            f"nodes[{i}].sample",
                            f"Node {spec.id} samples its PMF, which needs a model rng",
                        )
                    )
        return kind, seed, issues

    # graph -------------------------------------------------------------------------------------

    def check_graph(self, checks: Sequence[_NodeCheck]) -> tuple[list[str], list[Issue]]:
        # The graph holds every node with a usable id, even one with other issues, so that a cycle
        # is reported alongside them.
        ids = list(self.node_ids)
        position = {node_id: k for k, node_id in enumerate(ids)}
        inputs: list[list[int]] = [[] for _ in ids]
        for node_id, i in self.node_ids.items():
            inputs[position[node_id]] = [position[n] for n in checks[i].inputs]
        order = kahn_order(inputs)
        if len(order) == len(ids):
            return [ids[k] for k in order], []
        ordered = set(order)
        members = cycle_members(inputs, [k for k in range(len(ids)) if k not in ordered])
        names = [ids[k] for k in members]
        return [], [
            Issue("graph_cycle", "nodes", f"Graph has a cycle: {', '.join(names)}", nodes=tuple(names))
        ]


def _parse_pmf(raw: Any) -> tuple[tuple[float, ...], tuple[float, ...]] | str:
    """The PMF's values and probabilities as written, or why it is ``pmf_invalid``."""
    if raw is None:
        return "a pmf node needs a pmf"
    if not isinstance(raw, Mapping):
        return "pmf must be a mapping of value: probability, or {values, probabilities}"
    values: list[float] = []
    probabilities: list[Any] = []
    if "values" in raw or "probabilities" in raw:
        raw_values, raw_probs = raw.get("values"), raw.get("probabilities")
        if not isinstance(raw_values, list) or not isinstance(raw_probs, list):
            return "pmf needs both values and probabilities as lists"
        if len(raw_values) != len(raw_probs):
            return f"pmf has {len(raw_values)} values but {len(raw_probs)} probabilities"
        for v in raw_values:
            if not _is_number(v):
                return f"pmf value {v!r} is not a number"
            values.append(float(v))
        probabilities = list(raw_probs)
    else:
        for key, p in raw.items():
            if _is_number(key) or (isinstance(key, str) and _NUMBER_TEXT.fullmatch(key)):
                values.append(float(key))
            else:
                return f"pmf key {key!r} is not a number"
            probabilities.append(p)
    if not values:
        return "pmf has no entries"
    seen: set[float] = set()
    for v in values:
        if not math.isfinite(v):
            return f"pmf value {v} is not finite"
        if v in seen:
            return f"pmf value {v:g} appears more than once"
        seen.add(v)
    total = 0.0
    for p in probabilities:
        if not _is_number(p) or not math.isfinite(p):
            return f"pmf probability {p!r} is not a finite number"
        if p < 0:
            return f"pmf probability {p} is negative"
        total += float(p)
    if total <= 0:
        return "pmf probabilities must sum to more than 0"
    return tuple(values), tuple(float(p) for p in probabilities)


def load_model(source: str | bytes | Mapping[str, Any], *, max_bins: int = DEFAULT_MAX_BINS) -> Model:
    """Parse and validate a FlowTime model (spec 02 §1–§7, §9, §10); file sources are not opened.

    Raises ``ModelError`` carrying every issue, in document order.
    """
    if isinstance(source, str | bytes):
        try:
            doc = load_yaml(source)
        except YamlLoadError as exc:
            raise ModelError([Issue("model_invalid", "", exc.message)]) from exc
    else:
        doc = source
    if not isinstance(doc, Mapping):
        raise ModelError([Issue("model_invalid", "", "A model must be a YAML mapping")])
    return _Validator(doc, max_bins).run()
