"""Issue 13 item 2: money never lives in a float that loses a cent. Budgets are DecimalFields, which
SQLite keeps as REAL (about 15 significant digits): their ceiling keeps every budget exact there."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from apps.owners.models import Budget
from apps.owners.services import budget_set
from apps.owners.validation import amount_error

pytestmark = pytest.mark.django_db

OCT = datetime.date(2026, 10, 1)


def test_the_largest_budget_round_trips_exactly(world, tree):
    organization = world.org("a")
    largest = Decimal("999999999999.99")  # 14 significant digits
    with scope(organization=organization):
        budget_set(
            organization=organization, actor=None, owner=tree["CC-1101"], period=OCT, amount=largest, currency="USD"
        )
        assert Budget.objects.get().amount == largest


def test_a_budget_beyond_the_ceiling_is_refused_before_it_loses_cents(world, tree):
    """1234567890123456.78 has 18 significant digits: it used to be accepted and read back without cents."""
    assert amount_error(Decimal("1234567890123456.78")) == (
        "That amount is too large: budgets go up to 999,999,999,999.99."
    )
    organization = world.org("a")
    with scope(organization=organization), pytest.raises(ValidationError):
        budget_set(
            organization=organization,
            actor=None,
            owner=tree["CC-1101"],
            period=OCT,
            amount=Decimal("1000000000000.00"),
            currency="USD",
        )
