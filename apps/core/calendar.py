"""The fiscal calendar: which days belong to a billing period, and the one way to read a period's name.

Periods start on a given day of the month (1–28; an organisation keeps it as ``period_start_day``, default 1,
and callers pass it in as ``start_day``) and are named after the month they start in: with a start day of 5,
"2026-10" runs from 5 October up to (not including) 5 November. Usage is assigned to periods by its day
through these bounds; invoices keep their billing month (a provider bills calendar months, and an invoice is
never split).
"""

import re
from datetime import date

from django.core.exceptions import ValidationError

# A period's name: YYYY-MM with a month that can exist. The URL converter and PeriodForm use the same pattern.
PERIOD_PATTERN = r"\d{4}-(?:0[1-9]|1[0-2])"
_PERIOD_RE = re.compile(PERIOD_PATTERN)


def parse_period(text: str) -> date:
    """'2026-10' → date(2026, 10, 1), or a ValidationError that says what a period looks like."""
    if not isinstance(text, str) or not _PERIOD_RE.fullmatch(text):
        raise ValidationError({"period": f"“{text}” is not a period: use YYYY-MM, e.g. 2026-10."})
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_before(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def period_bounds(period: date, *, start_day: int) -> tuple[date, date]:
    """(first day, first day of the next period) of the period named by ``period`` (a month's first day)."""
    following = month_after(period)
    return date(period.year, period.month, start_day), date(following.year, following.month, start_day)


def period_of_day(day: date, *, start_day: int) -> date:
    """The period (as its month's first day) that a day of usage belongs to."""
    month = date(day.year, day.month, 1)
    return month if day.day >= start_day else month_before(month)
