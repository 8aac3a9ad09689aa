"""Spec 05 §7: every error code reachable over HTTP, each with its whole problem+json body.

Not reachable through this API with a loadable catalog, and why (each has a test proving it):
- ``template_invalid`` and ``placeholder_unknown`` are load-time problems: a template that has them is
  left out of the catalog, so a request naming it gets ``template_not_found``.
- ``series_not_found``, ``run_invalid``, ``provenance_mismatch``, ``window_too_large`` and
  ``mode_validation_failed`` belong to the state API (spec 06) and are tested there.
``run_exists`` is covered with the outcome table in ``test_api_runs_create.py``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from api_helpers import (
    DETERMINISTIC_ORDER_SYSTEM,
    assert_nothing_written,
    assert_problem,
    body_of,
    copy_capture,
    field_error,
    post_run,
    problem,
    writer,
)
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from flowtime_site.api import MAX_BODY_BYTES
from templates_catalog.selectors import catalog_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings: Any) -> APIClient:
    return writer(settings)


# --- 400 invalid_request ---------------------------------------------------------------------------

NOT_A_STRING = "Not a valid string."
NOT_A_BOOLEAN = "Must be a JSON boolean (true or false)."
NOT_AN_INTEGER = "A valid integer is required."
REQUIRED = "This field is required."


@pytest.mark.parametrize(
    ("body", "detail", "errors"),
    [
        pytest.param(
            {"templateId": "order-system", "parameters": [1, 2]},
            'Expected a dictionary of items but got type "list".',
            [field_error("parameters", "not_a_dict", 'Expected a dictionary of items but got type "list".')],
            id="parameters-as-list",
        ),
        pytest.param(
            {"templateId": {"id": "order-system"}},
            NOT_A_STRING,
            [field_error("templateId", "invalid", NOT_A_STRING)],
            id="templateId-as-object",
        ),
        pytest.param(
            {"templateId": 7},
            NOT_A_STRING,
            [field_error("templateId", "invalid", NOT_A_STRING)],
            id="templateId-as-number",
        ),
        pytest.param(
            {}, REQUIRED, [field_error("templateId", "required", REQUIRED)], id="templateId-missing"
        ),
        pytest.param(
            {"templateId": "order-system", "mode": 1},
            NOT_A_STRING,
            [field_error("mode", "invalid", NOT_A_STRING)],
            id="mode-as-number",
        ),
        pytest.param(
            {"templateId": "order-system", "options": {"deterministicRunId": "yes"}},
            NOT_A_BOOLEAN,
            [field_error("options.deterministicRunId", "invalid", NOT_A_BOOLEAN)],
            id="boolean-as-string",
        ),
        pytest.param(
            {"templateId": "order-system", "options": {"overwriteExisting": 1}},
            NOT_A_BOOLEAN,
            [field_error("options.overwriteExisting", "invalid", NOT_A_BOOLEAN)],
            id="boolean-as-number",
        ),
        pytest.param(
            {"templateId": "order-system", "options": {"runId": 12}},
            NOT_A_STRING,
            [field_error("options.runId", "invalid", NOT_A_STRING)],
            id="runId-as-number",
        ),
        pytest.param(
            {"templateId": "order-system", "rng": {"seed": "42"}},
            NOT_AN_INTEGER,
            [field_error("rng.seed", "invalid", NOT_AN_INTEGER)],
            id="seed-as-string",
        ),
        pytest.param(
            {"templateId": "order-system", "rng": {"seed": 4.5}},
            NOT_AN_INTEGER,
            [field_error("rng.seed", "invalid", NOT_AN_INTEGER)],
            id="seed-as-float",
        ),
        pytest.param(
            {"templateId": "order-system", "rng": {"seed": -1}},
            "Ensure this value is greater than or equal to 0.",
            [field_error("rng.seed", "min_value", "Ensure this value is greater than or equal to 0.")],
            id="seed-negative",
        ),
        pytest.param(
            {"templateId": "it-system-microservices", "telemetry": {"captureDirectory": ["a"]}},
            NOT_A_STRING,
            [field_error("telemetry.captureDirectory", "invalid", NOT_A_STRING)],
            id="captureDirectory-as-list",
        ),
        pytest.param(
            {"templateId": 7, "parameters": "x"},
            "2 fields are invalid.",
            [
                field_error("templateId", "invalid", NOT_A_STRING),
                field_error("parameters", "not_a_dict", 'Expected a dictionary of items but got type "str".'),
            ],
            id="two-wrong-types",
        ),
        pytest.param(
            {"templateId": "order-system", "options": {"runId": "x1", "deterministicRunId": True}},
            "options.runId cannot be combined with options.deterministicRunId.",
            [field_error("options.runId", "invalid_request", "conflicts with deterministicRunId")],
            id="runId-with-deterministicRunId",
        ),
        pytest.param(
            {"templateId": "order-system", "mode": "replay"},
            "mode must be 'simulation' or 'telemetry', got 'replay'.",
            [field_error("mode", "invalid_request", "must be 'simulation' or 'telemetry'")],
            id="bad-mode",
        ),
        pytest.param(
            {"templateId": "order-system", "mode": "telemetry"},
            "telemetry.captureDirectory is required in telemetry mode.",
            [field_error("telemetry.captureDirectory", "invalid_request", "required in telemetry mode")],
            id="telemetry-mode-without-capture",
        ),
        pytest.param(
            {"templateId": "order-system", "options": {"runId": "-starts-with-dash"}},
            "options.runId must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$.",
            [field_error("options.runId", "invalid_request", "does not match the run id pattern")],
            id="runId-fails-the-pattern",
        ),
    ],
)
def test_invalid_request(
    client: APIClient, data_root: Path, body: Any, detail: str, errors: list[dict[str, Any]]
) -> None:
    response = post_run(client, body)

    assert_problem(response, problem("invalid_request", 400, detail, errors=errors))
    assert_nothing_written(data_root)


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b'{"templateId": ', "Malformed JSON request body."),
        (b"{'templateId': 'order-system'}", "Malformed JSON request body."),
        (b"\xff\xfe", "Malformed JSON request body."),
        (b"[1, 2]", "The request body must be a JSON object."),
        (b'"order-system"', "The request body must be a JSON object."),
    ],
)
def test_malformed_or_non_object_json_is_invalid_request(
    client: APIClient, data_root: Path, raw: bytes, detail: str
) -> None:
    response = client.post("/v1/runs", raw, content_type="application/json")

    assert_problem(response, problem("invalid_request", 400, detail))
    assert_nothing_written(data_root)


# --- 400 invalid_parameter -------------------------------------------------------------------------


CHOICES = {
    "mode": "simulation, telemetry",
    "hasWarnings": "true, false",
    "ordering": "createdUtc, -createdUtc, runId, -runId, templateId, -templateId",
}


def choice_message(name: str, value: str) -> str:
    """django-filter's message, then the hint: the allowed values (spec 05 §4)."""
    return (
        f"{name}: Select a valid choice. {value} is not one of the available choices. "
        f"Allowed values: {CHOICES[name]}."
    )


@pytest.mark.parametrize(
    ("path", "name", "detail"),
    [
        ("/v1/runs?page=0", "page", "page must be an integer ≥ 1."),
        ("/v1/runs?page=-1", "page", "page must be an integer ≥ 1."),
        ("/v1/runs?page=two", "page", "page must be an integer ≥ 1."),
        ("/v1/runs?pageSize=0", "pageSize", "pageSize must be an integer between 1 and 200."),
        ("/v1/runs?pageSize=201", "pageSize", "pageSize must be an integer between 1 and 200."),
        ("/v1/runs?mode=x", "mode", choice_message("mode", "x")),
        ("/v1/runs?hasWarnings=maybe", "hasWarnings", choice_message("hasWarnings", "maybe")),
        ("/v1/runs?createdAfter=notadate", "createdAfter", "createdAfter: Enter a valid date/time."),
        ("/v1/runs?createdBefore=2025-13-01", "createdBefore", "createdBefore: Enter a valid date/time."),
        ("/v1/runs?ordering=bogus", "ordering", choice_message("ordering", "bogus")),
        ("/v1/runs?mode=simulation&mode=telemetry", "mode", "mode may be given only once."),
        ("/v1/runs?page=1&page=2", "page", "page may be given only once."),
        ("/v1/runs?templateId=a&templateId=b", "templateId", "templateId may be given only once."),
        ("/v1/templates?mode=x", "mode", "mode must be 'simulation' or 'telemetry'."),
        ("/v1/templates?pageSize=500", "pageSize", "pageSize must be an integer between 1 and 200."),
        ("/v1/templates?tag=a&tag=b", "tag", "tag may be given only once."),
        ("/v1/captures?sourceRunId=a&sourceRunId=b", "sourceRunId", "sourceRunId may be given only once."),
    ],
)
def test_invalid_query_parameter(client: APIClient, path: str, name: str, detail: str) -> None:
    response = client.get(path)

    assert_problem(
        response,
        problem(
            "invalid_parameter",
            400,
            detail,
            instance=path.split("?")[0],
            errors=[field_error(name, "invalid_parameter", detail)],
        ),
    )


def test_invalid_dry_run_flag_is_invalid_parameter(client: APIClient, data_root: Path) -> None:
    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM, query="?dryRun=maybe")

    detail = "dryRun must be true or false."
    assert_problem(
        response,
        problem(
            "invalid_parameter", 400, detail, errors=[field_error("dryRun", "invalid_parameter", detail)]
        ),
    )
    assert_nothing_written(data_root)


# --- 401 / 403 -----------------------------------------------------------------------------------


def test_post_without_credentials_is_401_by_default(data_root: Path) -> None:
    response = post_run(APIClient(), DETERMINISTIC_ORDER_SYSTEM)

    assert_problem(
        response,
        problem(
            "not_authenticated",
            401,
            "Authentication credentials were not provided. Send `Authorization: Token <key>` "
            "(manage.py create_token <username> prints a key).",
        ),
    )
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("scheme", ["Bearer", "Basic"])
def test_a_foreign_authorization_scheme_is_named_with_the_one_to_use(data_root: Path, scheme: str) -> None:
    response = post_run(APIClient(), DETERMINISTIC_ORDER_SYSTEM, HTTP_AUTHORIZATION=f"{scheme} abc123")

    assert_problem(
        response,
        problem(
            "not_authenticated",
            401,
            f"Authentication credentials were not provided. The Authorization header uses the '{scheme}' "
            "scheme; this API reads `Authorization: Token <key>` (manage.py create_token <username> "
            "prints a key).",
        ),
    )
    assert_nothing_written(data_root)
    assert_nothing_written(data_root)


def test_session_post_without_csrf_token_is_403_permission_denied(data_root: Path) -> None:
    """A logged-in browser session must send its CSRF token; the only 403 this API gives."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("staff", password="pw"))

    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM)

    assert_problem(response, problem("permission_denied", 403, "CSRF Failed: CSRF cookie not set."))
    assert_nothing_written(data_root)


# --- 404 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/index", "/state?binIndex=0", "/model"])
def test_unknown_run_is_404_run_not_found(client: APIClient, suffix: str) -> None:
    response = client.get(f"/v1/runs/run_missing{suffix}")

    instance = f"/v1/runs/run_missing{suffix.split('?')[0]}"
    assert_problem(
        response, problem("run_not_found", 404, "Run 'run_missing' was not found.", instance=instance)
    )


def test_unknown_template_is_404_on_get(client: APIClient) -> None:
    response = client.get("/v1/templates/no-such-template")

    assert_problem(
        response,
        problem(
            "template_not_found",
            404,
            "Template 'no-such-template' was not found. GET /v1/templates lists the catalog.",
            instance="/v1/templates/no-such-template",
        ),
    )


def test_unknown_route_is_a_problem_404(client: APIClient) -> None:
    response = client.get("/v1/nothing-here")

    assert_problem(
        response, problem("not_found", 404, "No endpoint at /v1/nothing-here.", instance="/v1/nothing-here")
    )


# --- 405 / 406 / 413 / 415 -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/runs", "/v1/templates/order-system", "/api/v1/templates"])
def test_an_accept_header_without_json_or_html_is_406(client: APIClient, path: str) -> None:
    response = client.get(path, HTTP_ACCEPT="application/xml")

    detail = "Could not satisfy the request Accept header."
    assert_problem(response, problem("invalid_request", 406, detail, instance=path))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/v1/runs"),
        ("patch", "/v1/runs/run_x"),
        ("put", "/v1/runs/run_x"),
        ("post", "/v1/templates"),
    ],
)
def test_unsupported_method_is_405(client: APIClient, method: str, path: str) -> None:
    response = getattr(client, method)(path)

    detail = f'Method "{method.upper()}" not allowed.'
    assert_problem(response, problem("method_not_allowed", 405, detail, instance=path))


def padded_body(size: int) -> bytes:
    """A valid JSON request of exactly ``size`` bytes."""
    head, tail = b'{"templateId": "order-system"', b"}"
    return head + b" " * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 3 * MAX_BODY_BYTES])
def test_body_over_1_mib_is_413(client: APIClient, data_root: Path, size: int) -> None:
    response = client.post("/v1/runs", padded_body(size), content_type="application/json")

    assert_problem(response, problem("request_too_large", 413, "The request body exceeds 1 MiB."))
    assert_nothing_written(data_root)


def test_body_of_exactly_1_mib_is_accepted(client: APIClient) -> None:
    body = padded_body(MAX_BODY_BYTES)
    assert len(body) == 1024 * 1024

    response = client.post("/v1/runs?dryRun=true", body, content_type="application/json")

    assert response.status_code == 200, response.content[:500]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/xml",
    ],
)
def test_non_json_body_is_415(client: APIClient, data_root: Path, content_type: str) -> None:
    response = client.post("/v1/runs", b"templateId=order-system", content_type=content_type)

    media_type = content_type
    detail = (
        f'Unsupported media type "{media_type}" in request. '
        "Send the body as JSON with `Content-Type: application/json`."
    )
    assert_problem(response, problem("unsupported_media_type", 415, detail))
    assert_nothing_written(data_root)


# --- 422 -----------------------------------------------------------------------------------------


def test_unknown_template_is_422_on_post(client: APIClient, data_root: Path) -> None:
    response = post_run(client, {"templateId": "no-such-template"})

    assert_problem(
        response,
        problem(
            "template_not_found",
            422,
            "Template 'no-such-template' was not found. GET /v1/templates lists the catalog.",
        ),
    )


@pytest.mark.parametrize(
    ("template_id", "suggestion"),
    [("order-sytem", "order-system"), ("Order-System", "order-system"), ("support-queu", "support-queue")],
)
def test_a_mistyped_template_id_gets_a_suggestion(
    client: APIClient, data_root: Path, template_id: str, suggestion: str
) -> None:
    response = post_run(client, {"templateId": template_id})

    detail = (
        f"Template '{template_id}' was not found. Did you mean '{suggestion}'? "
        "GET /v1/templates lists the catalog."
    )
    assert_problem(response, problem("template_not_found", 422, detail))
    assert_problem(
        client.get(f"/v1/templates/{template_id}"),
        problem("template_not_found", 404, detail, instance=f"/v1/templates/{template_id}"),
    )
    assert_nothing_written(data_root)
    assert_nothing_written(data_root)


def test_parameter_invalid_lists_every_problem(client: APIClient, data_root: Path) -> None:
    response = post_run(
        client,
        {"templateId": "order-system", "parameters": {"bins": 1000, "orderErrorRate": "x"}},
    )

    assert_problem(
        response,
        problem(
            "parameter_invalid",
            422,
            "2 parameters are invalid.",
            errors=[
                field_error("parameters.bins", "maximum", "must be ≤ 288, got 1000"),
                field_error(
                    "parameters.orderErrorRate", "type", "must be a finite number, got the string 'x'"
                ),
            ],
        ),
    )
    assert_nothing_written(data_root)


def test_parameter_unknown(client: APIClient, data_root: Path) -> None:
    response = post_run(client, {"templateId": "order-system", "parameters": {"surge": 2}})

    assert_problem(
        response,
        problem(
            "parameter_unknown",
            422,
            "Unknown parameter 'surge'",
            errors=[field_error("parameters.surge", "parameter_unknown", "Unknown parameter 'surge'")],
        ),
    )
    assert_nothing_written(data_root)


# A template whose string parameter is pasted into an expression: its default makes a valid model
# (so it loads), but a request can turn the expression into one the engine rejects.
EXPRESSION_TEMPLATE = """\
schemaVersion: 1
generator: flowtime-sim
mode: simulation
metadata:
  id: {id}
  title: Expression
  version: 1.0.0
  description: A string parameter inside an expression.
  tags: [test]
window:
  start: 2025-01-01T00:00:00Z
parameters:
  - {{name: bins, type: integer, default: 3, minimum: 1, maximum: 48}}
  - {{name: factor, type: string, default: "2"}}
grid:
  bins: ${{bins}}
  binSize: 60
  binUnit: minutes
topology:
  nodes:
    - {{id: Svc, semantics: {{arrivals: demand, served: served}}}}
nodes:
  - {{id: demand, kind: const, values: [1, 2, 3]}}
  - {{id: served, kind: expr, expr: "demand * {expr}"}}
outputs:
  - series: "*"
"""


@pytest.fixture
def expression_catalog(tmp_path: Path, settings: Any) -> Path:
    directory = tmp_path / "catalog"
    directory.mkdir()
    (directory / "expression.yaml").write_text(
        EXPRESSION_TEMPLATE.format(id="expression", expr="${factor}"), encoding="utf-8"
    )
    settings.FLOWTIME_TEMPLATES_DIR = directory
    return directory


@pytest.mark.parametrize(
    ("factor", "issue_code", "message"),
    [
        ("NOPE(demand)", "function_unknown", "Unknown function: NOPE"),
        ("ghost", "node_unknown", "Unknown node: ghost"),
    ],
)
def test_model_invalid_carries_the_engine_issue_codes(
    client: APIClient, data_root: Path, expression_catalog: Path, factor: str, issue_code: str, message: str
) -> None:
    assert post_run(client, {"templateId": "expression", "options": {"dryRun": True}}).status_code == 200

    response = post_run(client, {"templateId": "expression", "parameters": {"factor": factor}})

    assert_problem(
        response,
        problem(
            "model_invalid",
            422,
            message,
            errors=[field_error("nodes[1].expr", issue_code, message, position=9)],
        ),
    )
    assert_nothing_written(data_root)


def test_template_with_load_time_problems_is_left_out_so_requests_get_template_not_found(
    client: APIClient, data_root: Path, expression_catalog: Path
) -> None:
    """placeholder_unknown and template_invalid cannot reach a request: such a file never loads."""
    (expression_catalog / "placeholder.yaml").write_text(
        EXPRESSION_TEMPLATE.format(id="placeholder", expr="${undeclared}"), encoding="utf-8"
    )
    (expression_catalog / "invalid.yaml").write_text(
        EXPRESSION_TEMPLATE.format(id="invalid", expr="${factor}").replace("default: 3", "default: 99"),
        encoding="utf-8",
    )

    for template_id in ("placeholder", "invalid"):
        assert_problem(
            post_run(client, {"templateId": template_id}),
            problem(
                "template_not_found",
                422,
                f"Template '{template_id}' was not found. GET /v1/templates lists the catalog.",
            ),
        )
    assert [item["id"] for item in body_of(client.get("/v1/templates"))["items"]] == ["expression"]
    problems = {p.file_name: [issue.code for issue in p.issues] for p in catalog_scan().problems}
    assert problems == {"invalid.yaml": ["template_invalid"], "placeholder.yaml": ["placeholder_unknown"]}
    assert_nothing_written(data_root)


def test_bindings_in_simulation_mode_are_binding_invalid(client: APIClient, data_root: Path) -> None:
    response = post_run(
        client,
        {
            "templateId": "order-system",
            "mode": "simulation",
            "telemetry": {"captureDirectory": "anything", "bindings": {"telemetryArrivals": "a.csv"}},
        },
    )

    message = "telemetry bindings are only allowed in telemetry mode"
    assert_problem(
        response,
        problem(
            "binding_invalid",
            422,
            message,
            errors=[field_error("telemetry.bindings.telemetryArrivals", "binding_invalid", message)],
        ),
    )
    assert_nothing_written(data_root)


def test_binding_to_a_file_outside_the_manifest_is_binding_invalid(
    client: APIClient, data_root: Path
) -> None:
    copy_capture(data_root)
    response = post_run(
        client,
        {
            "templateId": "it-system-microservices",
            "telemetry": {
                "captureDirectory": "it-system-demo",
                "bindings": {"telemetryRequestsSource": "Nope_arrivals.csv"},
            },
        },
    )

    message = "'Nope_arrivals.csv' is not a file of the capture manifest."
    assert_problem(
        response,
        problem(
            "binding_invalid",
            422,
            message,
            errors=[field_error("telemetry.bindings.telemetryRequestsSource", "binding_invalid", message)],
        ),
    )
    assert_nothing_written(data_root)


def test_capture_directory_traversal_is_path_forbidden(client: APIClient, data_root: Path) -> None:
    response = post_run(
        client, {"templateId": "it-system-microservices", "telemetry": {"captureDirectory": "../runs"}}
    )

    detail = (
        "Capture directory '../runs' lies outside the allowed telemetry roots. Use a directory under "
        "<data>/telemetry, or add an absolute root to FLOWTIME_TELEMETRY_ROOTS (comma-separated)."
    )
    assert_problem(
        response,
        problem(
            "path_forbidden",
            422,
            detail,
            errors=[field_error("telemetry.captureDirectory", "path_forbidden", detail)],
        ),
    )
    assert_nothing_written(data_root)


def test_missing_capture_directory_is_capture_not_found(client: APIClient, data_root: Path) -> None:
    (data_root / "telemetry").mkdir()
    response = post_run(
        client,
        {"templateId": "it-system-microservices", "telemetry": {"captureDirectory": "no-such-capture"}},
    )

    assert_problem(
        response,
        problem("capture_not_found", 422, "Capture directory 'no-such-capture' does not exist."),
    )
    assert_nothing_written(data_root)


def test_capture_directory_without_manifest_is_capture_not_found(client: APIClient, data_root: Path) -> None:
    (copy_capture(data_root) / "manifest.json").unlink()
    response = post_run(
        client, {"templateId": "it-system-microservices", "telemetry": {"captureDirectory": "it-system-demo"}}
    )

    assert_problem(
        response,
        problem("capture_not_found", 422, "Capture directory 'it-system-demo' has no manifest.json."),
    )
    assert_nothing_written(data_root)


def test_changed_capture_file_is_capture_hash_mismatch(client: APIClient, data_root: Path) -> None:
    capture = copy_capture(data_root)
    manifest = json.loads((capture / "manifest.json").read_text(encoding="utf-8"))
    listed = next(f["hash"] for f in manifest["files"] if f["path"] == "Database_served.csv")
    changed = (capture / "Database_served.csv").read_bytes().replace(b"\n", b"\r\n")
    (capture / "Database_served.csv").write_bytes(changed)

    response = post_run(client, TELEMETRY_REQUEST_NO_BINDINGS)

    actual = hashlib.sha256(changed).hexdigest()
    assert_problem(
        response,
        problem(
            "capture_hash_mismatch",
            422,
            f"Telemetry file 'Database_served.csv' has sha256:{actual}"
            f" but the manifest lists sha256:{listed}.",
            errors=[field_error("Database_served.csv", "capture_hash_mismatch", "hash mismatch")],
        ),
    )
    assert_nothing_written(data_root)


TELEMETRY_REQUEST_NO_BINDINGS = {
    "templateId": "it-system-microservices",
    "telemetry": {"captureDirectory": "it-system-demo"},
}


def test_unreadable_manifest_is_capture_invalid(client: APIClient, data_root: Path) -> None:
    (copy_capture(data_root) / "manifest.json").write_text("[]", encoding="utf-8")

    response = post_run(client, TELEMETRY_REQUEST_NO_BINDINGS)

    body = body_of(response)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert (body["code"], body["type"], body["status"], body["instance"]) == (
        "capture_invalid",
        "/problems/capture_invalid",
        422,
        "/v1/runs",
    )
    assert body["error"] == body["detail"]
    assert body["errors"], body
    assert_nothing_written(data_root)


# --- 500 -----------------------------------------------------------------------------------------


def explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError(f"boom in {Path(__file__).resolve()} at /srv/secret/data")


def test_unexpected_error_is_500_without_trace_or_path(
    client: APIClient, monkeypatch: pytest.MonkeyPatch, data_root: Path
) -> None:
    import runs.views

    monkeypatch.setattr(runs.views, "create_run", explode)

    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM, HTTP_X_REQUEST_ID="req-42")

    assert_problem(
        response, problem("internal_error", 500, "An internal error occurred (request id req-42).")
    )
    assert response["X-Request-ID"] == "req-42"
    text = response.content.decode()
    for leak in (
        "Traceback",
        "RuntimeError",
        "boom",
        "/srv/secret",
        str(Path(__file__).parent),
        str(data_root),
    ):
        assert leak not in text


def test_500_without_request_id_header_names_the_generated_one(
    client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runs.views

    monkeypatch.setattr(runs.views, "create_run", explode)

    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM)

    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert_problem(
        response, problem("internal_error", 500, f"An internal error occurred (request id {request_id}).")
    )


def test_no_leftovers_after_an_unexpected_error_during_the_write(
    client: APIClient, monkeypatch: pytest.MonkeyPatch, data_root: Path
) -> None:
    from runs import orchestration

    monkeypatch.setattr(orchestration.artifacts, "write_run_files", explode)

    response = post_run(client, DETERMINISTIC_ORDER_SYSTEM)

    assert response.status_code == 500
    assert body_of(response)["code"] == "internal_error"
    assert_nothing_written(data_root)
