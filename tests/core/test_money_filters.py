"""The one set of money filters (``{% load money %}``), rendered through a template as pages use them."""

from decimal import Decimal

import pytest
from django.template import Context, Template


def render(text: str, **context) -> str:
    return Template("{% load money %}" + text).render(Context(context))


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (1_234_505_000_000, "USD", "1,234.50"),  # nano: half-to-even at the cent
        (1_234_515_000_000, "USD", "1,234.52"),
        (Decimal("1234.5"), "USD", "1,234.50"),  # an amount stays an amount
        (-2_500_000_000, "USD", "-2.50"),
        (1_234_500_000_000, "JPY", "1,234"),
        (1_234_500_000_000, "BHD", "1,234.500"),
        (0, "USD", "0.00"),
        (None, "USD", "—"),
    ],
)
def test_money_rounds_to_the_currency(value, currency, shown):
    assert render("{{ v|money:c }}", v=value, c=currency) == shown


def test_signed_money_and_signed_amount_keep_their_signs():
    assert render("{{ v|signed_money:'USD' }}", v=Decimal("12.5")) == "+12.50"
    assert render("{{ v|signed_money:'USD' }}", v=Decimal("-3")) == "−3.00"
    assert render("{{ v|signed_money:'USD' }}", v=Decimal("0")) == "0.00"
    assert render("{{ v|signed_amount }}", v=Decimal("1.00")) == "+1.00"
    assert render("{{ v|signed_amount }}", v=Decimal("-1000.00")) == "-1,000.00"
    assert render("{{ v|signed_amount }}", v=Decimal("0.00")) == "0.00"


def test_exact_filters_never_round():
    assert render("{{ v|exact_money:'USD' }}", v=1_500_000_000) == "1.50"
    assert render("{{ v|exact_money:'USD' }}", v=12_345_600_000) == "12.3456"
    assert render("{{ v|exact_money:'JPY' }}", v=1_000_000_000_000) == "1000"
    assert render("{{ v|exact_amount }}", v=Decimal("2.5000000000")) == "2.50"
    assert render("{{ v|exact_amount }}", v=Decimal("0.0750000000")) == "0.075"
    assert render("{{ v|exact_amount }}", v=30_000_000) == "0.03"
    assert render("{{ v|exact_amount }}", v=None) == "—"


def test_nano_money_amount_and_percentages():
    assert render("{{ v|nano_money:2 }}", v=1_234_567_890_000) == "1,234.57"
    assert render("{{ v|nano_money:6 }}", v=2_500_000) == "0.002500"
    assert render("{{ v|amount }}", v=Decimal("12345.60")) == "12,345.60"
    assert render("{{ v|pct }}", v=12.345) == "12.3%"
    assert render("{{ v|signed_pct }}", v=Decimal("1.254")) == "+1.25%"
    assert render("{{ v|signed_pct }}", v=Decimal("0")) == "0.00%"
    assert render("{{ v|share_pct }}", v=Decimal("0.125000000000")) == "12.50%"
    assert render("{{ v|share_pct }}", v=None) == ""
