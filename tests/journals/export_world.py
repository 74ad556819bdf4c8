"""Journal entries for the export tests, booked with the ORM from a closed month's final statements.

The booking service (``journals.services.journal_book``) is written elsewhere; these tests need entries as
the table holds them, so they book the rule the plan fixes by hand: per final statement one charge entry, a
debit line per non-zero section on the cost centre's GL account (a negative section on the credit side) and
one balancing credit on the recovery account. ``reverse`` books the full reversal of a charge."""

import calendar
import datetime

from django_scopes import scope

from apps.journals.models import JournalEntry, JournalLine
from apps.statements.models import Statement

RECOVERY_ACCOUNT = "7990"
SECTIONS = ("direct", "shared", "true_up", "adjustment")
# The ERP references given to the SHARED month's cost centres before booking.
ERP = {
    "CC-1101": {
        "gl_account": "6100",
        "department": "Search",
        "company_code": "US01",
        "erp_class": "AI",
        "location": "NYC",
    },
    "CC-1201": {"gl_account": "6200", "department": "Ads", "company_code": "US01", "erp_class": "AI", "location": "SF"},
    "CC-1401": {"gl_account": "6400", "department": "Finance", "company_code": "US01", "erp_class": "", "location": ""},
}


def last_day(period: datetime.date) -> datetime.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def _line(entry, position, account, amount_nano, amount, owner, memo, *, debit: bool):
    """A line of ``amount`` on its natural side (``debit``); a negative amount goes to the other side."""
    on_debit = debit == (amount_nano >= 0)
    side = "debit" if on_debit else "credit"
    return JournalLine.objects.create(
        organization=entry.organization,
        entry=entry,
        position=position,
        account=account,
        cost_centre=owner.code,
        department=owner.department,
        erp_class=owner.erp_class,
        location=owner.location,
        company_code=owner.company_code,
        memo=memo,
        **{f"{side}_nano": abs(amount_nano), side: abs(amount)},
    )


def book_charges(organization, period: datetime.date) -> list[JournalEntry]:
    """One charge entry per final statement of ``period`` with a non-zero total."""
    entries = []
    with scope(organization=organization):
        statements = Statement.objects.filter(period=period, status="final").select_related("owner", "billing_period")
        for statement in statements.order_by("owner_code"):
            if not statement.total_nano:
                continue
            owner = statement.owner
            for field, value in ERP.get(owner.code, {}).items():
                setattr(owner, field, value)
            owner.save()
            label = f"{period:%Y-%m}"
            entry = JournalEntry.objects.create(
                organization=organization,
                billing_period=statement.billing_period,
                period=period,
                statement=statement,
                version=statement.version,
                kind=JournalEntry.Kind.CHARGE,
                external_id=f"{organization.slug}-{label}-{owner.code}-v{statement.version}",
                document_ref="pending",
                header_text=f"AI chargeback {label} v{statement.version}",
                posting_date=last_day(period),
                currency=statement.currency,
                company_code=owner.company_code,
                owner_code=owner.code,
                memo=f"AI chargeback {label} {owner.code} {owner.name}",
                total_nano=statement.total_nano,
                total_amount=statement.total_amount,
            )
            entry.document_ref = f"CB{entry.pk}"
            entry.save(update_fields=["document_ref"])
            position = 0
            for section in SECTIONS:
                nano = getattr(statement, f"{section}_nano")
                if not nano:
                    continue
                position += 1
                _line(
                    entry,
                    position,
                    owner.gl_account,
                    nano,
                    getattr(statement, f"{section}_amount"),
                    owner,
                    f"{section.replace('_', '-')} {owner.code}",
                    debit=True,
                )
            _line(
                entry,
                position + 1,
                RECOVERY_ACCOUNT,
                statement.total_nano,
                statement.total_amount,
                owner,
                f"Recovered from {owner.code}",
                debit=False,
            )
            entries.append(entry)
    return entries


def reverse(charge: JournalEntry) -> JournalEntry:
    """The full reversal of ``charge``: its lines with debits and credits swapped."""
    organization = charge.organization
    with scope(organization=organization):
        entry = JournalEntry.objects.create(
            organization=organization,
            billing_period=charge.billing_period,
            period=charge.period,
            statement=charge.statement,
            version=charge.version,
            kind=JournalEntry.Kind.REVERSAL,
            reverses=charge,
            external_id=f"{charge.external_id}-rev",
            document_ref="pending",
            header_text=f"Reversal {charge.period:%Y-%m} v{charge.version}",
            posting_date=charge.posting_date,
            currency=charge.currency,
            company_code=charge.company_code,
            owner_code=charge.owner_code,
            memo=f"Reversal of {charge.external_id}",
            total_nano=charge.total_nano,
            total_amount=charge.total_amount,
        )
        entry.document_ref = f"CB{entry.pk}"
        entry.save(update_fields=["document_ref"])
        for line in charge.lines.order_by("position"):
            mirrored = line.mirrored(memo=line.memo)
            mirrored.entry = entry
            mirrored.save()
    return entry


def booked_october(organization) -> list[JournalEntry]:
    """October (``scenarios.SHARED``) closed, its three final statements booked (CC-1101 16.11, CC-1201 4.55,
    CC-1401 0.35 USD), then CC-1101's charge reversed: four entries, in booking order."""
    from tests import scenarios

    scenarios.closed(scenarios.issued(organization))
    charges = book_charges(organization, scenarios.OCT)
    return [*charges, reverse(charges[0])]


def rows_of(text: str) -> list[list[str]]:
    """A CSV file's header and rows, each text cell as it went in (the formula guard taken off)."""
    import csv
    import io

    from apps.core.csv import restore

    return [[restore(cell) for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]


def records_of(text: str) -> list[dict]:
    rows = rows_of(text)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
