"""How bills' amounts are written out (the import summary, the API, the templates): pure, reads nothing."""

from decimal import Decimal

from apps.pricing.money import currency_exponent, nano_to_decimal


def money_text(nano: int, currency: str) -> str:
    """Exact decimal text, at least the currency's minor unit: 1_500_000_000 USD -> "1.50", 12.3456 -> "12.3456"."""
    value = nano_to_decimal(nano).normalize()
    places = currency_exponent(currency)
    if value.as_tuple().exponent > -places:
        value = value.quantize(Decimal(1).scaleb(-places))
    return f"{value:f}"
