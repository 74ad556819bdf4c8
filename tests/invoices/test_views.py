import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from apps.invoices.models import InvoiceIngestJob, InvoiceSettings, ProviderInvoice
from apps.tenancy.roles import Role

from .conftest import FIXTURES, ingest

pytestmark = pytest.mark.django_db


def url(name, **kwargs):
    return reverse(f"invoices:{name}", kwargs={"org_slug": "alpha", **kwargs})


def test_analyst_uploads_and_sees_the_result(world, django_capture_on_commit_callbacks):
    client = world.login("a", Role.FINANCE_ANALYST)
    upload = SimpleUploadedFile("costs.ndjson", (FIXTURES / "openai_costs_pages.ndjson").read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("imports"), {"file": upload, "format": "auto"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "openai-costs-2026-10" in page.content.decode()
    assert "19.695555555" in page.content.decode()


def test_list_and_detail_show_totals_and_filter_lines(world):
    ingest(world.org("a"), "focus_1_2_aws.csv")
    client = world.login("a", Role.VIEWER)
    listing = client.get(url("list"), {"period": "2026-10"})
    assert "197.455678" in listing.content.decode()
    with scope(organization=world.org("a")):
        invoice = ProviderInvoice.objects.get()
    ai_only = client.get(url("detail", pk=invoice.pk), {"kind": "ai"})
    assert ai_only.context["page"].paginator.count == 4
    other = client.get(url("detail", pk=invoice.pk), {"kind": "other"})
    assert other.context["page"].paginator.count == 3


def test_permissions(world):
    owner = world.login("a", Role.BUDGET_OWNER)
    assert owner.get(url("list")).status_code == 403
    assert owner.get(url("imports")).status_code == 403
    viewer = world.login("a", Role.VIEWER)
    assert viewer.get(url("imports")).status_code == 200
    upload = SimpleUploadedFile("x.csv", b"a,b\n")
    assert viewer.post(url("imports"), {"file": upload, "format": "auto"}).status_code == 403
    assert viewer.post(url("settings"), {"focus_cost_view": "effective"}).status_code == 403
    with scope(organization=world.org("a")):
        assert not InvoiceIngestJob.objects.exists()


def test_settings_change_is_saved_and_audited(world):
    client = world.login("a", Role.FINANCE_ANALYST)
    assert client.post(url("settings"), {"focus_cost_view": "effective"}).status_code == 302
    from apps.audit.models import AuditEvent

    with scope(organization=world.org("a")):
        assert InvoiceSettings.objects.get().focus_cost_view == "effective"
        assert AuditEvent.objects.filter(action="invoices.settings_changed").count() == 1


def test_navigation_shows_invoices_to_those_who_ingest(world):
    analyst_nav = [i["label"] for i in world.login("a", Role.FINANCE_ANALYST).get("/o/alpha/").context["nav_items"]]
    owner_nav = [i["label"] for i in world.login("a", Role.BUDGET_OWNER).get("/o/alpha/").context["nav_items"]]
    assert "Invoices" in analyst_nav
    assert "Invoices" not in owner_nav
