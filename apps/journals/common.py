"""Helpers the journal's services, selectors and views share: what it says when nothing can be booked, and
how entries are read with their lines."""

from django.db.models import Prefetch, QuerySet

from .models import JournalEntry, JournalLine


def missing_accounts_text(*, label: str, missing_gl: list[str], missing_recovery: list[str]) -> str:
    parts = []
    if missing_gl:
        parts.append(f"cost centres without a GL account: {', '.join(missing_gl)}")
    if missing_recovery:
        codes = ", ".join(code or "(blank)" for code in missing_recovery)
        parts.append(f"company codes without a recovery account (and no default one): {codes}")
    if not parts:
        return ""
    return f"Nothing of {label} was booked to the journal: " + "; ".join(parts) + "."


def with_lines(queryset: QuerySet[JournalEntry]) -> QuerySet[JournalEntry]:
    """Entries with their lines in one more query, and the external id of the entry a reversal reverses."""
    return queryset.select_related("reverses").prefetch_related(
        Prefetch("lines", queryset=JournalLine.objects.order_by("position"))
    )
