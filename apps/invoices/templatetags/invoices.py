from django import template

from apps.invoices.formatting import money_text

register = template.Library()


@register.filter
def invoice_money(nano, currency: str = "USD") -> str:
    """Exact amount text from nano-units, at least to the currency's minor unit (no float, no rounding)."""
    if nano in (None, ""):
        return "—"
    return money_text(int(nano), currency or "USD")
