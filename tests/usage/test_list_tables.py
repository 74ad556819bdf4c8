"""Usage imports: sorted by a column on request, exported as shown."""

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.usage.models import IngestJob
from tests.tables import column, csv_rows, sorted_header, xlsx_rows
from tests.usage.test_rollup_pages import usage  # noqa: F401 (a fixture)

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


def test_explorer_breakdown_sorts_and_exports_every_row(usage):  # noqa: F811
    url = reverse("usage:explorer", kwargs={"org_slug": "alpha"})
    client = usage.login("a", "finance_analyst")
    query = "?date_from=2026-09-01&date_to=2026-12-31&group_by=day"
    days = ["2026-09-30", "2026-10-01", "2026-10-14", "2026-10-15", "2026-12-02", "2026-12-03"]
    rows = csv_rows(client.get(url + query + "&sort=-key&export=csv"))
    assert column(rows, "Day") == days[::-1]
    assert column(rows, "Requests") == ["1"] * 6
    html = client.get(url + query + "&sort=key").content.decode()
    assert sorted_header(html) == ("Day", "ascending")
    sheet = xlsx_rows(client.get(url + query + "&sort=key&export=xlsx"))
    assert [d.date().isoformat() for d in column(sheet, "Day")] == days
    assert column(sheet, "Requests") == [1] * 6
    # The group filter: by team, org b's usage never shows.
    rows = csv_rows(client.get(url + "?date_from=2026-09-01&date_to=2026-12-31&group_by=team&export=csv"))
    assert sum(int(n) for n in column(rows, "Requests")) == 6


def test_request_list_exports_its_rows_newest_first_and_does_not_sort(usage):  # noqa: F811
    url = reverse("usage:records", kwargs={"org_slug": "alpha"})
    client = usage.login("a", "finance_analyst")
    rows = csv_rows(client.get(url + "?month=2026-10&sort=request&export=csv"))
    assert column(rows, "Request") == ["o3", "o2", "o1"]
    html = client.get(url + "?month=2026-10").content.decode()
    assert "the columns do not sort" in html
    assert sorted_header(html) is None
