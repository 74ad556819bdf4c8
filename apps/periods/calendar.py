"""The fiscal calendar: which days belong to a billing period.

An organisation's periods start on its ``period_start_day`` (1–28, default 1) and are named after the
month they start in: with a start day of 5, "2026-10" runs from 5 October up to (not including)
5 November. Usage is assigned to periods by its day through these bounds; invoices keep their billing
month (a provider bills calendar months, and an invoice is never split).
"""

from datetime import date

from apps.tenancy.models import Organization


def month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_before(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def period_bounds(organization: Organization, period: date) -> tuple[date, date]:
    """(first day, first day of the next period) of the period named by ``period`` (a month's first day)."""
    start_day = organization.period_start_day
    following = month_after(period)
    return date(period.year, period.month, start_day), date(following.year, following.month, start_day)


def period_of_day(organization: Organization, day: date) -> date:
    """The period (as its month's first day) that a day of usage belongs to."""
    month = date(day.year, day.month, 1)
    return month if day.day >= organization.period_start_day else month_before(month)
