"""Topology edges of a run's model (spec 07 §4, §5.2): their ids, and which of them carry flow.

Read once when a run is loaded; ``/graph`` draws every edge, while ``/state`` and ``/state_window``
derive a ``flowVolume`` for the flow edges from the source node's ``served``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runs.canonical import json_number

_FLOW_TYPES = frozenset({"throughput", "topology"})

JsonNumber = int | float


def json_finite(value: float) -> JsonNumber:
    """A finite number under the project rule (``1``, not ``1.0``)."""
    number = json_number(value)
    assert number is not None  # callers pass finite values only
    return number


def finite_number(value: Any) -> float | None:
    """``value`` as a float when it is a finite JSON number (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _split_endpoint(text: str) -> tuple[str, str]:
    """``"Node:port"`` → (``Node``, ``port``), both trimmed; no ``:`` gives an empty port."""
    node, _, port = text.partition(":")
    return node.strip(), port.strip()


@dataclass(frozen=True)
class TopologyEdge:
    """One entry of ``topology.edges``, in model order."""

    id: str
    from_text: str  # authored, trimmed, port kept
    to_text: str
    src: str  # node ids: the part before the first ':'
    src_port: str
    dst: str
    weight: JsonNumber  # the authored weight when finite, else 1 (what /graph and /state show)
    edge_type: str
    type_given: bool  # the edge has a non-blank ``type``
    duplicate: bool  # an earlier edge of topology.edges has the same id

    @property
    def flow_weight(self) -> float:
        """``w(e)`` of §5.2: the authored weight when it is > 0, else 1."""
        return float(self.weight) if self.weight > 0 else 1.0


def topology_edges(model: Mapping[str, Any]) -> tuple[TopologyEdge, ...]:
    """Every mapping in ``topology.edges``, in model order, with the ids of spec 07 §4."""
    topology = model.get("topology")
    raw_edges = topology.get("edges") if isinstance(topology, Mapping) else None
    edges: list[TopologyEdge] = []
    seen: set[str] = set()
    for raw in raw_edges if isinstance(raw_edges, list) else []:
        if not isinstance(raw, Mapping):
            continue
        from_text, to_text = _text(raw.get("from")), _text(raw.get("to"))
        authored_id = raw.get("id")
        edge_id = authored_id if isinstance(authored_id, str) and authored_id else f"{from_text}->{to_text}"
        src, src_port = _split_endpoint(from_text)
        dst, _ = _split_endpoint(to_text)
        weight = finite_number(raw.get("weight"))
        edge_type = _text(raw.get("type"))
        edges.append(
            TopologyEdge(
                id=edge_id,
                from_text=from_text,
                to_text=to_text,
                src=src,
                src_port=src_port,
                dst=dst,
                weight=json_finite(weight) if weight is not None else 1,
                edge_type=edge_type or "topology",
                type_given=bool(edge_type),
                duplicate=edge_id in seen,
            )
        )
        seen.add(edge_id)
    return tuple(edges)


@dataclass(frozen=True)
class FlowEdge:
    """A flow edge of §5.2 and its share ``f(e) = w(e) / W(src)`` of the source's served."""

    edge: TopologyEdge
    fraction: float


def flow_edges(edges: tuple[TopologyEdge, ...], topology_ids: set[str]) -> tuple[FlowEdge, ...]:
    """The §5.2 flow edges in model order: both endpoints topology nodes, leaving by no port or
    ``out``, of type throughput/topology when typed, and not repeating an earlier id."""
    chosen = [
        edge
        for edge in edges
        if edge.src in topology_ids
        and edge.dst in topology_ids
        and edge.src_port.lower() in ("", "out")
        and (not edge.type_given or edge.edge_type.lower() in _FLOW_TYPES)
        and not edge.duplicate
    ]
    totals: dict[str, float] = {}
    for edge in chosen:  # summed in model order, in float64
        totals[edge.src] = totals.get(edge.src, 0.0) + edge.flow_weight
    return tuple(FlowEdge(edge, edge.flow_weight / totals[edge.src]) for edge in chosen)
