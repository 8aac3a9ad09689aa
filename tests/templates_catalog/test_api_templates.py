"""/v1/templates (spec 05 §6): the catalog a UI renders its run form from."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from api_helpers import assert_golden, assert_problem, body_of, problem
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SHIPPED = [
    "it-system-microservices",
    "manufacturing-line",
    "network-reliability",
    "order-system",
    "supply-chain-multi-tier",
    "support-queue",
    "transportation-basic",
]

TEMPLATE = """\
schemaVersion: 1
generator: flowtime-sim
mode: {mode}
metadata:
  id: {id}
  title: {title}
  version: 2.1.0
  description: {description}
  tags: [{tags}]
window:
  start: 2025-01-01T00:00:00Z
parameters:
  - name: bins
    type: integer
    title: Bins
    description: How many bins.
    default: 3
    minimum: 1
    maximum: 48
  - {{name: demand, type: array, items: {{type: number}}, default: [1, 2, 3], minimum: 0, maximum: 100}}
  - {{name: source, type: string, default: ""}}
grid:
  bins: ${{bins}}
  binSize: 60
  binUnit: minutes
topology:
  nodes:
    - {{id: Svc, semantics: {{arrivals: demand, served: served}}}}
nodes:
  - {{id: demand, kind: const, values: "${{demand}}", source: "${{source}}"}}
  - {{id: served, kind: expr, expr: "demand * 0.5"}}
outputs:
  - series: "*"
"""

CATALOG = {
    "alpha": {
        "mode": "simulation",
        "title": "Alpha Line",
        "description": "Widgets on a line.",
        "tags": "factory, Line",
    },
    "beta": {
        "mode": "telemetry",
        "title": "Beta Queue",
        "description": "A queue fed by telemetry.",
        "tags": "queue",
    },
    "gamma": {
        "mode": "simulation",
        "title": "Gamma",
        "description": "Another line of widgets.",
        "tags": "factory",
    },
}


@pytest.fixture
def catalog(tmp_path: Path, settings: Any) -> dict[str, str]:
    """Three small templates; returns each one's expected file hash."""
    directory = tmp_path / "catalog"
    directory.mkdir()
    hashes = {}
    for template_id, fields in CATALOG.items():
        data = TEMPLATE.format(id=template_id, **fields).encode()
        (directory / f"{template_id}.yaml").write_bytes(data)
        hashes[template_id] = "sha256:" + hashlib.sha256(data).hexdigest()
    settings.FLOWTIME_TEMPLATES_DIR = directory
    return hashes


def summary(template_id: str, hashes: dict[str, str]) -> dict[str, Any]:
    fields = CATALOG[template_id]
    return {
        "id": template_id,
        "title": fields["title"],
        "version": "2.1.0",
        "description": fields["description"],
        "tags": [tag.strip() for tag in fields["tags"].split(",")],
        "mode": fields["mode"],
        "parameterCount": 3,
        "hash": hashes[template_id],
    }


def test_list_of_a_catalog(catalog: dict[str, str]) -> None:
    response = APIClient().get("/v1/templates")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert body_of(response) == {
        "items": [summary(t, catalog) for t in ("alpha", "beta", "gamma")],
        "totalCount": 3,
        "page": 1,
        "pageSize": 50,
        "next": None,
        "previous": None,
    }


def test_list_pages(catalog: dict[str, str]) -> None:
    client = APIClient()

    first = body_of(client.get("/v1/templates?pageSize=2"))
    second = body_of(client.get(first["next"]))
    past_end = body_of(client.get("/v1/templates?pageSize=2&page=5"))

    assert first == {
        "items": [summary("alpha", catalog), summary("beta", catalog)],
        "totalCount": 3,
        "page": 1,
        "pageSize": 2,
        "next": "/v1/templates?pageSize=2&page=2",
        "previous": None,
    }
    assert second == {
        "items": [summary("gamma", catalog)],
        "totalCount": 3,
        "page": 2,
        "pageSize": 2,
        "next": None,
        "previous": "/v1/templates?pageSize=2&page=1",
    }
    assert (past_end["items"], past_end["totalCount"]) == ([], 3)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mode=simulation", ["alpha", "gamma"]),
        ("mode=telemetry", ["beta"]),
        ("mode=TELEMETRY", ["beta"]),
        ("tag=factory", ["alpha", "gamma"]),
        ("tag=line", ["alpha"]),
        ("tag=fact", []),
        ("search=widgets", ["alpha", "gamma"]),
        ("search=QUEUE", ["beta"]),
        ("search=gam", ["gamma"]),
        ("search=zzz", []),
        ("mode=simulation&tag=factory&search=another", ["gamma"]),
    ],
)
def test_list_filters(catalog: dict[str, str], query: str, expected: list[str]) -> None:
    response = APIClient().get(f"/v1/templates?{query}")

    assert response.status_code == 200, response.content
    body = body_of(response)
    assert [item["id"] for item in body["items"]] == expected
    assert body["totalCount"] == len(expected)


def test_detail_of_a_catalog_template(catalog: dict[str, str]) -> None:
    response = APIClient().get("/v1/templates/alpha")

    assert response.status_code == 200
    expected = summary("alpha", catalog)
    del expected["parameterCount"]
    assert body_of(response) == {
        **expected,
        "parameters": [
            {
                "name": "bins",
                "type": "integer",
                "title": "Bins",
                "description": "How many bins.",
                "default": 3,
                "minimum": 1,
                "maximum": 48,
                "required": False,
                "telemetryBindable": False,
            },
            {
                "name": "demand",
                "type": "array",
                "title": None,
                "description": None,
                "default": [1, 2, 3],
                "minimum": 0,
                "maximum": 100,
                "required": False,
                "telemetryBindable": False,
            },
            {
                "name": "source",
                "type": "string",
                "title": None,
                "description": None,
                "default": "",
                "minimum": None,
                "maximum": None,
                "required": False,
                "telemetryBindable": True,
            },
        ],
        "telemetryBindable": ["source"],
    }


def test_shipped_catalog_is_listed_by_id() -> None:
    body = body_of(APIClient().get("/v1/templates"))

    assert [item["id"] for item in body["items"]] == SHIPPED
    assert body["totalCount"] == len(SHIPPED)


def test_order_system_detail_matches_golden() -> None:
    response = APIClient().get("/v1/templates/order-system")

    assert response.status_code == 200
    assert_golden("template_order_system.json", body_of(response))


def test_a_changed_template_file_is_seen_without_a_restart(catalog: dict[str, str], settings: Any) -> None:
    client = APIClient()
    assert body_of(client.get("/v1/templates/alpha"))["title"] == "Alpha Line"

    path = Path(settings.FLOWTIME_TEMPLATES_DIR) / "alpha.yaml"
    path.write_text(path.read_text().replace("title: Alpha Line", "title: Alpha Line Two"))

    assert body_of(client.get("/v1/templates/alpha"))["title"] == "Alpha Line Two"


@pytest.mark.parametrize(
    ("template_id", "hint"),
    [
        ("no-such-template", ""),
        ("ORDER-SYSTEM", " Did you mean 'order-system'?"),  # ids are case-sensitive; the hint is not
        ("..", ""),
        ("order-system.yaml", " Did you mean 'order-system'?"),
    ],
)
def test_unknown_template_is_404_template_not_found(template_id: str, hint: str) -> None:
    response = APIClient().get(f"/v1/templates/{template_id}")

    assert_problem(
        response,
        problem(
            "template_not_found",
            404,
            f"Template '{template_id}' was not found.{hint} GET /v1/templates lists the catalog.",
            instance=f"/v1/templates/{template_id}",
        ),
    )
