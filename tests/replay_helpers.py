"""Builders for the spec 06 §10 worked-example run (written by hand) and its variants."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

RUN_ID = "run_state_fixture"
START = "2025-01-01T00:00:00Z"

# Spec 06 §10, bins 0..3.
VALUES: dict[str, dict[str, list[float]]] = {
    "OrderService": {
        "arrivals": [10, 10, 10, 10],
        "served": [9, 6, 9, 4],
        "errors": [1, 1, 1, 1],
        "capacity": [12, 7, 9, 4],
    },
    "SupportQueue": {
        "arrivals": [9, 7, 9, 5],
        "served": [9, 6, 9, 4],
        "errors": [0, 0, 0, 0],
        "queue": [2, 10, 20, 0],
    },
}
# A model node that no topology node references (for `full` mode, /index and /series).
EXTRA_NODE_VALUES = [1, 2.5, 3, 4]

# Simulation layout: one const node per metric, named <short>_<metric>.
SHORT = {"OrderService": "os", "SupportQueue": "sq"}


def csv_text(values: list[float]) -> str:
    return "t,value\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values))


def series_id(node_id: str) -> str:
    return f"{node_id}@{node_id.upper()}@DEFAULT"


@dataclass
class FixtureRun:
    data_root: Path
    run_id: str
    run_dir: Path
    model_hash: str


@dataclass
class RunSpec:
    """What to vary from the worked example."""

    run_id: str = RUN_ID
    mode: str = "telemetry"
    start: str | None = START
    # (node, metric) → CSV text replacing the worked example's
    csv_overrides: dict[tuple[str, str], str] = field(default_factory=dict)
    # (node, metric) → semantics value (None removes the key)
    semantics_overrides: dict[tuple[str, str], str | None] = field(default_factory=dict)
    # (node, metric) whose CSV is not written
    missing_csv: set[tuple[str, str]] = field(default_factory=set)
    run_model_hash: str | None = None  # default: the real hash
    run_warnings: list[Any] = field(default_factory=list)
    omit: set[str] = field(default_factory=set)  # run-relative files not written
    model_extra: dict[str, Any] = field(default_factory=dict)
    topology_kinds: dict[str, str] = field(default_factory=dict)
    # The metric series per topology node, and the extra model node's values; their length is the grid.
    values: dict[str, dict[str, list[float]]] = field(default_factory=lambda: VALUES)
    extra_values: list[float] = field(default_factory=lambda: EXTRA_NODE_VALUES)
    edges: list[dict[str, Any]] | None = None  # topology.edges, written as given


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))


def build_run(data_root: Path, spec: RunSpec, *, target: Path | None = None) -> FixtureRun:
    """Write the run directory (into ``target`` when given, else ``<data>/runs/<runId>``)."""
    run_dir = target or data_root / "runs" / spec.run_id
    simulation = spec.mode == "simulation"
    bins = len(spec.extra_values)
    model_nodes: list[dict[str, Any]] = []
    topology_nodes: list[dict[str, Any]] = []
    csvs: dict[str, str] = {}  # run-relative path → text
    index_series: list[dict[str, Any]] = []

    def add_series(node_id: str, values: list[float], text: str | None = None) -> None:
        sid = series_id(node_id)
        index_series.append(
            {
                "id": sid,
                "kind": "flow",
                "path": f"series/{sid}.csv",
                "unit": "entities/bin",
                "componentId": node_id.upper(),
                "class": "DEFAULT",
                "points": bins,
                "hash": "sha256:" + "0" * 64,
            }
        )
        csvs[f"series/{sid}.csv"] = text if text is not None else csv_text(values)

    for node_id, metrics in spec.values.items():
        semantics: dict[str, Any] = {}
        for metric, values in metrics.items():
            text = spec.csv_overrides.get((node_id, metric))
            if simulation:
                const_id = f"{SHORT[node_id]}_{metric}"
                model_nodes.append({"id": const_id, "kind": "const", "values": values})
                semantics[metric] = const_id
                if (node_id, metric) not in spec.missing_csv:
                    add_series(const_id, values, text)
            else:
                semantics[metric] = f"file://telemetry/{node_id}_{metric}.csv"
                if (node_id, metric) not in spec.missing_csv:
                    csvs[f"model/telemetry/{node_id}_{metric}.csv"] = text or csv_text(values)
        for (n, metric), value in spec.semantics_overrides.items():
            if n == node_id:
                if value is None:
                    semantics.pop(metric, None)
                else:
                    semantics[metric] = value
        if node_id == "SupportQueue":
            semantics["slaMin"] = 5
        kind = spec.topology_kinds.get(node_id, "service" if node_id == "OrderService" else "queue")
        topology_nodes.append({"id": node_id, "kind": kind, "semantics": semantics})
    model_nodes.append({"id": "extra_node", "kind": "const", "values": spec.extra_values})
    add_series("extra_node", spec.extra_values)

    grid: dict[str, Any] = {"bins": bins, "binSize": 5, "binUnit": "minutes"}
    if spec.start is not None:
        grid["startTimeUtc"] = spec.start
    model: dict[str, Any] = {
        "schemaVersion": 1,
        "mode": spec.mode,
        "metadata": {"id": "order-system", "title": "Order System Fixture", "version": "1.0.0"},
        "grid": grid,
        "topology": {"nodes": topology_nodes, **({"edges": spec.edges} if spec.edges is not None else {})},
        "nodes": model_nodes,
    }
    model.update(spec.model_extra)
    model_text = yaml.safe_dump(model, sort_keys=False, allow_unicode=True, default_flow_style=None)
    model_hash = "sha256:" + hashlib.sha256(model_text.encode("utf-8")).hexdigest()

    files: dict[str, str] = {
        "model/model.yaml": model_text,
        "spec.yaml": model_text,
        "model/metadata.json": json.dumps(
            {
                "schemaVersion": 1,
                "templateId": "order-system",
                "templateTitle": "Order System Fixture",
                "templateVersion": "1.0.0",
                "mode": spec.mode,
                "modelHash": model_hash,
            },
            indent=2,
        )
        + "\n",
        "run.json": json.dumps(
            {
                "schemaVersion": 1,
                "runId": spec.run_id,
                "engineVersion": "0.1.0",
                "source": "engine",
                "grid": {
                    "bins": bins,
                    "binSize": 5,
                    "binUnit": "minutes",
                    "timezone": "UTC",
                    "align": "left",
                },
                "modelHash": spec.run_model_hash or model_hash,
                "warnings": spec.run_warnings,
            },
            indent=2,
        )
        + "\n",
        "model/provenance.json": json.dumps({"source": "tests"}) + "\n",
        "series/index.json": json.dumps(
            {
                "schemaVersion": 1,
                "grid": {"bins": bins, "binSize": 5, "binUnit": "minutes", "timezone": "UTC"},
                "series": index_series,
                "formats": {"goldTable": {"path": "gold/node_time_bin.parquet"}},
            },
            indent=2,
        )
        + "\n",
    }
    files.update(csvs)
    run_dir.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        if relative not in spec.omit:
            _write(run_dir / relative, text)
    return FixtureRun(data_root, spec.run_id, run_dir, model_hash)


GOLDEN_DIR = Path(__file__).resolve().parent / "golden" / "state"


def load_golden(name: str, model_hash: str) -> Any:
    def substitute(value: Any) -> Any:
        if value == "<H>":
            return model_hash
        if isinstance(value, dict):
            return {k: substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v) for v in value]
        return value

    return substitute(json.loads((GOLDEN_DIR / name).read_text(encoding="utf-8")))


def as_sent(body: dict[str, Any]) -> dict[str, Any]:
    """A state body as the client receives it: encoded by orjson (as the API's renderer does, which
    also writes the pre-rendered series fragments of a window) and decoded again."""
    decoded: dict[str, Any] = orjson.loads(orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS))
    return decoded


def q(**params: Any) -> dict[str, list[str]]:
    """A parsed query string: every value a list, as Django's ``QueryDict.lists()`` gives."""
    return {k: v if isinstance(v, list) else [str(v)] for k, v in params.items()}
