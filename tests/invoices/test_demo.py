import io
from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum
from django_scopes import scope

from apps.core.money import nano_to_decimal
from apps.invoices.models import InvoiceLine, ProviderInvoice
from apps.reconciliation.demo_invoices import seed_demo_invoices as seed_demo
from apps.taxonomy.services import tagsets_get_or_create
from apps.usage.models import DailyUsage
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

# (provider, model, month, input nano, output nano, cache read nano, tools nano)
CUBE = [
    ("openai", "gpt-4o", date(2026, 9, 3), 40_000_000_000, 60_000_000_000, 5_000_000_000, 0),
    ("openai", "gpt-4o-mini", date(2026, 10, 3), 3_000_000_000, 4_000_000_000, 0, 0),
    (
        "anthropic",
        "claude-sonnet-4-5",
        date(2026, 10, 9),
        70_000_000_000,
        90_000_000_000,
        12_345_678_901,
        1_000_000_000,
    ),
    ("google", "gemini-2.5-flash", date(2026, 11, 20), 8_000_000_000, 12_000_000_000, 0, 0),
]


def make_cube(organization):
    with scope(organization=organization):
        ids = tagsets_get_or_create(organization=organization, tag_dicts=[{"team": "search"}])
        tagset_id = next(iter(ids.values()))
        for provider, model, day, cost_in, cost_out, cost_cache, cost_tools in CUBE:
            DailyUsage.objects.create(
                organization=organization,
                day=day,
                provider=provider,
                model=model,
                service_tier="standard",
                tagset_id=tagset_id,
                cost_input_nano=cost_in,
                cost_output_nano=cost_out,
                cost_cache_read_nano=cost_cache,
                cost_tools_nano=cost_tools,
                estimated_nano=cost_in + cost_out + cost_cache + cost_tools,
            )


def ai_total(organization, provider, month) -> Decimal:
    with scope(organization=organization):
        nano = InvoiceLine.objects.filter(provider=provider, billing_period=month, is_ai=True).aggregate(
            total=Sum("amount_nano")
        )["total"]
    return nano_to_decimal(nano)


def test_demo_invoices_follow_usage_with_the_set_variances_and_are_idempotent():
    acme = OrganizationFactory(slug="acme")
    make_cube(acme)
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
    globex = OrganizationFactory(slug="globex")
    make_cube(globex)
    seed_demo(organization=globex, stdout=out)
    with scope(organization=globex):
        assert not ProviderInvoice.objects.exists()
