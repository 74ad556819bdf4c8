"""How reconciliation figures are written out (``reconcile --json``, the API, the run page): exact decimal
strings quantised to the currency, so the figures of a page or a file always foot. Pure: no database."""

from decimal import Decimal

from apps.core.money import nano_to_decimal, quantize_money

from .models import ReconciliationLine


def money(nano: int, currency: str) -> str:
    """An amount as the exact decimal string quantised to the currency's minor unit (half-to-even)."""
    return f"{quantize_money(nano_to_decimal(int(nano)), currency):f}"


def variance_money(estimated_nano: int, invoiced_nano: int | None, currency: str) -> str:
    """Invoiced minus estimated, as shown: the difference of the two quantised amounts, so the figures on
    a page or in a file always foot (537.96 - 506.07 = 31.89). The percentage uses the exact amounts."""
    invoiced = quantize_money(nano_to_decimal(int(invoiced_nano or 0)), currency)
    estimated = quantize_money(nano_to_decimal(int(estimated_nano)), currency)
    return f"{invoiced - estimated:f}"


def normalised_pct(value: Decimal) -> str:
    """5.00 -> "5", 2.50 -> "2.5", 10.00 -> "10" (never "1E+1")."""
    return f"{value.normalize():f}"


def provider_figures(line: ReconciliationLine, currency: str) -> dict:
    return {
        "provider": line.provider,
        "estimated": money(line.estimated_nano, currency),
        "invoiced": money(line.invoiced_nano or 0, currency),
        "variance": variance_money(line.estimated_nano, line.invoiced_nano, currency),
        "variance_pct": None if line.variance_pct is None else str(line.variance_pct),
        "within_tolerance": bool(line.within_tolerance),
    }


def exact(nano: int) -> str:
    """All nine decimals of an amount, e.g. 1_500_000_000 -> "1.500000000"."""
    return f"{nano_to_decimal(int(nano)):f}"
