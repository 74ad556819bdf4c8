from decimal import Decimal

from django import template

from apps.core.money import currency_exponent, nano_to_decimal, quantize_money

register = template.Library()


@register.filter
def recon_money(nano, currency: str = "USD") -> str:
    """Nano-units as money quantised to the currency's minor unit (half-to-even), with thousands separators."""
    if nano in (None, ""):
        return "—"
    value = quantize_money(nano_to_decimal(int(nano)), currency or "USD")
    places = currency_exponent(currency or "USD")
    return f"{value:,.{places}f}"


@register.filter
def recon_pct(value) -> str:
    if value in (None, ""):
        return "—"
    return f"{Decimal(value):+.2f}%" if Decimal(value) else "0.00%"


@register.filter
def mul(value, factor) -> int:
    return int(value) * int(factor)


@register.filter
def recon_variance(row, currency: str = "USD") -> str:
    """Invoiced minus estimated as displayed (both rounded first), so a row always foots on screen."""
    if row is None or row.invoiced_nano is None:
        return "—"
    from decimal import Decimal

    from apps.reconciliation.selectors import variance_money

    value = Decimal(variance_money(row.estimated_nano, row.invoiced_nano, currency or "USD"))
    return f"{value:,.{currency_exponent(currency or 'USD')}f}"
