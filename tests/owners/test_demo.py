import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django_scopes import scope, scopes_disabled

from apps.audit.services import audit_chain_verify
from apps.core.money import nano_to_decimal
from apps.owners.demo import planned_budget_rows
from apps.owners.models import Budget, BudgetOwner
from apps.owners.selectors import visible_owner_ids
from apps.tenancy.models import Membership, Organization
from apps.usage.models import UsageRecord

pytestmark = pytest.mark.django_db


def test_planned_budgets_follow_last_months_spend_times_the_teams_growth():
    acme = Organization(slug="acme", base_currency="USD")
    months = [datetime.date(2026, 9, 1), datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)]
    spend = {
        "CC-1101": {months[0]: Decimal("41.20"), months[1]: Decimal("52.49"), months[2]: Decimal("130.10")},
        # ML research plans generously (x1.35); the assistant plans too little (x1.10)
        "CC-1302": {months[0]: Decimal("7.333"), months[1]: Decimal("9")},
        "CC-1202": {months[0]: Decimal("200"), months[1]: None, months[2]: Decimal("260")},
    }
    rows = planned_budget_rows(organization=acme, months=months, spend=spend)
    assert [(r["owner"], r["period"], r["amount"]) for r in rows] == [
        # first month: its own spend + 5% (41.20 * 1.05 = 43.26, to the unit); then last month's * 1.20:
        # 41.20 * 1.20 = 49.44 -> 49; 52.49 * 1.20 = 62.988 -> 63
        ("CC-1101", "2026-09", "43.00"),
        ("CC-1101", "2026-10", "49.00"),
        ("CC-1101", "2026-11", "63.00"),
        # 200 * 1.05 = 210 -> to 5: 210; 200 * 1.10 = 220; October's spend unknown (no rate): 220 * 1.10 = 242
        # -> 240
        ("CC-1202", "2026-09", "210.00"),
        ("CC-1202", "2026-10", "220.00"),
        ("CC-1202", "2026-11", "240.00"),
        # below 10, to the cent: 7.333 * 1.05 = 7.69965 -> 7.70; 7.333 * 1.35 = 9.89955 -> 9.90; 9 * 1.35 = 12.15
        # -> 12
        ("CC-1302", "2026-09", "7.70"),
        ("CC-1302", "2026-10", "9.90"),
        ("CC-1302", "2026-11", "12.00"),
    ]
    assert {r["currency"] for r in rows} == {"USD"}


def test_data_platforms_december_budget_was_halved():
    acme = Organization(slug="acme", base_currency="USD")
    months = [datetime.date(2026, 11, 1), datetime.date(2026, 12, 1)]
    rows = planned_budget_rows(
        organization=acme, months=months, spend={"CC-1301": {months[0]: Decimal("50"), months[1]: Decimal("80")}}
    )
    # November: 50 * 1.05 = 52.5 -> 53; December: halved, 50 * 1.20 * 0.50 = 30
    assert [r["amount"] for r in rows] == ["53.00", "30.00"]


def test_seed_demo_builds_the_hierarchy_in_both_orgs_idempotently():
    call_command("seed_demo")
    with scopes_disabled():
        counts = (BudgetOwner.objects.count(), Budget.objects.count())
    call_command("seed_demo")
    with scopes_disabled():
        # budgets for the twelve team-level cost centres over every month of the demo usage and December
        # 2026: acme 2025-11 to 2026-12 (14), globex 2026-06 to 2026-12 (7)
        assert (BudgetOwner.objects.count(), Budget.objects.count()) == counts == (36, 12 * 14 + 12 * 7)
    for slug, company_code, currency, months in (("acme", "US01", "USD", 14), ("globex", "DE01", "EUR", 7)):
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
            assert Budget.objects.filter(owner__code="CC-1302").count() == months
            assert not Budget.objects.filter(owner__code="CC-1100").exists()  # teams only
    # Near the spend: search's October 2026 budget is its September spend (a direct sum over its requests)
    # times its planned growth of 20%, to the cent at the test volume (below 10 USD).
    acme = Organization.objects.get(slug="acme")
    with scope(organization=acme):
        september = UsageRecord.objects.filter(
            day__gte=datetime.date(2026, 9, 1), day__lt=datetime.date(2026, 10, 1), tagset__tags__team="search"
        ).aggregate(total=Sum("estimated_nano"))["total"]
        budget = Budget.objects.get(owner__code="CC-1101", period=datetime.date(2026, 10, 1)).amount
    planned = nano_to_decimal(september) * Decimal("1.20")
    assert 0 < planned < 10
    assert budget == planned.quantize(Decimal("0.01"), ROUND_HALF_UP)
