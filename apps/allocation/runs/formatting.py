"""How an allocation line's amount is written out exactly (the pages and the API show all nine decimals)."""

from __future__ import annotations

from apps.core.money import nano_to_decimal


def exact_amount(nano: int) -> str:
    """All nine decimals, e.g. 1_973_684_211 -> "1.973684211"."""
    return f"{nano_to_decimal(int(nano)):f}"
