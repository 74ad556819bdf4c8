from decimal import Decimal

from django import template

from apps.core.money import currency_exponent
from apps.reconciliation.formatting import variance_money

register = template.Library()


@register.filter
def mul(value, factor) -> int:
    return int(value) * int(factor)


@register.filter
def recon_variance(row, currency: str = "USD") -> str:
    """Invoiced minus estimated as displayed (both rounded first), so a row always foots on screen."""
    if row is None or row.invoiced_nano is None:
        return "—"

    value = Decimal(variance_money(row.estimated_nano, row.invoiced_nano, currency or "USD"))
    return f"{value:,.{currency_exponent(currency or 'USD')}f}"
