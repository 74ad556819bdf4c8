import io
from datetime import date
from decimal import Decimal

import pytest
from django_scopes import scope

from apps.reconciliation.demo import seed_demo
from apps.reconciliation.demo_invoices import seed_demo_invoices as seed_invoices
from apps.reconciliation.models import ReconciliationLine, ReconciliationRun
from tests.factories import OrganizationFactory
from tests.scenarios import demo_cube

pytestmark = pytest.mark.django_db


def test_demo_reconciles_every_invoiced_month_once_and_shows_both_states():
    acme = OrganizationFactory(slug="acme")
    demo_cube(acme)
    seed_invoices(organization=acme, stdout=io.StringIO())
    out = io.StringIO()
    seed_demo(organization=acme, stdout=out)
    seed_demo(organization=acme, stdout=out)
    with scope(organization=acme):
        assert sorted(ReconciliationRun.objects.values_list("period", flat=True)) == [
            date(2026, 9, 1),
            date(2026, 10, 1),
            date(2026, 11, 1),
        ]
        october = ReconciliationRun.objects.get(period=date(2026, 10, 1))
        lines = {
            line.provider: (line.variance_pct, line.within_tolerance)
            for line in ReconciliationLine.objects.filter(run=october, level="provider")
        }
    # anthropic billed +6.3 % over the estimate: 6.3 / 106.3 = 5.93 % of the invoice, just outside 5 %
    assert lines["anthropic"] == (Decimal("5.93"), False)
    # openai +2.1 %: 2.1 / 102.1 = 2.06 % of the invoice
    assert lines["openai"] == (Decimal("2.06"), True)
    assert october.status == "outside"
    assert "acme: 2026-10 already reconciled" in out.getvalue()


def test_demo_without_invoices_reconciles_nothing():
    globex = OrganizationFactory(slug="globex")
    out = io.StringIO()
    seed_demo(organization=globex, stdout=out)
    assert "globex: no invoices, so nothing to reconcile" in out.getvalue()
    with scope(organization=globex):
        assert not ReconciliationRun.objects.exists()
