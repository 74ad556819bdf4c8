"""Invoices and invoice imports: sorted by a column on request, exported as shown (filters respected)."""

import datetime

import pytest
from django.urls import reverse
from django_scopes import scope

from tests.factories.invoices import InvoiceIngestJobFactory, ProviderInvoiceFactory
from tests.tables import column, csv_rows, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoices(world):
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            ProviderInvoiceFactory(
                organization=organization, invoice_number=f"{key}-OAI-10", total_nano=1_234_560_000_000
            )
            ProviderInvoiceFactory(
                organization=organization,
                provider="anthropic",
                invoice_number=f"{key}-ANT-10",
                total_nano=99_990_000_000,
            )
            ProviderInvoiceFactory(
                organization=organization,
                invoice_number=f"{key}-OAI-09",
                billing_period=datetime.date(2026, 9, 1),
                total_nano=5_000_000,
                currency="EUR",
            )


def _get(world, query):
    return world.login("a", "finance_admin").get(reverse("invoices:list", kwargs={"org_slug": "alpha"}) + query)


def test_invoices_sort_by_total_both_ways(world, invoices):
    rows = csv_rows(_get(world, "?sort=total&export=csv"))
    assert column(rows, "Invoice") == ["a-OAI-09", "a-ANT-10", "a-OAI-10"]
    assert column(rows, "Total") == ["0.005", "99.99", "1234.56"]
    rows = csv_rows(_get(world, "?sort=-total&export=csv"))
    assert column(rows, "Invoice") == ["a-OAI-10", "a-ANT-10", "a-OAI-09"]
    assert sorted_header(_get(world, "?sort=-total").content.decode()) == ("Total", "descending")


def test_invoices_unknown_sort_is_the_default_and_filters_narrow_the_export(world, invoices):
    # Default: newest month first, then provider.
    assert column(csv_rows(_get(world, "?sort=lines__amount_nano&export=csv")), "Invoice") == [
        "a-ANT-10",
        "a-OAI-10",
        "a-OAI-09",
    ]
    sheet = xlsx_rows(_get(world, "?provider=openai&sort=month&export=xlsx"))
    assert sheet[0] == ["Month", "Provider", "Invoice", "Lines", "Total", "Currency", "Source", "View"]
    assert column(sheet, "Invoice") == ["a-OAI-09", "a-OAI-10"]
    assert column(sheet, "Total") == [0.005, 1234.56]  # numbers in the workbook
    assert column(sheet, "Lines") == [0, 0]


def test_invoice_imports_sort_and_export(world):
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            InvoiceIngestJobFactory(organization=organization, file_name=f"b-{key}.csv", accepted=5)
            InvoiceIngestJobFactory(organization=organization, file_name=f"a-{key}.csv", accepted=50)
            InvoiceIngestJobFactory(organization=organization, file_name=f"@SUM(1)-{key}.csv", accepted=7)
    url = reverse("invoices:imports", kwargs={"org_slug": "alpha"})
    admin = world.login("a", "finance_admin")
    rows = csv_rows(admin.get(url + "?sort=-accepted&export=csv"))
    assert column(rows, "File") == ["a-a.csv", "@SUM(1)-a.csv", "b-a.csv"]
    assert column(rows, "Accepted") == ["50", "7", "5"]
    sheet = xlsx_rows(admin.get(url + "?sort=accepted&export=xlsx"))
    assert column(sheet, "File") == ["b-a.csv", "@SUM(1)-a.csv", "a-a.csv"]
    assert column(sheet, "Accepted") == [5, 7, 50]
    # Default order: newest first.
    assert column(csv_rows(admin.get(url + "?export=csv")), "File") == ["@SUM(1)-a.csv", "a-a.csv", "b-a.csv"]
