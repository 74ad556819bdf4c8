"""Usage imports: sorted by a column on request, exported as shown."""

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.usage.models import IngestJob
from tests.tables import column, csv_rows, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db


def _job(organization, name, rows, estimated):
    return IngestJob.objects.create(
        organization=organization,
        channel=IngestJob.Channel.UPLOAD,
        format="jsonl",
        file_name=name,
        payload="none.bin",
        status=IngestJob.Status.SUCCEEDED,
        rows_total=rows,
        accepted=rows,
        estimated_by_currency=estimated,
    )


def test_usage_imports_sort_and_export(world):
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            _job(organization, f"march-{key}.jsonl", 300, {"USD": 12_500_000_000})
            _job(organization, f"april-{key}.jsonl", 1000, {"EUR": 1_000_000_000, "USD": 2_000_000})
            _job(organization, f"may-{key}.jsonl", 20, {"USD": 0})
    url = reverse("usage:jobs", kwargs={"org_slug": "alpha"})
    admin = world.login("a", "finance_analyst")
    rows = csv_rows(admin.get(url + "?sort=-rows&export=csv"))
    assert column(rows, "File") == ["april-a.jsonl", "march-a.jsonl", "may-a.jsonl"]
    assert column(rows, "Estimated") == ["1.00 EUR; 0.002 USD", "12.50 USD", "0.00 USD"]
    rows = csv_rows(admin.get(url + "?sort=file&export=csv"))
    assert column(rows, "File") == ["april-a.jsonl", "march-a.jsonl", "may-a.jsonl"]
    sheet = xlsx_rows(admin.get(url + "?sort=rows&export=xlsx"))
    assert column(sheet, "File") == ["may-a.jsonl", "march-a.jsonl", "april-a.jsonl"]
    assert column(sheet, "Rows") == [20, 300, 1000]
    assert sorted_header(admin.get(url + "?sort=rows").content.decode()) == ("Rows", "ascending")
    # Estimated mixes currencies: not sortable, so asking for it keeps the default (newest first).
    assert column(csv_rows(admin.get(url + "?sort=estimated&export=csv")), "File") == [
        "may-a.jsonl",
        "april-a.jsonl",
        "march-a.jsonl",
    ]
