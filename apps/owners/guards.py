"""Settings guards of the cost-centre floor, registered through ``apps.tenancy.hooks`` in ``OwnersConfig.ready()``.

The base currency is fixed once money has been written in it: budgets, runs and statements hold amounts in the
base currency of their day and nothing re-converts them. Each floor counts its own rows; the message names them
and says what to do instead (``fixed_base_currency_message``, shared by the guards of the floors above).
"""

from apps.tenancy.scoping import tenant_scoped

from .models import Budget


@tenant_scoped
def fixed_base_currency_message(*, organization, count: int, noun: str) -> str | None:
    """ "Globex's base currency EUR is fixed: 48 budgets are in EUR. …", or None when nothing counts."""
    if not count:
        return None
    currency = organization.base_currency
    verb = "is" if count == 1 else "are"
    return (
        f"The base currency of {organization.name}, {currency}, is fixed: {count} {noun} {verb} in {currency}. "
        "Nothing is re-converted; open a new organisation for another base currency."
    )


@tenant_scoped
def budgets_fix_base_currency(*, organization) -> str | None:
    count = Budget.objects.filter(organization=organization).count()
    return fixed_base_currency_message(
        organization=organization, count=count, noun="budget" if count == 1 else "budgets"
    )
