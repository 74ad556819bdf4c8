import pytest
from django.urls import reverse
from django_scopes import scope

from apps.invoices.models import ProviderInvoice
from apps.tenancy.roles import TokenScope

from .conftest import FIXTURES

pytestmark = pytest.mark.django_db


def post(api, data: bytes, **headers):
    return api.post(reverse("api:invoice-list"), data=data, content_type="text/csv", headers=headers)


def test_upload_then_read_invoice_and_lines(world, django_capture_on_commit_callbacks):
    api = world.api("a", [TokenScope.INVOICES_WRITE, TokenScope.PERIODS_READ])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, (FIXTURES / "aws_cur_bedrock.csv").read_bytes())
    # Processed in-process (eager Celery) after commit, so the first answer is "queued"
    assert response.status_code in (201, 202)
    job_url = response["Location"]
    job = api.get(job_url).json()
    assert job["status"] == "succeeded"
    assert job["result"]["invoices"] == [
        {"provider": "aws", "billing_period": "2026-10", "total": "9.371", "currency": "USD", "lines": 7}
    ]
    listing = api.get(reverse("api:invoice-list"), {"period": "2026-10"}).json()["results"]
    assert [(i["provider"], i["total"], i["lines"], i["billing_period"]) for i in listing] == [
        ("aws", "9.371", 7, "2026-10")
    ]
    lines = api.get(reverse("api:invoice-lines", kwargs={"pk": listing[0]["id"]}), {"is_ai": "false"}).json()
    assert [(row["provider"], row["amount"]) for row in lines["results"]] == [("aws", "2.496")]


def test_idempotency_key_replays_the_same_import(world, django_capture_on_commit_callbacks):
    api = world.api("a", [TokenScope.INVOICES_WRITE])
    body = (FIXTURES / "generic_invoice.csv").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        first = post(api, body, **{"Idempotency-Key": "k-1"})
    second = post(api, body, **{"Idempotency-Key": "k-1"})
    assert second["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    conflict = post(api, body + b"\n", **{"Idempotency-Key": "k-1"})
    assert conflict.status_code == 400
    with scope(organization=world.org("a")):
        assert ProviderInvoice.objects.count() == 1


def test_scopes(world):
    reader = world.api("a", [TokenScope.PERIODS_READ])
    assert post(reader, b"x").status_code == 403
    assert reader.get(reverse("api:invoice-list")).status_code == 200
    writer = world.api("a", [TokenScope.INVOICES_WRITE])
    assert writer.get(reverse("api:invoice-list")).status_code == 403
    assert writer.get(reverse("api:invoice-import-list")).status_code == 200


def test_empty_body_is_400(world):
    assert post(world.api("a"), b"  ").status_code == 400
