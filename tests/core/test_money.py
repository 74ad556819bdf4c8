from decimal import Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.money import NANO, currency_exponent, decimal_to_nano, nano_to_decimal, quantize_money


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_nano_round_trip_is_exact(nano):
    value = nano_to_decimal(nano)
    assert decimal_to_nano(value) == nano
    assert value.scaleb(9, context=Context(prec=100)) == nano
    assert value.as_tuple().exponent == -9
    assert NANO == 10**9


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=9, allow_nan=False))
def test_decimals_with_nine_places_convert_without_rounding(value):
    assert nano_to_decimal(decimal_to_nano(value)) == value


@given(st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=14, allow_nan=False))
def test_decimal_to_nano_is_the_nearest_nano(value):
    nano = decimal_to_nano(value)
    assert abs(nano_to_decimal(nano) - value) <= Decimal("0.0000000005")


def test_decimal_to_nano_rounds_half_to_even():
    assert decimal_to_nano(Decimal("0.0000000005")) == 0
    assert decimal_to_nano(Decimal("0.0000000015")) == 2
    assert decimal_to_nano(Decimal("-0.0000000025")) == -2
    assert decimal_to_nano(Decimal("2.50")) == 2_500_000_000
    assert nano_to_decimal(2_500_000_000) == Decimal("2.5")
    assert str(nano_to_decimal(1)) == "1E-9"


@pytest.mark.parametrize(
    ("code", "exponent"),
    [("USD", 2), ("eur", 2), ("GBP", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3), ("XYZ", 2)],
)
def test_currency_exponent(code, exponent):
    assert currency_exponent(code) == exponent


def test_quantize_money_uses_the_currency_exponent_half_to_even():
    assert quantize_money(Decimal("2.125"), "USD") == Decimal("2.12")
    assert quantize_money(Decimal("2.135"), "USD") == Decimal("2.14")
    assert quantize_money(Decimal("1234.5"), "JPY") == Decimal("1234")
    assert quantize_money(Decimal("1.23456"), "KWD") == Decimal("1.235")
    assert str(quantize_money(Decimal("3"), "EUR")) == "3.00"


@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6, allow_nan=False))
def test_quantize_money_is_idempotent_and_close(value):
    once = quantize_money(value, "USD")
    assert quantize_money(once, "USD") == once
    assert abs(once - value) <= Decimal("0.005")
    assert once.as_tuple().exponent == -2


@pytest.mark.parametrize("call", [decimal_to_nano, lambda v: quantize_money(v, "USD")])
def test_floats_are_refused(call):
    with pytest.raises(TypeError, match="float"):
        call(2.5)


def test_other_bad_inputs_are_refused():
    with pytest.raises(TypeError):
        nano_to_decimal(1.0)
    with pytest.raises(TypeError):
        nano_to_decimal(True)
    with pytest.raises(TypeError):
        decimal_to_nano("2.50")
    with pytest.raises(ValueError):
        decimal_to_nano(Decimal("NaN"))
