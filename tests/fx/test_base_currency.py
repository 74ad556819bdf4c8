"""The base currency may change only while no app holds figures in it (settings guards on base_currency)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.services import organization_update
from apps.tenancy import hooks

pytestmark = pytest.mark.django_db


def _update(org, actor, **changes):
    values = {
        "name": org.name,
        "base_currency": org.base_currency,
        "variance_tolerance_pct": Decimal("5.00"),
        **changes,
    }
    return organization_update(organization=org, actor=actor, **values)


def test_change_allowed_when_no_guard_objects(world):
    org = world.org("a")
    _update(org, world.user("a"), base_currency="EUR", fx_policy="period_end")
    org.refresh_from_db()
    assert (org.base_currency, org.fx_policy, org.fx_source) == ("EUR", "period_end", "ecb")


def test_change_refused_with_the_guards_message(world):
    org = world.org("a")
    asked = []

    def guard(*, organization):
        asked.append(organization.pk)
        return (
            f"{organization.name}'s base currency {organization.base_currency} is fixed: 3 reconciliation runs are in "
            f"{organization.base_currency}. Nothing is re-converted; open a new organisation for another base currency."
        )

    hooks.register_settings_guard("base_currency", guard)
    try:
        # Other fields still change freely: the guard is asked only when the base currency changes.
        _update(org, world.user("a"), name="Alpha Corporation")
        assert asked == []
        with pytest.raises(ValidationError) as caught:
            _update(org, world.user("a"), base_currency="EUR")
    finally:
        hooks._settings_guards["base_currency"].remove(guard)
    assert asked == [org.pk]
    assert caught.value.message_dict["base_currency"] == [
        "Alpha Corporation's base currency USD is fixed: 3 reconciliation runs are in USD. Nothing is re-converted; "
        "open a new organisation for another base currency."
    ]
    org.refresh_from_db()
    assert org.base_currency == "USD"
