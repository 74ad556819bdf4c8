"""The disputes queue: sorted by a column on request, exported as shown (status filter respected)."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.disputes.models import Dispute
from tests.cross_tenant.cases_statements import make_statement
from tests.factories.disputes import DisputeFactory
from tests.tables import column, csv_rows, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputes(world):
    for key in ("a", "b"):
        organization = world.org(key)
        statement = make_statement(world, organization)
        with scope(organization=organization):
            DisputeFactory(statement=statement, amount_nano=2_500_000_000, reason=f"bravo-{key}")
            DisputeFactory(statement=statement, amount_nano=10_000_000_000, reason=f"alpha-{key}")
            DisputeFactory(
                statement=statement,
                amount_nano=400_000_000,
                reason=f"charlie-{key}",
                status=Dispute.Status.REJECTED,
                resolution_note="=not ours",
                resolved_by=world.user(key, "finance_admin"),
                resolved_at=timezone.now(),
            )


def _get(world, query):
    return world.login("a", "finance_admin").get(reverse("disputes:list", kwargs={"org_slug": "alpha"}) + query)


def test_disputes_sort_by_amount_and_reason(world, disputes):
    rows = csv_rows(_get(world, "?status=&sort=-disputed&export=csv"))
    assert column(rows, "Reason") == ["alpha-a", "bravo-a", "charlie-a"]
    assert column(rows, "Disputed") == ["10.00", "2.50", "0.40"]
    assert column(rows, "Outcome") == ["waiting for finance", "waiting for finance", "=not ours"]
    rows = csv_rows(_get(world, "?status=&sort=reason&export=csv"))
    assert column(rows, "Reason") == ["alpha-a", "bravo-a", "charlie-a"]
    rows = csv_rows(_get(world, "?status=&sort=-reason&export=csv"))
    assert column(rows, "Reason") == ["charlie-a", "bravo-a", "alpha-a"]
    assert sorted_header(_get(world, "?sort=-reason").content.decode()) == ("Reason", "descending")


def test_disputes_export_respects_the_status_filter_and_unknown_sort(world, disputes):
    # A finance admin's queue opens on the open disputes; the export is that queue.
    sheet = xlsx_rows(_get(world, "?sort=opened_by__password&export=xlsx"))
    assert column(sheet, "Reason") == ["alpha-a", "bravo-a"]  # newest first, the default
    assert column(sheet, "Disputed") == [10, 2.5]
    assert column(sheet, "Status") == ["Open", "Open"]
