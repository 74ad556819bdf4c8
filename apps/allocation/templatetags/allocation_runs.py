from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def amount(value) -> str:
    """A shown (already footed) Decimal amount with thousands separators: 12345.60 -> "12,345.60"."""
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):,}"


@register.filter
def signed(value) -> str:
    """A difference with its sign: "+1.00", "-1.00", "0.00"."""
    if value in (None, ""):
        return "—"
    value = Decimal(value)
    return f"{value:+,}" if value else f"{abs(value):,}"
