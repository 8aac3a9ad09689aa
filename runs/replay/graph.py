"""The ``GET /v1/runs/{runId}/graph`` body (spec 07 §4): the model's topology as nodes and edges.

Nothing is evaluated and no series is read. Only the presence checks of the 06 §1 loader apply, so a
run whose state cannot be served (a provenance mismatch, a failing simulation check) still has a graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runs.engine.expressions import ExpressionSyntaxError, expression_inputs, parse_expression
from runs.errors import InvalidParameter, RunInvalid
from runs.replay.edges import finite_number, json_finite, topology_edges
from runs.replay.loading import SEMANTICS_ALIASES, read_run_documents, run_directory
from runs.replay.queries import NON_OPERATIONAL_KINDS, STATE_MODES
from runs.shapes import GraphEdge, GraphNode, GraphNodeSemantics, GraphNodeUi, RunGraph

SEMANTICS_KEYS = ("arrivals", "served", "errors", "queue", "capacity", "externalDemand")


def parse_graph_mode(params: Mapping[str, Sequence[str]]) -> str:
    """``operational`` (default) or ``full``, any case, as ``state_window``'s ``mode``; else 400."""
    values = params.get("mode")
    if not values:
        return "operational"
    mode = values[0].strip().lower() if len(values) == 1 else ""
    if mode not in STATE_MODES:
        shown = ",".join(values)
        raise InvalidParameter("mode", f"Invalid mode '{shown}'. Expected 'operational' or 'full'.")
    return mode


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _semantics(raw: Mapping[str, Any]) -> GraphNodeSemantics:
    semantics = raw.get("semantics")
    semantics = semantics if isinstance(semantics, Mapping) else {}

    def named(key: str) -> str | None:
        aliases = SEMANTICS_ALIASES.get(key, (key,))
        return next((t for t in (_text(semantics.get(k)) for k in aliases) if t), None)

    sla = finite_number(semantics.get("slaMin"))
    return {
        "arrivals": named("arrivals"),
        "served": named("served"),
        "errors": named("errors"),
        "queue": named("queue"),
        "capacity": named("capacity"),
        "externalDemand": named("externalDemand"),
        "slaMin": json_finite(sla) if sla is not None else None,
    }


def _ui(raw: Mapping[str, Any]) -> GraphNodeUi | None:
    ui = raw.get("ui")
    if not isinstance(ui, Mapping):
        return None
    x, y = finite_number(ui.get("x")), finite_number(ui.get("y"))
    return {"x": json_finite(x) if x is not None else None, "y": json_finite(y) if y is not None else None}


def _topology_nodes(model: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    topology = model.get("topology")
    raw_nodes = topology.get("nodes") if isinstance(topology, Mapping) else None
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise RunInvalid("The model has no topology.")
    seen: set[str] = set()
    for position, raw in enumerate(raw_nodes):
        node_id = _text(raw.get("id")) if isinstance(raw, Mapping) else None
        if node_id is None:
            raise RunInvalid(f"Topology node {position} has no id.")
        if node_id in seen:
            raise RunInvalid(f"Topology node id '{node_id}' is used twice.")
        seen.add(node_id)
    return raw_nodes


def _model_nodes(model: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Model nodes with an id, in definition order, the first of a repeated id kept."""
    raw_nodes = model.get("nodes")
    found: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    for raw in raw_nodes if isinstance(raw_nodes, list) else []:
        node_id = _text(raw.get("id")) if isinstance(raw, Mapping) else None
        if node_id is not None and node_id not in seen:
            seen.add(node_id)
            found.append(raw)
    return found


def _node_inputs(raw: Mapping[str, Any], kind: str) -> list[str]:
    """02 §7: an expression's referenced ids in first-reference order; a backlog's inflow, outflow."""
    if kind == "backlog":
        return list(dict.fromkeys(t for t in (_text(raw.get("inflow")), _text(raw.get("outflow"))) if t))
    text = raw.get("expr", raw.get("expression"))
    if not isinstance(text, str):
        return []
    try:
        return expression_inputs(parse_expression(text))
    except ExpressionSyntaxError:
        return []  # an expression that does not parse contributes no edges


def _edge(
    edge_id: str, source: str, target: str, weight: float, edge_type: str, field: str | None
) -> GraphEdge:
    return {
        "id": edge_id,
        "from": source,
        "to": target,
        "weight": weight,
        "edgeType": edge_type,
        "field": field,
    }


def run_graph(data_root: Path, run_id: str, query: Mapping[str, Sequence[str]]) -> RunGraph:
    """The ``/graph`` body: ``{nodes, edges, order}`` in ``operational`` or ``full`` mode."""
    mode = parse_graph_mode(query)
    run_dir = run_directory(data_root, run_id)
    model = read_run_documents(run_dir).model
    topology = _topology_nodes(model)
    full = mode == "full"

    nodes: list[GraphNode] = []
    listed_topology: list[tuple[str, GraphNodeSemantics]] = []
    for raw in topology:
        node_id = str(_text(raw.get("id")))
        kind = _text(raw.get("kind")) or "service"
        if not full and kind.lower() in NON_OPERATIONAL_KINDS:
            continue
        semantics = _semantics(raw)
        nodes.append({"id": node_id, "kind": kind, "semantics": semantics, "ui": _ui(raw)})
        listed_topology.append((node_id, semantics))
    topology_ids = {str(_text(raw.get("id"))) for raw in topology}
    model_nodes = _model_nodes(model)
    if full:
        for raw in model_nodes:
            node_id = str(_text(raw.get("id")))
            if node_id not in topology_ids:
                kind = _text(raw.get("kind")) or "const"
                nodes.append({"id": node_id, "kind": kind, "semantics": None, "ui": None})
    listed = {node["id"] for node in nodes}

    edges: list[GraphEdge] = []
    for edge in topology_edges(model):
        if edge.duplicate or edge.src not in listed or edge.dst not in listed:
            continue
        edges.append(_edge(edge.id, edge.from_text, edge.to_text, edge.weight, edge.edge_type, None))
    if full:
        dependencies: list[tuple[str, str, str]] = []  # (input, node, field)
        for raw in model_nodes:
            node_id = str(_text(raw.get("id")))
            kind = (_text(raw.get("kind")) or "const").lower()
            if node_id in listed and kind in ("expr", "backlog"):
                dependencies.extend(
                    (source, node_id, "expr") for source in _node_inputs(raw, kind) if source in listed
                )
        for node_id, semantics in listed_topology:
            for key, value in semantics.items():
                if key in SEMANTICS_KEYS and isinstance(value, str) and value != node_id and value in listed:
                    dependencies.append((value, node_id, key))
        ids = {edge["id"] for edge in edges}
        for source, target, field in dependencies:
            edge_id = f"dep:{source}->{target}:{field}"
            if edge_id not in ids:
                ids.add(edge_id)
                edges.append(_edge(edge_id, source, target, 1, "dependency", field))
    return {"nodes": nodes, "edges": edges, "order": [node["id"] for node in nodes]}
