import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_scopes import scope, scopes_disabled

from apps.audit.services import audit_chain_verify
from apps.owners.demo import _months_back, budget_rows
from apps.owners.models import Budget, BudgetOwner
from apps.owners.selectors import visible_owner_ids
from apps.tenancy.models import Membership, Organization

pytestmark = pytest.mark.django_db


def test_months_back_crosses_the_year():
    assert _months_back(datetime.date(2026, 2, 14), 3) == [
        datetime.date(2025, 11, 1),
        datetime.date(2025, 12, 1),
        datetime.date(2026, 1, 1),
        datetime.date(2026, 2, 1),
    ]


def test_budget_rows_grow_five_percent_a_month():
    acme = Organization(slug="acme", base_currency="USD")
    rows = [r for r in budget_rows(organization=acme, today=datetime.date(2026, 11, 28)) if r["owner"] == "CC-1101"]
    assert rows == [
        {"owner": "CC-1101", "period": "2026-08", "amount": "18000.00", "currency": "USD"},
        {"owner": "CC-1101", "period": "2026-09", "amount": "18900.00", "currency": "USD"},
        {"owner": "CC-1101", "period": "2026-10", "amount": "19800.00", "currency": "USD"},
        {"owner": "CC-1101", "period": "2026-11", "amount": "20700.00", "currency": "USD"},
    ]


def test_seed_demo_builds_the_hierarchy_in_both_orgs_idempotently():
    call_command("seed_demo")
    with scopes_disabled():
        counts = (BudgetOwner.objects.count(), Budget.objects.count())
    call_command("seed_demo")
    with scopes_disabled():
        assert (BudgetOwner.objects.count(), Budget.objects.count()) == counts == (36, 96)
    for slug, company_code, currency in (("acme", "US01", "USD"), ("globex", "DE01", "EUR")):
        organization = Organization.objects.get(slug=slug)
        assert audit_chain_verify(organization=organization).ok
        with scope(organization=organization):
            owner = BudgetOwner.objects.get(code="CC-1100")
            assert (owner.parent.code, owner.gl_account, owner.company_code) == (
                "CC-1000",
                "6420-AI-Services",
                company_code,
            )
            assert list(owner.owner_users.values_list("username", flat=True)) == [f"{slug}-owner"]
            assert set(BudgetOwner.objects.filter(is_central=True).values_list("code", flat=True)) == {
                "CC-9000",
                "CC-9001",
                "CC-9002",
            }
            membership = Membership.objects.get(user__username=f"{slug}-owner")
            visible = BudgetOwner.objects.filter(pk__in=visible_owner_ids(membership=membership))
            assert sorted(visible.values_list("code", flat=True)) == ["CC-1100", "CC-1101", "CC-1102"]
            assert set(Budget.objects.values_list("currency", flat=True)) == {currency}
            assert Budget.objects.filter(owner__code="CC-1302").count() == 4
            assert not Budget.objects.filter(owner__code="CC-1100").exists()  # teams only
            assert Budget.objects.filter(owner__code="CC-1101").order_by("period").first().amount == Decimal("18000.00")
