"""The artifact writer: every file, byte for byte (spec 03 §2–§4, §6)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runs.artifacts import GridInfo, RunContent, metadata_document, write_run_files

MODEL_TEXT = """schemaVersion: 1
mode: simulation
metadata:
  id: tiny-model
  title: Tiny model
  version: 2.1.0
grid:
  bins: 3
  binSize: 20
  binUnit: minutes
  startTimeUtc: "2025-01-01T00:00:00Z"
nodes:
  - id: arrivals
    kind: const
    values: [10, 20, 30]
  - id: util_ratio
    kind: const
    values: [0.5, .nan, 0]
rng:
  kind: pcg32
  seed: 7
"""

ARRIVALS_CSV = b"t,value\n0,10\n1,20\n2,30\n"
ARRIVALS_HASH = "sha256:9306bf58b048d23a0e8e4ba0a64c6fc5301b48bd98ff452ce464e64ff374bfc9"
UTIL_CSV = b"t,value\n0,0.5\n1,NaN\n2,0\n"
UTIL_HASH = "sha256:" + hashlib.sha256(UTIL_CSV).hexdigest()
MODEL_HASH = "sha256:" + hashlib.sha256(MODEL_TEXT.encode("utf-8")).hexdigest()
SCENARIO_HASH = "sha256:" + hashlib.sha256((MODEL_TEXT.strip() + "\nnull\nnull").encode("utf-8")).hexdigest()
INPUT_HASH = "sha256:" + "ab" * 32
MODEL_ID = "sha256:" + "cd" * 32
CREATED = datetime(2025, 11, 29, 10, 15, 2, 654321, tzinfo=UTC)
RUN_ID = "run_tiny_abababababababab"

PROVENANCE = {
    "source": "flowtime-runs",
    "generator": "flowtime-runs/0.1.0",
    "templateId": "tiny",
    "templateVersion": "1.0.0",
    "mode": "simulation",
    "modelId": MODEL_ID,
    "parameters": {"bins": 3},
}


def catalog_content(**overrides: Any) -> RunContent:
    fields: dict[str, Any] = {
        "model_text": MODEL_TEXT,
        "series": [
            ("arrivals", np.array([10.0, 20.0, 30.0])),
            ("util_ratio", np.array([0.5, np.nan, -0.0])),
        ],
        "grid": GridInfo(bins=3, bin_size=20, bin_unit="Minutes"),
        "engine_version": "0.1.0",
        "run_seed": None,
        "model_seed": 7,
        "warnings": ["late data", "gap filled", "late data"],
        "template_id": "tiny",
        "template_title": "Tiny",
        "template_version": "1.0.0",
        "mode": "Simulation",
        "input_hash": INPUT_HASH,
        "parameters": {"bins": 3, "rate": 0.5, "limit": 10.0, "missing": float("nan")},
        "generated_at_utc": datetime(2025, 11, 29, 10, 15, 1, tzinfo=UTC),
        "provenance": PROVENANCE,
    }
    fields.update(overrides)
    return RunContent(**fields)


EXPECTED_RUN_JSON = """{
  "schemaVersion": 1,
  "runId": "run_tiny_abababababababab",
  "engineVersion": "0.1.0",
  "source": "engine",
  "grid": {
    "bins": 3,
    "binSize": 20,
    "binUnit": "minutes",
    "timezone": "UTC",
    "align": "left"
  },
  "modelHash": "MODEL_HASH",
  "scenarioHash": "SCENARIO_HASH",
  "createdUtc": "2025-11-29T10:15:02Z",
  "warnings": [
    "late data",
    "gap filled"
  ],
  "series": [
    {
      "id": "arrivals@ARRIVALS@DEFAULT",
      "path": "series/arrivals@ARRIVALS@DEFAULT.csv",
      "unit": "entities/bin"
    },
    {
      "id": "util_ratio@UTIL_RATIO@DEFAULT",
      "path": "series/util_ratio@UTIL_RATIO@DEFAULT.csv",
      "unit": "entities/bin"
    }
  ]
}
"""

EXPECTED_MANIFEST_JSON = """{
  "schemaVersion": 1,
  "scenarioHash": "SCENARIO_HASH",
  "rng": {
    "kind": "pcg32",
    "seed": 7
  },
  "seriesHashes": {
    "arrivals@ARRIVALS@DEFAULT": "ARRIVALS_HASH",
    "util_ratio@UTIL_RATIO@DEFAULT": "UTIL_HASH"
  },
  "eventCount": 0,
  "createdUtc": "2025-11-29T10:15:02Z",
  "modelHash": "MODEL_HASH",
  "provenance": {
    "hasProvenance": true,
    "modelId": "MODEL_ID",
    "templateId": "tiny",
    "source": "flowtime-runs"
  }
}
"""

EXPECTED_INDEX_JSON = """{
  "schemaVersion": 1,
  "grid": {
    "bins": 3,
    "binSize": 20,
    "binUnit": "minutes",
    "timezone": "UTC"
  },
  "series": [
    {
      "id": "arrivals@ARRIVALS@DEFAULT",
      "kind": "flow",
      "path": "series/arrivals@ARRIVALS@DEFAULT.csv",
      "unit": "entities/bin",
      "componentId": "ARRIVALS",
      "class": "DEFAULT",
      "points": 3,
      "hash": "ARRIVALS_HASH"
    },
    {
      "id": "util_ratio@UTIL_RATIO@DEFAULT",
      "kind": "flow",
      "path": "series/util_ratio@UTIL_RATIO@DEFAULT.csv",
      "unit": "entities/bin",
      "componentId": "UTIL_RATIO",
      "class": "DEFAULT",
      "points": 3,
      "hash": "UTIL_HASH"
    }
  ],
  "formats": {
    "goldTable": {
      "path": "gold/node_time_bin.parquet",
      "dimensions": [
        "time_bin",
        "component_id",
        "class"
      ],
      "measures": [
        "arrivals",
        "served",
        "errors"
      ]
    }
  }
}
"""

EXPECTED_METADATA_JSON = """{
  "schemaVersion": 1,
  "templateId": "tiny",
  "templateTitle": "Tiny",
  "templateVersion": "1.0.0",
  "mode": "simulation",
  "modelHash": "MODEL_HASH",
  "inputHash": "INPUT_HASH",
  "source": "flowtime-runs",
  "generator": "flowtime-runs/0.1.0",
  "modelId": "MODEL_ID",
  "generatedAtUtc": "2025-11-29T10:15:01Z",
  "receivedAtUtc": "2025-11-29T10:15:02Z",
  "parameters": {
    "bins": 3,
    "rate": 0.5,
    "limit": 10,
    "missing": null
  }
}
"""

EXPECTED_PROVENANCE_JSON = """{
  "source": "flowtime-runs",
  "generator": "flowtime-runs/0.1.0",
  "templateId": "tiny",
  "templateVersion": "1.0.0",
  "mode": "simulation",
  "modelId": "MODEL_ID",
  "parameters": {
    "bins": 3
  }
}
"""


def _fill(text: str) -> str:
    for name, value in {
        "MODEL_HASH": MODEL_HASH,
        "SCENARIO_HASH": SCENARIO_HASH,
        "ARRIVALS_HASH": ARRIVALS_HASH,
        "UTIL_HASH": UTIL_HASH,
        "INPUT_HASH": INPUT_HASH,
        "MODEL_ID": MODEL_ID,
    }.items():
        text = text.replace(f'"{name}"', f'"{value}"')
    return text


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_full_directory_for_a_small_catalog_run(tmp_path: Path) -> None:
    written = write_run_files(tmp_path, catalog_content(), run_id=RUN_ID, created_utc=CREATED)

    assert _files(tmp_path) == [
        "manifest.json",
        "model/metadata.json",
        "model/model.yaml",
        "model/provenance.json",
        "run.json",
        "series/arrivals@ARRIVALS@DEFAULT.csv",
        "series/index.json",
        "series/util_ratio@UTIL_RATIO@DEFAULT.csv",
        "spec.yaml",
    ]
    assert (tmp_path / "run.json").read_bytes() == _fill(EXPECTED_RUN_JSON).encode()
    assert (tmp_path / "manifest.json").read_bytes() == _fill(EXPECTED_MANIFEST_JSON).encode()
    assert (tmp_path / "series" / "index.json").read_bytes() == _fill(EXPECTED_INDEX_JSON).encode()
    assert (tmp_path / "model" / "metadata.json").read_bytes() == _fill(EXPECTED_METADATA_JSON).encode()
    assert (tmp_path / "model" / "provenance.json").read_bytes() == _fill(EXPECTED_PROVENANCE_JSON).encode()
    assert (tmp_path / "series" / "arrivals@ARRIVALS@DEFAULT.csv").read_bytes() == ARRIVALS_CSV
    assert (tmp_path / "series" / "util_ratio@UTIL_RATIO@DEFAULT.csv").read_bytes() == UTIL_CSV
    assert (tmp_path / "model" / "model.yaml").read_bytes() == MODEL_TEXT.encode()
    assert (tmp_path / "spec.yaml").read_bytes() == MODEL_TEXT.encode()

    assert written.run_id == RUN_ID
    assert written.model_hash == MODEL_HASH
    assert written.scenario_hash == SCENARIO_HASH
    assert written.series_hashes == {
        "arrivals@ARRIVALS@DEFAULT": ARRIVALS_HASH,
        "util_ratio@UTIL_RATIO@DEFAULT": UTIL_HASH,
    }
    assert written.created_utc == datetime(2025, 11, 29, 10, 15, 2, tzinfo=UTC)
    assert written.created_utc_text == "2025-11-29T10:15:02Z"


def test_key_orders_are_the_spec_orders(tmp_path: Path) -> None:
    write_run_files(tmp_path, catalog_content(), run_id=RUN_ID, created_utc=CREATED)
    run = json.loads((tmp_path / "run.json").read_text())
    assert list(run) == [
        "schemaVersion",
        "runId",
        "engineVersion",
        "source",
        "grid",
        "modelHash",
        "scenarioHash",
        "createdUtc",
        "warnings",
        "series",
    ]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert list(manifest) == [
        "schemaVersion",
        "scenarioHash",
        "rng",
        "seriesHashes",
        "eventCount",
        "createdUtc",
        "modelHash",
        "provenance",
    ]
    metadata = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert list(metadata) == [
        "schemaVersion",
        "templateId",
        "templateTitle",
        "templateVersion",
        "mode",
        "modelHash",
        "inputHash",
        "source",
        "generator",
        "modelId",
        "generatedAtUtc",
        "receivedAtUtc",
        "parameters",
    ]


def test_run_seed_is_in_scenario_hash_and_manifest(tmp_path: Path) -> None:
    written = write_run_files(tmp_path, catalog_content(run_seed=42), run_id=RUN_ID, created_utc=CREATED)
    expected = "sha256:" + hashlib.sha256((MODEL_TEXT.strip() + "\n42\nnull").encode()).hexdigest()
    assert written.scenario_hash == expected
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["rng"] == {"kind": "pcg32", "seed": 42}
    assert manifest["scenarioHash"] == expected


def test_seed_falls_back_to_the_model_then_zero(tmp_path: Path) -> None:
    write_run_files(tmp_path / "a", catalog_content(model_seed=None), run_id=RUN_ID, created_utc=CREATED)
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["rng"]["seed"] == 7
    no_rng = MODEL_TEXT.replace("rng:\n  kind: pcg32\n  seed: 7\n", "")
    write_run_files(
        tmp_path / "b",
        catalog_content(model_text=no_rng, model_seed=None),
        run_id=RUN_ID,
        created_utc=CREATED,
    )
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["rng"]["seed"] == 0


def test_existing_telemetry_directory_is_left_alone(tmp_path: Path) -> None:
    telemetry = tmp_path / "model" / "telemetry"
    telemetry.mkdir(parents=True)
    (telemetry / "LoadBalancer_arrivals.csv").write_bytes(b"bin_index,value\r\n0,100\r\n")
    write_run_files(tmp_path, catalog_content(), run_id=RUN_ID, created_utc=CREATED)
    assert (telemetry / "LoadBalancer_arrivals.csv").read_bytes() == b"bin_index,value\r\n0,100\r\n"
    assert sorted(p.name for p in telemetry.iterdir()) == ["LoadBalancer_arrivals.csv"]


def test_no_provenance_means_no_file_and_has_provenance_false(tmp_path: Path) -> None:
    content = catalog_content(provenance=None)
    write_run_files(tmp_path, content, run_id=RUN_ID, created_utc=CREATED)
    assert not (tmp_path / "model" / "provenance.json").exists()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["provenance"] == {"hasProvenance": False}
    metadata = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert metadata["source"] is None
    assert metadata["generator"] is None
    assert metadata["modelId"] is None
    assert '"source": null' in (tmp_path / "model" / "metadata.json").read_text()


def test_manifest_provenance_omits_absent_keys(tmp_path: Path) -> None:
    content = catalog_content(provenance={"source": "someone", "modelId": None})
    write_run_files(tmp_path, content, run_id=RUN_ID, created_utc=CREATED)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["provenance"] == {"hasProvenance": True, "source": "someone"}


def test_series_length_must_match_the_grid(tmp_path: Path) -> None:
    content = catalog_content(series=[("arrivals", np.array([1.0, 2.0]))])
    with pytest.raises(ValueError, match="arrivals"):
        write_run_files(tmp_path, content, run_id=RUN_ID, created_utc=CREATED)


MODEL_FILE_TEXT = """schemaVersion: 1
metadata:
  id: warehouse
  title: Warehouse flow
  version: 1.0
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes:
  - {id: a, values: [1, 2]}
provenance:
  source: flowtime-sim
  generator: flowtime-sim/0.5.0
  modelId: model-42
  mode: Telemetry
  generatedAt: "2025-10-01T00:00:00Z"
  parameters: {q: 1}
"""


def _model_file_content(text: str, **overrides: Any) -> RunContent:
    fields: dict[str, Any] = {
        "model_text": text,
        "series": [("a", np.array([1.0, 2.0]))],
        "grid": GridInfo(2, 1, "hours"),
        "engine_version": "0.1.0",
    }
    fields.update(overrides)
    return RunContent(**fields)


def test_metadata_of_a_model_file_run_uses_model_and_its_provenance() -> None:
    document = metadata_document(_model_file_content(MODEL_FILE_TEXT), CREATED)
    assert document == {
        "schemaVersion": 1,
        "templateId": "warehouse",
        "templateTitle": "Warehouse flow",
        "templateVersion": "1.0",
        "mode": "telemetry",
        "modelHash": "sha256:" + hashlib.sha256(MODEL_FILE_TEXT.encode()).hexdigest(),
        "inputHash": None,
        "source": "flowtime-sim",
        "generator": "flowtime-sim/0.5.0",
        "modelId": "model-42",
        "generatedAtUtc": "2025-10-01T00:00:00Z",
        "receivedAtUtc": "2025-11-29T10:15:02Z",
        "parameters": {"q": 1},
    }


def test_supplied_provenance_wins_over_the_models() -> None:
    content = _model_file_content(
        MODEL_FILE_TEXT, provenance={"templateId": "from-doc", "source": "doc", "mode": "simulation"}
    )
    document = metadata_document(content, CREATED)
    # The model's metadata.id still comes before Prov templateId.
    assert document["templateId"] == "warehouse"
    assert document["source"] == "doc"
    assert document["mode"] == "simulation"
    assert document["modelId"] is None
    assert document["parameters"] == {}


def test_metadata_defaults_for_a_bare_model(tmp_path: Path) -> None:
    text = "grid: {bins: 2, binSize: 1, binUnit: hours}\nnodes:\n  - {id: a, values: [1, 2]}\n"
    content = _model_file_content(text)
    document = metadata_document(content, CREATED)
    assert document["templateId"] == "adhoc-model"
    assert document["templateTitle"] == "adhoc-model"
    assert document["templateVersion"] == "0.0.0"
    assert document["mode"] == "simulation"
    assert document["parameters"] == {}
    assert document["generatedAtUtc"] is None
    write_run_files(tmp_path, content, run_id="r1", created_utc=CREATED)
    assert not (tmp_path / "model" / "provenance.json").exists()


def test_model_provenance_mapping_is_written_when_none_supplied(tmp_path: Path) -> None:
    write_run_files(tmp_path, _model_file_content(MODEL_FILE_TEXT), run_id="r1", created_utc=CREATED)
    assert json.loads((tmp_path / "model" / "provenance.json").read_text()) == {
        "source": "flowtime-sim",
        "generator": "flowtime-sim/0.5.0",
        "modelId": "model-42",
        "mode": "Telemetry",
        "generatedAt": "2025-10-01T00:00:00Z",
        "parameters": {"q": 1},
    }
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["provenance"] == {"hasProvenance": True, "modelId": "model-42", "source": "flowtime-sim"}


def test_a_parse_handed_to_the_writer_is_what_readers_of_the_staged_model_get(tmp_path: Path) -> None:
    from runs.artifacts.document_cache import clear_document_cache, read_document, remember_document
    from runs.engine.yaml_loader import load_yaml

    clear_document_cache()
    path = tmp_path / "model.yaml"
    data = b"grid: {bins: 3}\n"
    path.write_bytes(data)
    parsed = load_yaml(data)
    remember_document(str(path), data, parsed)
    found = read_document(str(path), "yaml")
    assert found is not None and found.value is parsed and found.data == data
    other = tmp_path / "other.yaml"
    other.write_bytes(data + b"x: 1\n")
    remember_document(str(other), data, parsed)  # not the bytes on disk: nothing is remembered
    found = read_document(str(other), "yaml")
    assert found is not None and found.value == {"grid": {"bins": 3}, "x": 1}
    clear_document_cache()
