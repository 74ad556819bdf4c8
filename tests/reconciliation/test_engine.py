from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from apps.pricing.constants import BILL_COST_SOURCES, COST_SOURCES
from apps.reconciliation import engine
from apps.reconciliation.formatting import money, normalised_pct


def test_variance_pct_is_quantised_half_to_even():
    # 1 / 800 = 0.125 % -> 0.12 (half to even), 3 / 800 = 0.375 % -> 0.38
    assert engine.variance_pct(estimated_nano=799, invoiced_nano=800) == Decimal("0.12")
    assert engine.variance_pct(estimated_nano=797, invoiced_nano=800) == Decimal("0.38")
    assert engine.variance_pct(estimated_nano=105, invoiced_nano=100) == Decimal("-5.00")
    assert engine.variance_pct(estimated_nano=5, invoiced_nano=0) is None


def test_within_tolerance_at_the_boundary_both_ways():
    tolerance = Decimal("5.00")
    assert engine.within_tolerance(estimated_nano=95, invoiced_nano=100, tolerance_pct=tolerance)
    assert engine.within_tolerance(estimated_nano=105, invoiced_nano=100, tolerance_pct=tolerance)
    assert not engine.within_tolerance(estimated_nano=9499, invoiced_nano=10000, tolerance_pct=tolerance)
    assert not engine.within_tolerance(estimated_nano=10501, invoiced_nano=10000, tolerance_pct=tolerance)
    assert engine.within_tolerance(estimated_nano=0, invoiced_nano=0, tolerance_pct=tolerance)
    assert not engine.within_tolerance(estimated_nano=1, invoiced_nano=0, tolerance_pct=tolerance)


def test_money_and_tolerance_text():
    assert money(1_005_000_000, "USD") == "1.00"  # half to even
    assert money(1_015_000_000, "USD") == "1.02"
    assert money(-3_000_000_000, "USD") == "-3.00"
    assert money(1_500_000_000, "JPY") == "2"
    assert normalised_pct(Decimal("5.00")) == "5"
    assert normalised_pct(Decimal("2.50")) == "2.5"
    assert normalised_pct(Decimal("10.00")) == "10"


PROVIDERS = st.sampled_from(["openai", "anthropic", "google"])
MODELS = st.sampled_from(["m1", "m2", ""])
SOURCES = st.sampled_from(BILL_COST_SOURCES)
DAYS = st.sampled_from([date(2026, 10, 1), date(2026, 10, 2), None])
AMOUNT = st.integers(min_value=-(10**15), max_value=10**15)

usage_cells = st.builds(
    lambda provider, model, day, split: engine.UsageCell(
        provider=provider,
        model=model or "m1",
        day=day or date(2026, 10, 3),
        estimated_nano=sum(split.values()),
        source_nano=split,
    ),
    PROVIDERS,
    MODELS,
    DAYS,
    st.dictionaries(st.sampled_from(COST_SOURCES), st.integers(min_value=0, max_value=10**15)),
)
invoice_cells = st.builds(engine.InvoiceCell, PROVIDERS, MODELS, SOURCES, DAYS, AMOUNT)


@given(usage=st.lists(usage_cells, max_size=12), invoices=st.lists(invoice_cells, max_size=12))
def test_every_breakdown_adds_up_to_its_provider_line(usage, invoices):
    lines = engine.reconcile(usage=usage, invoices=invoices, tolerance_pct=Decimal("5"))
    providers = {line.provider: line for line in lines if line.level == "provider"}
    assert set(providers) == {c.provider for c in usage} | {c.provider for c in invoices}
    for provider, line in providers.items():
        assert line.estimated_nano == sum(c.estimated_nano for c in usage if c.provider == provider)
        assert line.invoiced_nano == sum(c.amount_nano for c in invoices if c.provider == provider)
        assert line.variance_nano == line.invoiced_nano - line.estimated_nano
        for level in ("model", "cost_source", "day"):
            parts = [p for p in lines if p.level == level and p.provider == provider]
            if not parts:
                continue
            assert sum(p.estimated_nano for p in parts) == line.estimated_nano
            if all(p.invoiced_nano is not None for p in parts):
                assert sum(p.invoiced_nano for p in parts) == line.invoiced_nano
            else:
                assert not any(c.day for c in invoices if c.provider == provider)
