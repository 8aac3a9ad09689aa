"""Staff browse the template index in the admin; the catalog directory stays the only way to change it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from templates_catalog.models import Template

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    call_command("sync_templates", stdout=StringIO(), stderr=StringIO())
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def test_changelist_lists_filters_and_searches_templates(staff: Client) -> None:
    page = staff.get("/admin/templates_catalog/template/")
    assert page.status_code == 200
    html = page.content.decode()
    for template_id in ("order-system", "support-queue", "it-system-microservices"):
        assert template_id in html
    searched = staff.get("/admin/templates_catalog/template/?q=queue").content.decode()
    assert "support-queue" in searched
    assert "order-system" not in searched


def test_templates_cannot_be_added_changed_or_deleted(staff: Client) -> None:
    before = Template.objects.get(template_id="order-system")
    assert staff.get("/admin/templates_catalog/template/add/").status_code == 403
    staff.post("/admin/templates_catalog/template/order-system/change/", {"title": "changed"})
    assert (
        staff.post("/admin/templates_catalog/template/order-system/delete/", {"post": "yes"}).status_code
        == 403
    )
    after = Template.objects.get(template_id="order-system")
    assert (after.title, after.version, after.file_hash) == (before.title, before.version, before.file_hash)


def test_template_page_is_a_read_only_view_with_a_parameter_table(staff: Client) -> None:
    html = staff.get("/admin/templates_catalog/template/order-system/change/").content.decode()
    assert "<title>order-system 1.0.0 | View template | Django site admin</title>" in html
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    # order-system.yaml: bins is an integer 1..288 defaulting to 4, orderArrivals an array ≥ 0.
    assert (
        "<tr><td><code>bins</code></td><td>integer</td><td><code>4</code></td><td>≥ 1, ≤ 288</td>"
        "<td>Number of time bins.</td></tr>"
    ) in html
    assert "<td><code>orderArrivals</code></td><td>array</td><td><code>10, 14, 18, 12</code></td>" in html
    assert "<td>string (telemetry-bindable)</td><td><code>(empty)</code></td>" in html
