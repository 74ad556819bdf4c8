from decimal import Decimal

from django import template

from apps.pricing.money import nano_to_decimal

register = template.Library()


def _plain(value: Decimal) -> str:
    """At least two decimals, no trailing zeros beyond them, never scientific notation."""
    value = Decimal(value).normalize()
    if value.as_tuple().exponent > -2:
        value = value.quantize(Decimal("0.01"))
    return format(value, "f")


@register.filter
def price(value) -> str:
    """2.5000000000 -> "2.50", 0.0750000000 -> "0.075"."""
    return "—" if value in (None, "") else _plain(value)


@register.filter
def nano_amount(nano) -> str:
    """An integer of nano-units as its exact decimal amount: 30000000 -> "0.03"."""
    return "—" if nano in (None, "") else _plain(nano_to_decimal(int(nano)))


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
