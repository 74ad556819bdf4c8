import io
from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum
from django_scopes import scope

from apps.core.money import nano_to_decimal
from apps.fx.services import ecb_rates_load
from apps.invoices.models import InvoiceLine, ProviderInvoice
from apps.reconciliation.demo_invoices import seed_demo_invoices as seed_demo
from apps.usage.models import DailyUsage
from tests.factories import OrganizationFactory
from tests.scenarios import demo_cube

pytestmark = pytest.mark.django_db


def ai_total(organization, provider, month) -> Decimal:
    with scope(organization=organization):
        nano = InvoiceLine.objects.filter(provider=provider, billing_period=month, is_ai=True).aggregate(
            total=Sum("amount_nano")
        )["total"]
    return nano_to_decimal(nano)


def test_demo_invoices_follow_usage_with_the_set_variances_and_are_idempotent():
    acme = OrganizationFactory(slug="acme")
    demo_cube(acme)
    out = io.StringIO()
    seed_demo(organization=acme, stdout=out)
    # openai September: (40 + 60 + 5) * 1.021
    assert ai_total(acme, "openai", date(2026, 9, 1)) == Decimal("107.205")
    assert ai_total(acme, "openai", date(2026, 10, 1)) == Decimal("7.147")
    # anthropic: 173.345678901 * 1.063, each line rounded to the micro-dollar
    anthropic = ai_total(acme, "anthropic", date(2026, 10, 1))
    assert abs(anthropic - Decimal("173.345678901") * Decimal("1.063")) < Decimal("0.00001")
    assert ai_total(acme, "google", date(2026, 11, 1)) == Decimal("19.72")
    with scope(organization=acme):
        google = ProviderInvoice.objects.get(provider="google")
        assert (google.invoice_number, google.source_format, google.total) == (
            "GCP-202611-ACME",
            "focus",
            Decimal("32.12"),  # 19.72 of Vertex AI plus 12.40 of storage kept as other cloud cost
        )
        assert set(ProviderInvoice.objects.values_list("source_format", flat=True)) == {
            "openai-costs",
            "anthropic-cost-report",
            "focus",
        }
        assert set(InvoiceLine.objects.filter(provider="anthropic").values_list("cost_source", flat=True)) == {
            "input",
            "output",
            "cache_read",
            "tool_calls",
        }
        before = list(InvoiceLine.objects.values_list("pk", "amount_nano"))
    seed_demo(organization=acme, stdout=out)
    with scope(organization=acme):
        assert list(InvoiceLine.objects.values_list("pk", "amount_nano")) == before
    assert "already ingested" in out.getvalue()


def test_demo_skips_without_usage_and_for_other_organisations():
    acme = OrganizationFactory(slug="acme")
    out = io.StringIO()
    seed_demo(organization=acme, stdout=out)
    assert "no demo usage" in out.getvalue()
    initech = OrganizationFactory(slug="initech")
    demo_cube(initech)
    seed_demo(organization=initech, stdout=out)
    with scope(organization=initech):
        assert not ProviderInvoice.objects.exists()


def test_globex_is_billed_in_eur_from_its_usage_at_the_ecb_rates_of_the_usage_days():
    """globex (EUR) is estimated in USD; Azure OpenAI and Google bill it in EUR, Anthropic in USD. Azure's
    September bill is the cube's amounts of 2026-09-03 converted at that day's ECB rate (1.1615 USD per EUR)
    and rounded once to the nano, then +1.8% to the micro: 40 → 34.438226431 → 35.058115, 60 → 51.657339647
    → 52.587172, 5 → 4.304778304 → 4.382264. Anthropic's USD report is its USD amounts +2.4%."""
    ecb_rates_load(since=date(2026, 8, 1))
    globex = OrganizationFactory(slug="globex", base_currency="EUR")
    rows = demo_cube(globex)
    with scope(organization=globex):
        DailyUsage.objects.filter(pk=rows[0].pk).update(provider="azure-openai")
        DailyUsage.objects.filter(pk=rows[1].pk).delete()
    out = io.StringIO()
    seed_demo(organization=globex, stdout=out)
    with scope(organization=globex):
        invoices = {
            (i.provider, i.invoice_number): (i.source_format, i.currency, i.total)
            for i in ProviderInvoice.objects.all()
        }
        lines = InvoiceLine.objects.filter(provider="azure-openai").order_by("amount_nano")
        assert list(lines.values_list("cost_source", "currency", "amount_nano")) == [
            ("cache_read", "EUR", 4_382_264_000),
            ("input", "EUR", 35_058_115_000),
            ("output", "EUR", 52_587_172_000),
        ]
    assert invoices == {
        ("azure", "AZ-202609-GLOBEX"): ("focus", "EUR", Decimal("92.027551")),
        ("anthropic", "anthropic-cost-2026-10"): ("anthropic-cost-report", "USD", Decimal("177.505975")),
    }
    assert ai_total(globex, "anthropic", date(2026, 10, 1)) == Decimal("177.505975")
    # google's only usage is in November: no bill yet (and no shipped ECB rate for it)
    assert "globex: ingested azure-openai demo invoices in EUR for 1 month(s), 3 lines (succeeded)" in out.getvalue()
    seed_demo(organization=globex, stdout=out)
    assert "globex: demo azure-openai invoices already ingested" in out.getvalue()
