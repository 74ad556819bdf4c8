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


def test_tolerance_is_compared_exactly_not_on_the_rounded_percentage():
    # 100.000000000 invoiced, 94.996000000 estimated: a 5.004 % variance that shows as 5.00 % and used to
    # pass a 5 % tolerance; compared exactly it is outside.
    invoiced = 100_000_000_000
    assert engine.variance_pct(estimated_nano=94_996_000_000, invoiced_nano=invoiced) == Decimal("5.00")
    assert not engine.within_tolerance(
        estimated_nano=94_996_000_000, invoiced_nano=invoiced, tolerance_pct=Decimal("5")
    )
    assert engine.within_tolerance(estimated_nano=95_000_000_000, invoiced_nano=invoiced, tolerance_pct=Decimal("5"))
    # One nano either side of the boundary, both signs of the variance.
    assert not engine.within_tolerance(
        estimated_nano=94_999_999_999, invoiced_nano=invoiced, tolerance_pct=Decimal("5")
    )
    assert engine.within_tolerance(estimated_nano=105_000_000_000, invoiced_nano=invoiced, tolerance_pct=Decimal("5"))
    assert not engine.within_tolerance(
        estimated_nano=105_000_000_001, invoiced_nano=invoiced, tolerance_pct=Decimal("5")
    )
    # A negative invoice (a credit) is compared on its magnitude; a fractional tolerance stays exact.
    assert engine.within_tolerance(
        estimated_nano=-97_500_000_000, invoiced_nano=-invoiced, tolerance_pct=Decimal("2.50")
    )
    assert not engine.within_tolerance(
        estimated_nano=-97_499_999_999, invoiced_nano=-invoiced, tolerance_pct=Decimal("2.50")
    )
    # The engine's provider line carries the exact verdict and the rounded display figure.
    [line] = [
        line
        for line in engine.reconcile(
            usage=[engine.UsageCell("openai", "gpt-4o", date(2026, 10, 1), 94_996_000_000)],
            invoices=[engine.InvoiceCell("openai", "", "other", None, invoiced)],
            tolerance_pct=Decimal("5.00"),
        )
        if line.level == "provider"
    ]
    assert (line.variance_nano, line.variance_pct, line.within_tolerance) == (5_004_000_000, Decimal("5.00"), False)


@given(
    estimated=st.integers(min_value=-(10**15), max_value=10**15),
    invoiced=st.integers(min_value=-(10**15), max_value=10**15),
    tolerance=st.decimals(min_value=0, max_value=100, places=2),
)
def test_tolerance_agrees_with_exact_fractions(estimated, invoiced, tolerance):
    from fractions import Fraction

    expected = (
        estimated == 0 if invoiced == 0 else abs(Fraction(invoiced - estimated, invoiced)) * 100 <= Fraction(tolerance)
    )
    assert (
        engine.within_tolerance(estimated_nano=estimated, invoiced_nano=invoiced, tolerance_pct=tolerance) is expected
    )


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
