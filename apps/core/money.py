"""Money helpers. Request-level costs are integers of nano-units (10**-9) of the currency everywhere in
the project; amounts a person reads are Decimals quantised to the currency's exponent. Never float: a
float may already have lost the cent it is asked to keep, so every helper refuses one."""

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

NANO = 10**9

# ISO 4217 minor-unit exponents that differ from the usual 2.
_EXPONENTS = {
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "CLP": 0,
    "VND": 0,
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
    "IQD": 3,
    "LYD": 3,
}

# Enough digits for any price × quantity this project meets (20-digit prices, 10**15 tokens).
_PRECISION = 80


def _require_decimal(value, name: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, not a float: floats cannot hold money exactly.")
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}.")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}.")
    return value


def decimal_to_nano(value: Decimal) -> int:
    """An amount of currency as an integer of nano-units, rounded half-to-even at the 9th decimal."""
    value = _require_decimal(value, "value")
    with localcontext() as context:
        context.prec = _PRECISION
        return int(value.scaleb(9).to_integral_value(rounding=ROUND_HALF_EVEN))


def nano_to_decimal(nano: int) -> Decimal:
    """The exact Decimal of an integer of nano-units (e.g. 2500000000 -> Decimal("2.500000000"))."""
    if isinstance(nano, bool) or not isinstance(nano, int):
        raise TypeError(f"nano must be an int, got {type(nano).__name__}.")
    sign = 1 if nano < 0 else 0
    return Decimal((sign, tuple(int(d) for d in str(abs(nano))), -9))


def currency_exponent(code: str) -> int:
    """ISO 4217 minor-unit digits: 2 for USD/EUR/GBP, 0 for JPY/KRW, 3 for BHD/KWD; 2 when unknown."""
    return _EXPONENTS.get((code or "").upper(), 2)


def quantize_money(value: Decimal, currency: str) -> Decimal:
    """Round an amount to the currency's minor unit, half-to-even."""
    value = _require_decimal(value, "value")
    with localcontext() as context:
        context.prec = _PRECISION
        return value.quantize(Decimal(1).scaleb(-currency_exponent(currency)), rounding=ROUND_HALF_EVEN)


def exact_text(value: Decimal, places: int = 2) -> str:
    """Exact decimal text with at least ``places`` decimals, no trailing zeros beyond them and never an
    exponent: (Decimal("2.5000000000"), 2) -> "2.50", (Decimal("0.0750000000"), 2) -> "0.075"."""
    value = Decimal(value).normalize()
    if value.as_tuple().exponent > -places:
        value = value.quantize(Decimal(1).scaleb(-places))
    return f"{value:f}"


def money_text(nano: int, currency: str) -> str:
    """Exact decimal text, at least the currency's minor unit: 1_500_000_000 USD -> "1.50", 12.3456 -> "12.3456"."""
    return exact_text(nano_to_decimal(nano), currency_exponent(currency))


def footed_minor_units(parts_nano: dict, currency: str, *, total: Decimal | None = None) -> dict:
    """Round each part (nano-units) to the currency's minor unit so that the rounded parts add up to the
    rounded total exactly: every part gets its floor, and the units still missing go one each to the
    largest remainders, ties to the lowest key. Returns Decimals keyed like ``parts_nano``.

    ``total`` is the shown total to foot to when it was itself footed elsewhere (e.g. an owner's row, to
    which that owner's lines must add up); it must be within one minor unit per part of the exact sum.
    Without it, the parts foot to their own sum rounded half-to-even.

    Shown totals (per owner, per section) are footed this way so a page or a CSV always adds up."""
    exponent = currency_exponent(currency)
    unit = 10 ** (9 - exponent)
    if total is None:
        with localcontext() as context:
            context.prec = _PRECISION
            target = int((Decimal(sum(parts_nano.values())) / unit).to_integral_value(rounding=ROUND_HALF_EVEN))
    else:
        target = int(total.scaleb(exponent))
    floors = {key: value // unit for key, value in parts_nano.items()}
    left_over = target - sum(floors.values())
    if not 0 <= left_over <= len(parts_nano):
        raise ValueError(f"{total} is not within a minor unit of the parts' sum.")
    by_remainder = sorted(parts_nano, key=lambda key: (-(parts_nano[key] - floors[key] * unit), key))
    for key in by_remainder[:left_over]:
        floors[key] += 1
    return {key: Decimal(units).scaleb(-exponent) for key, units in floors.items()}
