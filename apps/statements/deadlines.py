"""The dispute window of a draft statement: budget owners may dispute it until the end of the
``Organization.dispute_window_business_days``-th business day after the day it was issued, in the portal's time
zone (``TIME_ZONE``). Business days are Monday to Friday; public holidays are not known to the portal and count
as business days. A draft rebuilt after an accepted dispute keeps its issue date (and so its window); a period
sent back and submitted again issues new drafts, with a new window.

Pure date arithmetic on the statement's ``issued_at``: no table is read beyond the organisation the statement
already carries."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

SATURDAY = 5


def add_business_days(start: date, days: int) -> date:
    """The ``days``-th weekday after ``start`` (``start`` itself not counted, whatever day it is)."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < SATURDAY:
            left -= 1
    return current


def dispute_deadline(statement, *, organization=None) -> datetime:
    """The moment the dispute window of ``statement`` closes: the end of its last business day (exclusive
    bound: a dispute is on time while ``now < dispute_deadline``). ``organization``: the statement's, when
    the caller has it in hand (a list would otherwise load it per row)."""
    organization = organization or statement.organization
    issued_day = timezone.localdate(statement.issued_at)
    last_day = add_business_days(issued_day, organization.dispute_window_business_days)
    return timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))


def dispute_last_day(statement) -> date:
    """The window's last business day, as the pages show it ("until Friday 13 November")."""
    return timezone.localdate(dispute_deadline(statement) - timedelta(microseconds=1))


def dispute_window_open(statement, *, now: datetime | None = None) -> bool:
    return (now or timezone.now()) < dispute_deadline(statement)
