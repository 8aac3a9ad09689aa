"""Response examples for docs/openapi.yaml, taken from real answers of this server (an order-system
run; lists shortened to one or two entries). ``tests/test_openapi_contract.py`` checks every example
in the document against its schema, and each of these against the answer the server gives today, so
they cannot drift from either."""

from __future__ import annotations

from typing import Any

# The metadata block every body about this run carries (spec 06 §2, 07 §5.5).
RUN_METADATA: dict[str, Any] = {
    "runId": "run_order-system_72feff8e278346d9",
    "templateId": "order-system",
    "templateTitle": "Order System",
    "templateVersion": "1.0.0",
    "mode": "simulation",
    "provenanceHash": "sha256:e4a12cc80f729ad8730aff262b6e73c725621766ba194dacb70dc5abea264300",
    "telemetrySourcesResolved": False,
    "schema": {
        "id": "time-travel/v1",
        "version": "1",
        "hash": "sha256:e4a12cc80f729ad8730aff262b6e73c725621766ba194dacb70dc5abea264300",
    },
    "storage": {
        "modelPath": "runs/run_order-system_72feff8e278346d9/model/model.yaml",
        "metadataPath": "runs/run_order-system_72feff8e278346d9/model/metadata.json",
        "provenancePath": "runs/run_order-system_72feff8e278346d9/model/provenance.json",
    },
    "edgeQuality": "exact",
}

# order-system's parameters after defaults: what the dry run plans and the run records.
ORDER_SYSTEM_PARAMETERS: dict[str, Any] = {
    "bins": 4,
    "binSize": 5,
    "orderArrivals": [10, 14, 18, 12],
    "orderCapacity": [16, 16, 16, 16],
    "paymentCapacity": [14, 14, 14, 14],
    "orderErrorRate": 0.05,
    "paymentErrorRate": 0.02,
    "telemetryArrivals": "",
    "telemetryOrderCapacity": "",
    "telemetryPaymentCapacity": "",
}

RUN_RESPONSE: dict[str, Any] = {
    "isDryRun": False,
    "metadata": RUN_METADATA,
    "plan": None,
    "warnings": [],
    "canReplay": True,
    "wasReused": False,
    "createdUtc": "2026-12-06T04:12:42Z",
    "inputHash": "sha256:72feff8e278346d9a5f0e139a0ace0584a9997835f1fe2008480b4663a8125d6",
    "grid": {"bins": 4, "binSize": 5, "binUnit": "minutes", "startUtc": "2025-01-01T00:00:00Z"},
    "parameters": ORDER_SYSTEM_PARAMETERS,
    "rng": {"seed": 0},
    "links": {
        "self": "/v1/runs/run_order-system_72feff8e278346d9",
        "state": "/v1/runs/run_order-system_72feff8e278346d9/state?binIndex=0",
        "stateWindow": "/v1/runs/run_order-system_72feff8e278346d9/state_window?startBin=0&endBin=3",
        "index": "/v1/runs/run_order-system_72feff8e278346d9/index",
        "model": "/v1/runs/run_order-system_72feff8e278346d9/model",
    },
}

DRY_RUN_RESPONSE: dict[str, Any] = {
    "isDryRun": True,
    "metadata": None,
    "canReplay": False,
    "warnings": [],
    "plan": {
        "templateId": "order-system",
        "mode": "simulation",
        "outputRoot": "runs",
        "captureDirectory": None,
        "sourceRunId": None,
        "deterministicRunId": True,
        "requestedRunId": None,
        "predictedRunId": "run_order-system_72feff8e278346d9",
        "parameters": ORDER_SYSTEM_PARAMETERS,
        "telemetryBindings": {},
        "files": [],
        "warnings": [],
        "operations": ["generate_model", "evaluate", "write_artifacts", "publish", "index"],
    },
    "wasReused": False,
}

RUN_LIST_PAGE: dict[str, Any] = {
    "items": [
        {
            "runId": "run_order-system_72feff8e278346d9",
            "templateId": "order-system",
            "templateTitle": "Order System",
            "templateVersion": "1.0.0",
            "mode": "simulation",
            "createdUtc": "2026-12-06T04:12:42Z",
            "warningCount": 0,
            "startUtc": "2025-01-01T00:00:00Z",
            "duration": "PT20M",
            "bins": 4,
            "canReplay": True,
        }
    ],
    "totalCount": 1,
    "page": 1,
    "pageSize": 50,
    "next": None,
    "previous": None,
}

TEMPLATE_LIST_PAGE: dict[str, Any] = {
    "items": [
        {
            "id": "order-system",
            "title": "Order System",
            "version": "1.0.0",
            "description": "Orders are accepted by an order service and then paid through a "
            "payment service; each service is limited by its capacity and loses a "
            "share of its work to errors.",
            "tags": ["orders", "payments", "services"],
            "mode": "simulation",
            "parameterCount": 10,
            "hash": "sha256:6a7ed7d89538a3af3bd3f5f5db012e5ff5ffa2396f548a1c6f3683f2ebd8714c",
        }
    ],
    "totalCount": 2,
    "page": 1,
    "pageSize": 50,
    "next": None,
    "previous": None,
}

TEMPLATE_DETAIL: dict[str, Any] = {
    "id": "order-system",
    "title": "Order System",
    "version": "1.0.0",
    "description": "Orders are accepted by an order service and then paid through a payment service; "
    "each service is limited by its capacity and loses a share of its work to errors.",
    "tags": ["orders", "payments", "services"],
    "mode": "simulation",
    "hash": "sha256:6a7ed7d89538a3af3bd3f5f5db012e5ff5ffa2396f548a1c6f3683f2ebd8714c",
    "parameters": [
        {
            "name": "bins",
            "type": "integer",
            "title": "Bins",
            "description": "Number of time bins.",
            "default": 4,
            "minimum": 1,
            "maximum": 288,
            "required": False,
            "telemetryBindable": False,
        },
        {
            "name": "binSize",
            "type": "integer",
            "title": "Bin size (minutes)",
            "description": "Length of one bin in minutes.",
            "default": 5,
            "minimum": 1,
            "maximum": 60,
            "required": False,
            "telemetryBindable": False,
        },
        {
            "name": "orderArrivals",
            "type": "array",
            "title": "Orders arriving per bin",
            "description": None,
            "default": [10, 14, 18, 12],
            "minimum": 0,
            "maximum": 100000,
            "required": False,
            "telemetryBindable": False,
        },
    ],
    "telemetryBindable": ["telemetryArrivals", "telemetryOrderCapacity", "telemetryPaymentCapacity"],
}

STATE_SNAPSHOT: dict[str, Any] = {
    "metadata": RUN_METADATA,
    "bin": {
        "index": 0,
        "startUtc": "2025-01-01T00:00:00Z",
        "endUtc": "2025-01-01T00:05:00Z",
        "durationMinutes": 5,
    },
    "nodes": [
        {
            "id": "OrderService",
            "kind": "service",
            "metrics": {
                "arrivals": 10,
                "served": 9.5,
                "errors": 0.5,
                "queue": None,
                "capacity": 16,
                "externalDemand": None,
            },
            "derived": {
                "utilization": 0.59375,
                "latencyMinutes": None,
                "throughputRatio": 0.95,
                "color": "green",
            },
            "telemetry": {"sources": [], "warnings": []},
        }
    ],
    "edges": [
        {
            "id": "OrderService_to_PaymentService",
            "from": "OrderService",
            "to": "PaymentService",
            "edgeType": "topology",
            "weight": 1,
            "flowVolume": 9.5,
            "series": {"flowVolume": [9.5]},
        }
    ],
    "edgeWarnings": {},
    "warnings": [],
}

STATE_WINDOW: dict[str, Any] = {
    "metadata": RUN_METADATA,
    "window": {"startBin": 0, "endBin": 1, "binCount": 2},
    "timestampsUtc": ["2025-01-01T00:00:00Z", "2025-01-01T00:05:00Z"],
    "nodes": [
        {
            "id": "OrderService",
            "kind": "service",
            "series": {
                "arrivals": [10, 14],
                "served": [9.5, 13.3],
                "errors": [0.5, 0.7000000000000001],
                "capacity": [16, 16],
                "utilization": [0.59375, 0.83125],
                "throughputRatio": [0.95, 0.9500000000000001],
            },
            "telemetry": {"sources": [], "warnings": []},
        }
    ],
    "edges": [
        {
            "id": "OrderService_to_PaymentService",
            "from": "OrderService",
            "to": "PaymentService",
            "edgeType": "topology",
            "weight": 1,
            "series": {"flowVolume": [9.5, 13.3]},
        }
    ],
    "edgeWarnings": {},
    "warnings": [],
}

SERIES_INDEX: dict[str, Any] = {
    "schemaVersion": 1,
    "grid": {
        "bins": 4,
        "binSize": 5,
        "binUnit": "minutes",
        "timezone": "UTC",
        "align": "left",
        "binMinutes": 5,
    },
    "series": [
        {
            "id": "order_arrivals@ORDER_ARRIVALS@DEFAULT",
            "kind": "flow",
            "path": "series/order_arrivals@ORDER_ARRIVALS@DEFAULT.csv",
            "unit": "entities/bin",
            "componentId": "ORDER_ARRIVALS",
            "class": "DEFAULT",
            "points": 4,
            "hash": "sha256:df751fd61558c030ec732551e9b014ef1a98e56887918591889c9e9b3a20284a",
        },
        {
            "id": "order_capacity@ORDER_CAPACITY@DEFAULT",
            "kind": "flow",
            "path": "series/order_capacity@ORDER_CAPACITY@DEFAULT.csv",
            "unit": "entities/bin",
            "componentId": "ORDER_CAPACITY",
            "class": "DEFAULT",
            "points": 4,
            "hash": "sha256:581ae6e3ccaa712eeefdf10feb5f7ca41bd734a486144c5b7bf1951975d95011",
        },
    ],
}

PARAMETER_PROBLEM: dict[str, Any] = {
    "type": "/problems/parameter_invalid",
    "title": "Invalid template parameters",
    "status": 422,
    "detail": "1 parameter is invalid.",
    "code": "parameter_invalid",
    "error": "1 parameter is invalid.",
    "errors": [{"field": "parameters.bins", "code": "minimum", "message": "must be ≥ 1, got 0"}],
    "instance": "/v1/runs",
}
