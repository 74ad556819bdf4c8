from django import template

register = template.Library()


@register.filter
def can(membership, perm: str) -> bool:
    """``{% if current_membership|can:"org.manage_settings" %}``: the role table decides, not the template."""
    return membership is not None and membership.has_perm(perm)


@register.filter
def nano_money(nano, places: int = 2) -> str:
    """An integer of nano-units as a decimal string, e.g. 2500000000 -> "2.50" (exact, no float)."""
    from decimal import ROUND_HALF_EVEN, Decimal

    if nano in (None, ""):
        return "—"
    value = Decimal(int(nano)).scaleb(-9).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_EVEN)
    return f"{value:,}"


@register.filter
def pct(value, places: int = 1) -> str:
    from decimal import Decimal

    return f"{Decimal(str(value)).quantize(Decimal(1).scaleb(-int(places)))}%"


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()
