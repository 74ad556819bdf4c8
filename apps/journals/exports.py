"""A period's journal as a file in one of the layouts (``layouts.py``): the one read behind the API download,
the portal download and the ``export_journal`` command, so the three give the same bytes.

The file holds every entry of the period as booked, in booking order: the charges of version 1, then (after a
reopen) their reversals and the charges of the next version. An ERP that imports it again recognises the
entries it already has by their External ID / reference. A period with no billing period is a 404; one that
has no entries (not closed yet, or closed with nothing booked) is a 409 that says which.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from apps.periods.models import BillingPeriod
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .layouts import get_layout, layout_filename, layout_text
from .models import JournalEntry
from .services import journal_book_if_due


class NoJournal(Exception):
    """Nothing to export; ``status`` is the HTTP status that says why (404: no such period, 409: no entries)."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class JournalExport:
    filename: str
    text: str
    entries: int
    rows: int


def _no_entries_message(billing_period: BillingPeriod) -> str:
    label = f"{billing_period.period:%Y-%m}"
    if billing_period.state != BillingPeriod.State.CLOSED:
        return (
            f"{label} has no journal entries: the period is {billing_period.get_state_display().lower()}, and "
            "entries are booked when it closes."
        )
    return (
        f"{label} is closed but has no journal entries: nothing was booked (the period's journal page says why, "
        "e.g. a cost centre without a GL account or no recovery account)."
    )


@tenant_scoped
def journal_entries_for_export(*, organization: Organization, period: datetime.date) -> list[JournalEntry]:
    """The period's entries in booking order, with their lines and the entry each reversal reverses (three
    queries, however many entries)."""
    return list(
        JournalEntry.objects.filter(organization=organization, period=period)
        .select_related("reverses")
        .prefetch_related("lines")
        .order_by("pk")
    )


@tenant_scoped
def journal_export(*, organization: Organization, period: datetime.date, layout: str) -> JournalExport:
    """The period's journal in ``layout``. Raises LayoutError (unknown layout, an entry the layout cannot
    carry) or NoJournal (no such period, no entries)."""
    get_layout(layout)
    label = f"{period:%Y-%m}"
    billing_period = BillingPeriod.objects.filter(organization=organization, period=period).first()
    if billing_period is None:
        raise NoJournal(f"{label} has no billing period in {organization.name}.", status=404)
    journal_book_if_due(organization=organization, billing_period=billing_period)  # closed before it existed
    entries = journal_entries_for_export(organization=organization, period=period)
    if not entries:
        raise NoJournal(_no_entries_message(billing_period), status=409)
    text = layout_text(layout, entries)
    return JournalExport(
        filename=layout_filename(organization_slug=organization.slug, period=period, layout=layout),
        text=text,
        entries=len(entries),
        rows=sum(len(entry.lines.all()) for entry in entries),
    )
