"""Spec 07 §3, §7, §8 through HTTP: health, the ``/api/v1/`` facade, ``wasReused`` on dry runs, ``rng``.

Whole bodies are compared with golden files under ``tests/golden/api/`` (``ui_*.json``); volatile
values (timestamps, hashes of generated files) are replaced by placeholders first.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_helpers import PROBLEM_JSON, assert_golden, problem
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DatabaseError
from django.http import HttpResponse
from rest_framework.test import APIClient

from flowtime_site import health
from runs.version import package_version

pytestmark = pytest.mark.django_db

TEMPLATE = "it-system-microservices"
# Spec 07 §7.5: the exact body the UI sends for a Run with the template's defaults.
UI_RUN_BODY: dict[str, Any] = {
    "templateId": TEMPLATE,
    "mode": "simulation",
    "parameters": {
        "bins": 6,
        "binSize": 60,
        "requestPattern": "100,150,200,180,120,80",
        "loadBalancerCapacity": "300,300,300,300,300,300",
        "authCapacity": "250,250,250,250,250,250",
        "databaseCapacity": "180,180,180,180,180,180",
        "telemetryRequestsSource": "",
    },
    "rng": {"kind": "pcg32", "seed": 123},
    "options": {"dryRun": False, "deterministicRunId": True, "overwriteExisting": False},
}
# The same request after the facade's coercions: what POST /v1/runs accepts.
COERCED_BODY: dict[str, Any] = {
    **UI_RUN_BODY,
    "parameters": {
        "bins": 6,
        "binSize": 60,
        "requestPattern": [100, 150, 200, 180, 120, 80],
        "loadBalancerCapacity": [300] * 6,
        "authCapacity": [250] * 6,
        "databaseCapacity": [180] * 6,
        "telemetryRequestsSource": "",
    },
}
# Spec 07 §7.5: inputHash of that request (03 §4.1, rngSeed 123) and the run id it gives.
INPUT_HASH = "sha256:a51dbbecaef0de18142a2bd4df71c34fab93e9fffb38c0decda84d026f2962fe"
RUN_ID = "run_it-system-microservices_a51dbbecaef0de18"


@pytest.fixture
def client(settings: Any) -> APIClient:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    return APIClient()


def ui_post(client: APIClient, body: Any, **extra: Any) -> HttpResponse:
    return client.post("/api/v1/orchestration/runs", body, format="json", **extra)  # type: ignore[return-value]


def with_dry_run(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "options": {**body["options"], "dryRun": True}}


def body_of(response: HttpResponse, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


golden = assert_golden  # tests/golden/api/<name>, key order included


def masked_run_body(body: dict[str, Any]) -> dict[str, Any]:
    """A run body with its model hash and creation time replaced by placeholders."""
    out = json.loads(json.dumps(body))
    out["metadata"]["provenanceHash"] = "<modelHash>"
    out["metadata"]["schema"]["hash"] = "<modelHash>"
    out["createdUtc"] = "<createdUtc>"
    return out


def assert_problem(response: HttpResponse, expected: dict[str, Any]) -> None:
    assert response.status_code == expected["status"], response.content
    assert response["Content-Type"] == PROBLEM_JSON
    assert json.dumps(response.json()) == json.dumps(expected)  # type: ignore[attr-defined]


# --- §3 health ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/healthz", "/api/v1/healthz"])
@pytest.mark.parametrize("query", ["", "?detailed=true", "?detailed=false"])
def test_health_routes_give_service_info(
    client: APIClient, data_root: Path, monkeypatch: pytest.MonkeyPatch, path: str, query: str
) -> None:
    started = datetime(2026, 12, 6, 8, 0, 0, tzinfo=UTC)
    monkeypatch.setattr(health, "PROCESS_STARTED", started)
    monkeypatch.setattr(health, "datetime", _FrozenClock(datetime(2026, 12, 6, 9, 2, 3, tzinfo=UTC)))

    response = client.get(path + query)

    assert response.status_code == 200
    body = body_of(response)
    assert body["build"]["version"] == package_version()
    body["build"]["version"] = "<version>"
    golden("ui_healthz.json", body)
    assert str(data_root) not in response.content.decode()


def test_health_build_facts_come_from_the_settings(client: APIClient, settings: Any) -> None:
    settings.FLOWTIME_COMMIT = "0123456789abcdef"
    settings.FLOWTIME_BUILD_TIME = "2026-12-01T10:00:00Z"
    settings.FLOWTIME_ENVIRONMENT = "staging"
    body = body_of(client.get("/v1/healthz"))
    assert body["build"] == {
        "version": package_version(),
        "commitHash": "0123456789abcdef",
        "buildTime": "2026-12-01T10:00:00Z",
        "environment": "staging",
    }


@pytest.mark.parametrize(("debug", "environment"), [(True, "development"), (False, "production")])
def test_health_environment_defaults_follow_debug(
    client: APIClient, settings: Any, debug: bool, environment: str
) -> None:
    settings.DEBUG = debug
    assert body_of(client.get("/api/v1/healthz"))["build"]["environment"] == environment


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "PT0S"), (59, "PT59S"), (60, "PT1M"), (3723, "PT1H2M3S"), (7200, "PT2H")]
)
def test_uptime_is_an_iso_duration(seconds: int, text: str) -> None:
    assert health.iso_duration(seconds) == text


def test_health_is_open_even_when_reads_need_authentication(client: APIClient, settings: Any) -> None:
    settings.FLOWTIME_REQUIRE_AUTH_FOR_READS = True
    assert client.get("/v1/runs").status_code == 401
    assert client.get("/v1/healthz").status_code == 200
    assert client.get("/api/v1/healthz").status_code == 200


def test_a_failing_database_gives_503(client: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    class BrokenCursor:
        def __enter__(self) -> BrokenCursor:
            raise DatabaseError("connection refused to db.internal:5432")

        def __exit__(self, *args: object) -> None:
            return None

    monkeypatch.setattr(health.connection, "cursor", lambda: BrokenCursor())
    response = client.get("/v1/healthz")
    assert_problem(
        response, problem("service_unavailable", 503, "Database unreachable.", instance="/v1/healthz")
    )
    assert "db.internal" not in response.content.decode()


def test_a_missing_data_root_gives_503(client: APIClient, data_root: Path) -> None:
    data_root.rmdir()
    response = client.get("/api/v1/healthz")
    assert_problem(
        response,
        problem("service_unavailable", 503, "Data directory unavailable.", instance="/api/v1/healthz"),
    )
    assert str(data_root) not in response.content.decode()


class _FrozenClock:
    """Stands in for ``datetime`` in the health module: ``now`` is fixed."""

    def __init__(self, moment: datetime) -> None:
        self._moment = moment

    def now(self, tz: Any = None) -> datetime:
        return self._moment


# --- §7.2–§7.4 templates ----------------------------------------------------------------------------


def test_template_list_is_a_bare_array_of_the_catalog(client: APIClient) -> None:
    body = body_of(client.get("/api/v1/templates"))
    golden("ui_templates.json", body)
    catalog = body_of(client.get("/v1/templates?pageSize=200"))
    assert {item["id"] for item in body} == {item["id"] for item in catalog["items"]}
    assert [item["id"] for item in body] == sorted(item["id"] for item in body)


@pytest.mark.parametrize(
    ("category", "everything"), [("", True), ("general", True), ("GENERAL", True), ("x", False)]
)
def test_template_list_category_filter(client: APIClient, category: str, everything: bool) -> None:
    body = body_of(client.get(f"/api/v1/templates?category={category}"))
    assert (len(body) == 7) if everything else (body == [])


def test_template_detail_maps_default_minimum_maximum(client: APIClient) -> None:
    body = body_of(client.get(f"/api/v1/templates/{TEMPLATE}"))
    golden("ui_template_it_system.json", body)
    catalog = body_of(client.get(f"/v1/templates/{TEMPLATE}"))
    mapped = [
        {
            "name": p["name"],
            "type": p["type"],
            "title": p["title"] or "",
            "description": p["description"] or "",
            "defaultValue": p["default"],
            "min": p["minimum"],
            "max": p["maximum"],
        }
        for p in catalog["parameters"]
    ]
    assert body["parameters"] == mapped


@pytest.mark.parametrize("template_id", ["no-such-template", "-bad id"])
def test_template_detail_of_an_unknown_id_is_404(client: APIClient, template_id: str) -> None:
    from urllib.parse import quote

    path = f"/api/v1/templates/{quote(template_id)}"
    assert_problem(
        client.get(path),
        problem(
            "template_not_found",
            404,
            f"Template '{template_id}' was not found. GET /v1/templates lists the catalog.",
            instance=f"/api/v1/templates/{template_id}",
        ),
    )


def test_categories(client: APIClient) -> None:
    body = body_of(client.get("/api/v1/templates/categories"))
    golden("ui_template_categories.json", body)


# --- §7.5 orchestration/runs and §8 dry runs ------------------------------------------------------


def test_the_ui_dry_run_gives_the_section_8_body(client: APIClient, data_root: Path) -> None:
    response = ui_post(client, with_dry_run(UI_RUN_BODY))
    assert response.status_code == 200
    body = body_of(response)
    assert body["plan"]["predictedRunId"] == RUN_ID
    assert list(body)[-1] == "wasReused" and body["wasReused"] is False
    golden("ui_dry_run.json", body)
    assert not (data_root / "runs").exists() or list((data_root / "runs").iterdir()) == []


def test_the_ui_run_is_201_then_reused(client: APIClient) -> None:
    created = ui_post(client, UI_RUN_BODY)
    assert created.status_code == 201, created.content
    assert created["Location"] == f"/v1/runs/{RUN_ID}"
    body = body_of(created, 201)
    assert body["inputHash"] == INPUT_HASH
    golden("ui_run_created.json", masked_run_body(body))

    again = ui_post(client, UI_RUN_BODY)
    assert again.status_code == 200
    repeated = body_of(again)
    assert repeated["wasReused"] is True
    assert {**repeated, "wasReused": False} == body


def test_facade_and_v1_runs_give_equal_answers(client: APIClient) -> None:
    """Parity (§7.5): status, Location and body equal for the same coerced request."""
    for options in ({"dryRun": True}, {"dryRun": False}):
        ui = ui_post(client, {**UI_RUN_BODY, "options": {**UI_RUN_BODY["options"], **options}})
        plain = client.post(
            "/v1/runs", {**COERCED_BODY, "options": {**COERCED_BODY["options"], **options}}, format="json"
        )
        # the first real POST creates the run (201), the second reuses it (200)
        assert ui.status_code in (200, 201) and plain.status_code == 200
        ui_body, plain_body = ui.json(), plain.json()  # type: ignore[attr-defined]
        if not options["dryRun"]:
            assert ui.status_code == 201 and plain_body["wasReused"] is True
            ui_body["wasReused"] = True
        assert json.dumps(ui_body) == json.dumps(plain_body)

    # A fresh id on both sides: 201 with the same body apart from the id and the time.
    fresh = {"deterministicRunId": False, "dryRun": False}
    ui = ui_post(client, {**UI_RUN_BODY, "options": fresh})
    plain = client.post("/v1/runs", {**COERCED_BODY, "options": fresh}, format="json")
    assert (ui.status_code, plain.status_code) == (201, 201)

    def strip(response: HttpResponse) -> str:
        body = response.json()  # type: ignore[attr-defined]
        run_id = body["metadata"]["runId"]
        return json.dumps(body).replace(run_id, "<runId>").replace(body["createdUtc"], "<createdUtc>")

    assert strip(ui) == strip(plain)


def test_parity_of_problems(client: APIClient) -> None:
    bad = {**COERCED_BODY, "parameters": {**COERCED_BODY["parameters"], "bins": 96}}
    ui = ui_post(client, {**UI_RUN_BODY, "parameters": {**UI_RUN_BODY["parameters"], "bins": 96}})
    plain = client.post("/v1/runs", bad, format="json")
    assert ui.status_code == plain.status_code == 422
    assert ui.json()["errors"] == plain.json()["errors"]  # type: ignore[attr-defined]


def test_a_bad_array_piece_is_a_parameter_issue(client: APIClient) -> None:
    body = {
        **UI_RUN_BODY,
        "parameters": {**UI_RUN_BODY["parameters"], "requestPattern": "100,abc", "bins": 100},
    }
    response = ui_post(client, body)
    assert_problem(
        response,
        problem(
            "parameter_invalid",
            422,
            "2 parameters are invalid.",
            instance="/api/v1/orchestration/runs",
            errors=[
                # collected with every other parameter issue, in declaration order
                {"field": "parameters.bins", "code": "maximum", "message": "must be ≤ 48, got 100"},
                {
                    "field": "parameters.requestPattern[1]",
                    "code": "type",
                    "message": "requestPattern[1] is not a number: 'abc'.",
                },
            ],
        ),
    )


@pytest.mark.parametrize("piece", ["1e999", "NaN", "inf", "0x10", "1,,2"])
def test_pieces_that_are_not_finite_decimals_are_refused(client: APIClient, piece: str) -> None:
    body = {**UI_RUN_BODY, "parameters": {**UI_RUN_BODY["parameters"], "requestPattern": f"1,{piece}"}}
    response = ui_post(client, body)
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]  # type: ignore[attr-defined]
    assert fields[0].startswith("parameters.requestPattern[")


def test_a_short_array_string_meets_the_bins_rule(client: APIClient) -> None:
    body = {**UI_RUN_BODY, "parameters": {**UI_RUN_BODY["parameters"], "requestPattern": " 1, 2 ,3 "}}
    response = ui_post(client, body)
    assert_problem(
        response,
        problem(
            "parameter_invalid",
            422,
            "1 parameter is invalid.",
            instance="/api/v1/orchestration/runs",
            errors=[
                {
                    "field": "parameters.requestPattern",
                    "code": "length",
                    "message": "requestPattern has 3 elements but grid.bins is 6",
                }
            ],
        ),
    )


def test_an_empty_array_string_is_an_empty_array(client: APIClient) -> None:
    body = {**UI_RUN_BODY, "parameters": {**UI_RUN_BODY["parameters"], "requestPattern": "  "}}
    errors = ui_post(client, body).json()["errors"]  # type: ignore[attr-defined]
    assert errors == [
        {
            "field": "parameters.requestPattern",
            "code": "length",
            "message": "requestPattern has 0 elements but grid.bins is 6",
        }
    ]


def test_strings_are_not_coerced_on_v1_runs(client: APIClient) -> None:
    response = client.post("/v1/runs", UI_RUN_BODY, format="json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "parameters.requestPattern"  # type: ignore[attr-defined]


def test_a_string_for_an_integer_is_still_invalid(client: APIClient) -> None:
    body = {**UI_RUN_BODY, "parameters": {**UI_RUN_BODY["parameters"], "bins": "6"}}
    errors = ui_post(client, body).json()["errors"]  # type: ignore[attr-defined]
    assert errors == [
        {"field": "parameters.bins", "code": "type", "message": "must be an integer, got the string '6'"}
    ]


def test_an_unknown_template_is_the_usual_422(client: APIClient) -> None:
    response = ui_post(client, {**UI_RUN_BODY, "templateId": "nope"})
    assert_problem(
        response,
        problem(
            "template_not_found",
            422,
            "Template 'nope' was not found. GET /v1/templates lists the catalog.",
            instance="/api/v1/orchestration/runs",
        ),
    )


@pytest.mark.parametrize("kind", ["mt", "", "PCG64", 5])
def test_rng_kind_other_than_pcg32_is_400(client: APIClient, kind: object) -> None:
    body = {**UI_RUN_BODY, "rng": {"kind": kind, "seed": 1}}
    for path in ("/api/v1/orchestration/runs", "/v1/runs"):
        response = client.post(
            path, body if "api" in path else {**COERCED_BODY, "rng": body["rng"]}, format="json"
        )
        assert_problem(
            response,
            problem(
                "invalid_request",
                400,
                "rng.kind must be 'pcg32'.",
                instance=path,
                errors=[{"field": "rng.kind", "code": "invalid", "message": "rng.kind must be 'pcg32'."}],
            ),
        )


def test_rng_kind_any_case_and_null_seed_mean_no_seed(client: APIClient) -> None:
    with_kind = {
        **COERCED_BODY,
        "rng": {"kind": "PCG32", "seed": None},
        "options": {"dryRun": True, "deterministicRunId": True},
    }
    without = {**COERCED_BODY, "options": {"dryRun": True, "deterministicRunId": True}}
    without.pop("rng")
    a = body_of(client.post("/v1/runs", with_kind, format="json"))
    b = body_of(client.post("/v1/runs", without, format="json"))
    assert a == b
    assert a["plan"]["predictedRunId"] != RUN_ID  # seed 123 would give that id


def test_boolean_strings_are_coerced(client: APIClient) -> None:
    from runs.flowtime_ui import coerce_ui_parameters
    from templates_catalog.documents import Template
    from templates_catalog.parameters import ParameterSpec

    template = Template(
        id="t",
        title="T",
        version="1.0.0",
        description="",
        tags=(),
        mode="simulation",
        parameters=(
            ParameterSpec(name="flag", type="boolean", default=False),
            ParameterSpec(name="other", type="boolean", default=False),
            ParameterSpec(name="label", type="string", default=""),
        ),
        file_hash="",
        file_name="t.yaml",
        document={},
    )
    coerced = coerce_ui_parameters(template, {"flag": " TRUE ", "other": "yes", "label": "true"})
    assert coerced == {"flag": True, "other": "yes", "label": "true"}


def test_without_anonymous_writes_a_ui_post_is_401(settings: Any) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = False
    response = ui_post(APIClient(), UI_RUN_BODY)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"  # type: ignore[attr-defined]


def test_with_anonymous_writes_an_admin_session_needs_no_csrf_token(settings: Any) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = True
    User.objects.create_superuser("admin", "admin@example.com", "pw")
    browser = APIClient(enforce_csrf_checks=True)
    assert browser.login(username="admin", password="pw")
    response = ui_post(browser, with_dry_run(UI_RUN_BODY))
    assert response.status_code == 200, response.content


def test_without_anonymous_writes_the_session_still_needs_its_csrf_token(settings: Any) -> None:
    settings.FLOWTIME_ALLOW_ANONYMOUS_WRITES = False
    User.objects.create_superuser("admin", "admin@example.com", "pw")
    browser = APIClient(enforce_csrf_checks=True)
    assert browser.login(username="admin", password="pw")
    response = ui_post(browser, with_dry_run(UI_RUN_BODY))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"  # type: ignore[attr-defined]


def test_cli_dry_run_json_has_was_reused_false() -> None:
    out = io.StringIO()
    call_command("create_run", "--template-id", "order-system", "--dry-run", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert list(body)[-1] == "wasReused" and body["wasReused"] is False


def test_api_dry_run_has_was_reused_false_last(client: APIClient) -> None:
    response = client.post("/v1/runs?dryRun=true", {"templateId": "order-system"}, format="json")
    body = body_of(response)
    assert list(body)[-1] == "wasReused" and body["wasReused"] is False


def test_facade_routes_are_tagged_in_the_schema() -> None:
    import yaml

    schema = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())
    for path in (
        "/api/v1/healthz",
        "/api/v1/templates",
        "/api/v1/templates/{template_id}",
        "/api/v1/templates/categories",
        "/api/v1/orchestration/runs",
    ):
        operations = schema["paths"][path]
        assert all(op["tags"] == ["flowtime-ui-compat"] for op in operations.values()), path
