"""The fiscal calendar on the ground floor: period bounds for a start day, and the one reading of "YYYY-MM"."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from apps.core.calendar import month_after, month_before, parse_period, period_bounds, period_of_day
from apps.core.forms import PeriodForm


@pytest.mark.parametrize(
    ("start_day", "period", "bounds"),
    [
        (1, date(2026, 10, 1), (date(2026, 10, 1), date(2026, 11, 1))),
        (5, date(2026, 10, 1), (date(2026, 10, 5), date(2026, 11, 5))),
        (28, date(2026, 12, 1), (date(2026, 12, 28), date(2027, 1, 28))),
        (15, date(2027, 1, 1), (date(2027, 1, 15), date(2027, 2, 15))),
    ],
)
def test_period_bounds(start_day, period, bounds):
    assert period_bounds(period, start_day=start_day) == bounds


@pytest.mark.parametrize(
    ("start_day", "day", "period"),
    [
        (1, date(2026, 10, 31), date(2026, 10, 1)),
        (5, date(2026, 10, 4), date(2026, 9, 1)),
        (5, date(2026, 10, 5), date(2026, 10, 1)),
        (5, date(2027, 1, 3), date(2026, 12, 1)),
    ],
)
def test_period_of_day(start_day, day, period):
    assert period_of_day(day, start_day=start_day) == period


def test_months_around_the_year_end():
    assert month_after(date(2026, 12, 1)) == date(2027, 1, 1)
    assert month_before(date(2027, 1, 1)) == date(2026, 12, 1)


def test_parse_period_reads_yyyy_mm_only():
    assert parse_period("2026-10") == date(2026, 10, 1)
    for text in ("2026-13", "2026-1", "october", "", None, "2026-10-01"):
        with pytest.raises(ValidationError) as caught:
            parse_period(text)
        assert caught.value.message_dict == {"period": [f"“{text}” is not a period: use YYYY-MM, e.g. 2026-10."]}


def test_the_period_form_reads_the_same_pattern():
    assert PeriodForm({"period": "2026-10"}).period_date() == date(2026, 10, 1)
    assert PeriodForm({"period": ""}).period_date() is None
    form = PeriodForm({"period": "2026-13"})
    assert form.period_date() is None
    assert form.errors == {"period": ["Use YYYY-MM, e.g. 2026-10."]}
