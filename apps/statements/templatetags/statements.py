from decimal import Decimal

from django import template

from apps.pricing.money import nano_to_decimal, quantize_money

register = template.Library()


@register.filter
def money(value, currency: str = "USD") -> str:
    """A Decimal amount (or an integer of nano-units) as the currency shows it, e.g. "1,234.50"."""
    if value in (None, ""):
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        value = nano_to_decimal(value)
    return f"{quantize_money(Decimal(value), currency):,}"


@register.filter
def signed_money(value, currency: str = "USD") -> str:
    """A difference: "+12.50", "−3.00" or "0.00"."""
    if value in (None, ""):
        return "—"
    amount = quantize_money(Decimal(value), currency)
    if amount > 0:
        return f"+{amount:,}"
    if amount < 0:
        return f"−{-amount:,}"
    return f"{amount:,}"


@register.filter
def share_pct(value) -> str:
    """A share (0..1, twelve decimals) as a percentage with two decimals."""
    if value in (None, ""):
        return ""
    return f"{(Decimal(value) * 100).quantize(Decimal('0.01'))}%"
