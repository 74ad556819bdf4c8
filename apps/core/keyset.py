"""Keyset (cursor) pages over a time-ordered table, newest first.

A page is found by its position, ``(time, id)`` of the row next to it, never by its number: no
``COUNT(*)`` and no ``OFFSET``, so page 1 and page 10,000 cost the same index range read of ``size + 1``
rows. Ties on the time are broken by the id, so no row is skipped or shown twice.

Cursors are opaque and signed with a salt the caller chooses (the page and its organisation): a cursor
edited by hand, or made for another organisation, is refused (``InvalidCursor``) instead of being read.
A cursor only says where to start; the rows always come from the caller's (scoped, filtered) queryset.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Q, QuerySet

OLDER = "o"
NEWER = "n"


class InvalidCursor(ValueError):
    """The cursor is not one this page signed."""


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    older_cursor: str | None  # the next page (older rows), or None at the oldest
    newer_cursor: str | None  # the previous page (newer rows), or None at the newest

    def __iter__(self) -> Iterator:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def has_other_pages(self) -> bool:
        return bool(self.older_cursor or self.newer_cursor)


def encode_cursor(*, when: datetime, pk: int, direction: str, salt: str) -> str:
    return signing.dumps([when.isoformat(), pk, direction], salt=salt, compress=False)


def decode_cursor(cursor: str, *, salt: str) -> tuple[datetime, int, str]:
    try:
        when, pk, direction = signing.loads(cursor, salt=salt)
        if direction not in (OLDER, NEWER) or type(pk) is not int:
            raise ValueError(direction)
        parsed = datetime.fromisoformat(when)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidCursor("This page link is not valid here: start again from the first page.") from exc
    return parsed, pk, direction


def keyset_page(
    queryset: QuerySet, *, cursor: str | None, size: int, salt: str, time_field: str = "occurred_at"
) -> KeysetPage:
    """One page of ``queryset`` newest first on ``(time_field, id)``; ``cursor`` from an earlier page's
    ``older_cursor``/``newer_cursor`` (None: the newest page). Raises ``InvalidCursor``."""
    newest_first = queryset.order_by(f"-{time_field}", "-id")
    if not cursor:
        rows = list(newest_first[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        return KeysetPage(rows, _cursor(rows[-1], time_field, OLDER, salt) if more else None, None)
    when, pk, direction = decode_cursor(cursor, salt=salt)
    if direction == OLDER:
        # (time, id) < (when, pk), written so the time bound is an index range, the id a tie-breaker
        before = Q(**{f"{time_field}__lt": when}) | Q(**{time_field: when, "id__lt": pk})
        rows = list(newest_first.filter(**{f"{time_field}__lte": when}).filter(before)[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        older = _cursor(rows[-1], time_field, OLDER, salt) if more else None
        newer = _cursor(rows[0], time_field, NEWER, salt) if rows else None
        return KeysetPage(rows, older, newer)
    after = Q(**{f"{time_field}__gt": when}) | Q(**{time_field: when, "id__gt": pk})
    oldest_first = queryset.order_by(time_field, "id").filter(**{f"{time_field}__gte": when}).filter(after)
    rows = list(oldest_first[: size + 1])
    more = len(rows) > size
    rows = rows[:size][::-1]
    newer = _cursor(rows[0], time_field, NEWER, salt) if more else None
    older = _cursor(rows[-1], time_field, OLDER, salt) if rows else None
    return KeysetPage(rows, older, newer)


def _cursor(row, time_field: str, direction: str, salt: str) -> str:
    return encode_cursor(when=getattr(row, time_field), pk=row.pk, direction=direction, salt=salt)
