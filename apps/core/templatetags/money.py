"""The one set of template filters for money and shares: ``{% load money %}``.

The ``money`` and ``exact`` filters read an integer as nano-units of the currency (10**-9) and a Decimal (or
its string) as the amount it already is; ``amount`` and ``signed_amount`` show an amount already rounded
elsewhere (e.g. footed) as it is. Every filter shows a missing value as "—" (``share_pct`` as nothing) and
never goes through a float."""

from decimal import ROUND_HALF_EVEN, Decimal

from django import template

from apps.core.money import exact_text, money_text, nano_to_decimal, quantize_money

register = template.Library()

MISSING = "—"


def _amount(value) -> Decimal:
    """An integer of nano-units as its exact Decimal; anything else as the amount it already is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return nano_to_decimal(value)
    return Decimal(value)


@register.filter
def money(value, currency: str = "USD") -> str:
    """Rounded to the currency's minor unit (half-to-even), with thousands separators: "1,234.50"."""
    if value in (None, ""):
        return MISSING
    return f"{quantize_money(_amount(value), currency):,}"


@register.filter
def signed_money(value, currency: str = "USD") -> str:
    """A difference rounded like ``money``, with its sign: "+12.50", "−3.00" or "0.00"."""
    if value in (None, ""):
        return MISSING
    amount = quantize_money(_amount(value), currency)
    if amount > 0:
        return f"+{amount:,}"
    if amount < 0:
        return f"−{-amount:,}"
    return f"{amount:,}"


@register.filter
def exact_money(nano, currency: str = "USD") -> str:
    """Nano-units exactly, at least to the currency's minor unit (no rounding): "1.50", "12.3456"."""
    if nano in (None, ""):
        return MISSING
    return money_text(int(nano), currency or "USD")


@register.filter
def exact_amount(value) -> str:
    """Exactly, at least two decimals, no trailing zeros beyond them: 2.5000000000 -> "2.50",
    0.0750000000 -> "0.075", 30000000 (nano) -> "0.03"."""
    if value in (None, ""):
        return MISSING
    return exact_text(_amount(value))


@register.filter
def nano_money(nano, places: int = 2) -> str:
    """Nano-units rounded to a number of decimals (half-to-even), with thousands separators: 2500000000 -> "2.50"."""
    if nano in (None, ""):
        return MISSING
    value = Decimal(int(nano)).scaleb(-9).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_EVEN)
    return f"{value:,}"


@register.filter
def amount(value) -> str:
    """An amount already rounded (e.g. footed) as it is, with thousands separators: 12345.60 -> "12,345.60"."""
    if value in (None, ""):
        return MISSING
    return f"{Decimal(value):,}"


@register.filter
def signed_amount(value) -> str:
    """An amount already rounded, with its sign: "+1.00", "-1.00", "0.00"."""
    if value in (None, ""):
        return MISSING
    value = Decimal(value)
    return f"{value:+,}" if value else f"{abs(value):,}"


@register.filter
def pct(value, places: int = 1) -> str:
    """A percentage to a number of decimals: 12.345 -> "12.3%"."""
    return f"{Decimal(str(value)).quantize(Decimal(1).scaleb(-int(places)))}%"


@register.filter
def signed_pct(value) -> str:
    """A variance percentage with its sign and two decimals: "+1.25%", "-0.40%", "0.00%"."""
    if value in (None, ""):
        return MISSING
    return f"{Decimal(value):+.2f}%" if Decimal(value) else "0.00%"


@register.filter
def share_pct(value) -> str:
    """A share (0..1) as a percentage with two decimals: 0.125 -> "12.50%"."""
    if value in (None, ""):
        return ""
    return f"{(Decimal(value) * 100).quantize(Decimal('0.01'))}%"
