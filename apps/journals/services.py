"""Writes on the journal: booking a closed period's statements, the ERP's posting acknowledgement and the
recovery accounts the entries credit.

``journal_book`` is the booking rule. For each final statement of the period's current version with a
non-zero total it books one ``charge`` entry: a debit line on the cost centre's GL account per non-zero
statement section (a negative section, such as a dispute credit, goes to the credit side), and one
balancing line on the recovery account of the cost centre's company code (else the default one, company
code ""). Before booking version n+1, every charge of an earlier version that has no reversal gets a full
reversal (each line's debit and credit swapped, external id ``<charge>-rev``). It is idempotent: a charge is
booked once per statement and a reversal once per charge (the database's unique keys hold it too).

When an account is missing (a cost centre without a GL account, a company code without a recovery account
and no default), it books nothing at all, reversals included, and says why in ``Booking.reason``: the period
closes anyway, and the journal page shows the reason until the accounts are set and the journal is booked
on its first request (``journal_book_if_due``).

It runs as an effect of the ``close`` transition (registered in ``apps.py``, after statements have made the
drafts final: INSTALLED_APPS order), inside its transaction and with the period row locked, and writes no
audit event of its own (the transition writes one; the entries record themselves). When it books, it emits
``journal.ready`` in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from apps.audit.services import actor_label_for, audit_record, audited_update, model_snapshot
from apps.core.calendar import period_bounds
from apps.core.money import quantize_money
from apps.periods.models import BillingPeriod
from apps.statements.models import SECTION_ORDER, Section, Statement
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.webhooks.events import emit

from .common import missing_accounts_text
from .models import JournalEntry, JournalLine, RecoveryAccount

SECTION_MEMO = {
    Section.DIRECT: "Direct AI cost",
    Section.SHARED: "Shared AI cost",
    Section.TRUE_UP: "AI invoice true-up",
    Section.ADJUSTMENT: "Dispute adjustments",
}


class AcknowledgementConflict(ValidationError):
    """The entry is already posted under another reference (the API answers 409)."""

    status_code = 409


@dataclass
class Booking:
    """What ``journal_book`` did, or why it did nothing."""

    billing_period: BillingPeriod
    charges: list[JournalEntry] = field(default_factory=list)
    reversals: list[JournalEntry] = field(default_factory=list)
    missing_gl: list[str] = field(default_factory=list)  # cost-centre codes without a GL account
    missing_recovery: list[str] = field(default_factory=list)  # company codes without a recovery account
    note: str = ""  # why there was nothing to book, when nothing was missing

    @property
    def booked(self) -> bool:
        return bool(self.charges or self.reversals)

    @property
    def blocked(self) -> bool:
        return bool(self.missing_gl or self.missing_recovery)

    @property
    def reason(self) -> str:
        return (
            missing_accounts_text(
                label=self.billing_period.label, missing_gl=self.missing_gl, missing_recovery=self.missing_recovery
            )
            or self.note
        )


def _posting_date(billing_period: BillingPeriod):
    """The last day of the period (its fiscal bounds: the organisation's start day)."""
    _first, after = period_bounds(billing_period.period, start_day=billing_period.organization.period_start_day)
    return after - timedelta(days=1)


def _fx_block(statement: Statement) -> dict | None:
    # The statement API's conversion block, as JSON (its dates as ISO text), so the entry carries the same.
    from apps.statements.api.serializers import conversion_data
    from apps.statements.selectors import statement_conversion

    data = conversion_data(statement, statement_conversion(statement=statement))
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder)) if data else None


def _recovery_for(accounts: dict[str, RecoveryAccount], company_code: str) -> RecoveryAccount | None:
    return accounts.get(company_code) or accounts.get("")


def _missing(statements: list[Statement], accounts: dict[str, RecoveryAccount]) -> tuple[list[str], list[str]]:
    missing_gl = sorted({s.owner_code for s in statements if not s.owner.gl_account.strip()})
    missing_recovery = sorted(
        {s.owner.company_code for s in statements if _recovery_for(accounts, s.owner.company_code) is None}
    )
    return missing_gl, missing_recovery


def _entry(statement: Statement, *, kind: str, external_id: str, header_text: str, memo: str, **extra):
    owner = statement.owner
    return JournalEntry(
        organization_id=statement.organization_id,
        billing_period_id=statement.billing_period_id,
        period=statement.period,
        statement=statement,
        version=statement.version,
        kind=kind,
        external_id=external_id,
        document_ref="CB",  # "CB<pk>" once the row has its key
        header_text=header_text[:25],
        currency=statement.currency,
        company_code=owner.company_code,
        owner_code=statement.owner_code,
        memo=memo[:300],
        **extra,
    )


def _save_with_lines(entry: JournalEntry, lines: list[JournalLine]) -> JournalEntry:
    entry.total_nano = sum(line.debit_nano for line in lines)
    entry.total_amount = sum((line.debit for line in lines), Decimal(0))
    if entry.total_nano != sum(line.credit_nano for line in lines) or entry.total_amount != sum(
        (line.credit for line in lines), Decimal(0)
    ):
        raise ValueError(f"Journal entry {entry.external_id} does not balance.")  # a bug, never data
    entry.save()
    entry.document_ref = f"CB{entry.pk}"
    JournalEntry.objects.filter(organization_id=entry.organization_id, pk=entry.pk).update(
        document_ref=entry.document_ref
    )
    for position, line in enumerate(lines, start=1):
        line.organization_id = entry.organization_id
        line.entry = entry
        line.position = position
    JournalLine.objects.bulk_create(lines)
    return entry


def _charge(statement: Statement, *, organization: Organization, recovery: RecoveryAccount, date) -> JournalEntry:
    owner, label, n = statement.owner, statement.period_label, statement.version
    erp = {
        "cost_centre": statement.owner_code,
        "department": owner.department,
        "erp_class": owner.erp_class,
        "location": owner.location,
        "company_code": owner.company_code,
    }
    lines = []
    for section in SECTION_ORDER:
        amount, nano = statement.section_amount(section), statement.section_nano(section)
        if nano == 0 and amount == 0:
            continue
        side = "debit" if nano > 0 or (nano == 0 and amount > 0) else "credit"
        lines.append(
            JournalLine(
                account=owner.gl_account.strip(),
                memo=f"{SECTION_MEMO[section]} {label} {statement.owner_code} v{n}"[:300],
                **{f"{side}_nano": abs(nano), side: abs(amount)},
                **erp,
            )
        )
    total_nano, total = statement.total_nano, statement.total_amount
    side = "credit" if total_nano > 0 else "debit"
    lines.append(
        JournalLine(
            account=recovery.account,
            company_code=owner.company_code,
            memo=f"Recovery of AI spend {label} {statement.owner_code} v{n}"[:300],
            **{f"{side}_nano": abs(total_nano), side: abs(total)},
        )
    )
    entry = _entry(
        statement,
        kind=JournalEntry.Kind.CHARGE,
        external_id=f"{organization.slug}-{label}-{statement.owner_code}-v{n}",
        header_text=f"AI chargeback {label} v{n}",
        memo=f"AI chargeback {label} {statement.owner_code} {statement.owner_name} v{n}",
        posting_date=date,
        fx=_fx_block(statement),
    )
    return _save_with_lines(entry, lines)


def _reversal(charge: JournalEntry, *, date) -> JournalEntry:
    lines = [line.mirrored(memo=f"Reversal: {line.memo}") for line in charge.lines.order_by("position")]
    entry = JournalEntry(
        organization_id=charge.organization_id,
        billing_period_id=charge.billing_period_id,
        period=charge.period,
        statement_id=charge.statement_id,
        version=charge.version,
        kind=JournalEntry.Kind.REVERSAL,
        reverses=charge,
        external_id=f"{charge.external_id}-rev",
        document_ref="CB",
        header_text=f"Reversal {charge.period:%Y-%m} v{charge.version}"[:25],
        posting_date=date,
        currency=charge.currency,
        company_code=charge.company_code,
        owner_code=charge.owner_code,
        memo=f"Reversal of {charge.external_id}: {charge.memo}"[:300],
        fx=charge.fx,
    )
    return _save_with_lines(entry, lines)


def _money_text(value: Decimal, currency: str) -> str:
    return str(quantize_money(value, currency))


@tenant_scoped
@transaction.atomic
def journal_book(*, organization: Organization, billing_period: BillingPeriod, actor=None) -> Booking:
    """Book a closed period's current final statements (see the module docstring); returns what it did."""
    booking = Booking(billing_period=billing_period)
    if billing_period.state != BillingPeriod.State.CLOSED:
        booking.note = f"{billing_period.label} is not closed: its statements are booked when it closes."
        return booking
    booked = set(
        JournalEntry.objects.filter(
            billing_period=billing_period, kind=JournalEntry.Kind.CHARGE, version=billing_period.version
        ).values_list("statement_id", flat=True)
    )
    statements = [
        statement
        for statement in Statement.objects.filter(
            billing_period=billing_period, version=billing_period.version, status=Statement.Status.FINAL
        )
        .exclude(total_nano=0)
        .select_related("owner", "allocation_run")
        .order_by("owner_code")
        if statement.pk not in booked
    ]
    reversed_ids = set(
        JournalEntry.objects.filter(billing_period=billing_period, kind=JournalEntry.Kind.REVERSAL).values_list(
            "reverses_id", flat=True
        )
    )
    to_reverse = [
        charge
        for charge in JournalEntry.objects.filter(
            billing_period=billing_period, kind=JournalEntry.Kind.CHARGE, version__lt=billing_period.version
        ).order_by("owner_code", "version")
        if charge.pk not in reversed_ids
    ]
    if not statements and not to_reverse:
        booking.note = f"Everything of {billing_period.label} version {billing_period.version} is booked."
        return booking
    accounts = {account.company_code: account for account in RecoveryAccount.objects.all()}
    booking.missing_gl, booking.missing_recovery = _missing(statements, accounts)
    if booking.blocked:
        return booking
    date = _posting_date(billing_period)
    booking.reversals = [_reversal(charge, date=date) for charge in to_reverse]
    booking.charges = [
        _charge(
            statement,
            organization=organization,
            recovery=_recovery_for(accounts, statement.owner.company_code),
            date=date,
        )
        for statement in statements
    ]
    currency = (booking.charges or booking.reversals)[0].currency
    label = billing_period.label
    emit(
        organization=organization,
        type="journal.ready",
        object_type="journal",
        object_id=label,
        api_path=f"/api/v1/journal-entries/?period={label}",
        data={
            "period": label,
            "version": billing_period.version,
            "entries": len(booking.charges),
            "reversals": len(booking.reversals),
            "total": _money_text(sum((e.total_amount for e in booking.charges), Decimal(0)), currency),
        },
        actor_label=actor_label_for(actor) if actor is not None else "system",
    )
    return booking


@tenant_scoped(via="billing_period")
def journal_book_on_close(*, billing_period: BillingPeriod, actor=None, reason: str = "") -> Booking:
    """Effect of ``close``: book the period's statements (never blocks the close; see ``Booking.reason``)."""
    return journal_book(organization=billing_period.organization, billing_period=billing_period, actor=actor)


@tenant_scoped
def journal_book_if_due(*, organization: Organization, billing_period: BillingPeriod | None) -> Booking | None:
    """Book a closed period whose current version has nothing booked yet (closed before the journal existed,
    or while an account was missing). None when nothing is due; the row lock makes two first requests book
    once."""
    if billing_period is None or billing_period.pk is None or billing_period.state != BillingPeriod.State.CLOSED:
        return None
    current = JournalEntry.objects.filter(billing_period=billing_period, version=billing_period.version)
    if current.exists():
        return None
    with transaction.atomic():
        locked = BillingPeriod.objects.select_for_update().get(organization=organization, pk=billing_period.pk)
        if locked.state != BillingPeriod.State.CLOSED or current.exists():
            return None
        return journal_book(organization=organization, billing_period=locked)


# --- the ERP's acknowledgement --------------------------------------------------------------------

ACK_FIELDS = ["posting_status", "erp_reference", "posting_message"]
ACK_STATUSES = (JournalEntry.Posting.POSTED, JournalEntry.Posting.FAILED)


@tenant_scoped(via="entry")
@transaction.atomic
def journal_acknowledge(
    *, entry: JournalEntry, actor, reference: str = "", status: str = "posted", message: str = ""
) -> JournalEntry:
    """Record what the ERP did with an entry: ``posted`` under its document number (``reference``) or
    ``failed`` (with a message). Acknowledging again with what is stored changes nothing; a posted entry
    is final in the ERP, so another reference (or a failure) for it is refused (409)."""
    reference, message = (reference or "").strip(), (message or "").strip()
    if status not in ACK_STATUSES:
        raise ValidationError({"status": "Use posted or failed."})
    if status == JournalEntry.Posting.POSTED and not reference:
        raise ValidationError({"reference": "A posted entry needs the ERP's document number."})
    if len(reference) > 100:
        raise ValidationError({"reference": "At most 100 characters."})
    if len(message) > 2000:
        raise ValidationError({"message": "At most 2000 characters."})
    stored = JournalEntry.objects.select_for_update().get(organization_id=entry.organization_id, pk=entry.pk)
    if stored.posting_status == JournalEntry.Posting.POSTED and (
        status != JournalEntry.Posting.POSTED or reference != stored.erp_reference
    ):
        raise AcknowledgementConflict(
            f"{stored.external_id} is already posted as {stored.erp_reference}; "
            f"it cannot be acknowledged again as {status} {reference}".strip()
            + "."
        )
    if stored.posting_status == JournalEntry.Posting.POSTED:
        return stored  # the same acknowledgement again (a retry): nothing changes
    if (stored.posting_status, stored.erp_reference, stored.posting_message) == (status, reference, message):
        return stored  # the same acknowledgement again: nothing changes
    now, label = timezone.now(), actor_label_for(actor)[:200]

    def change(row: JournalEntry) -> None:
        row.posting_status, row.erp_reference, row.posting_message = status, reference, message
        row.acknowledged_at, row.acknowledged_by_label = now, label

    return audited_update(
        instance=entry,
        stored=stored,
        snapshot=lambda row: model_snapshot(row, ACK_FIELDS),
        change=change,
        actor=actor,
        action="journal_entry.acknowledged",
    )


# --- recovery accounts ----------------------------------------------------------------------------

RECOVERY_FIELDS = ["company_code", "account", "description"]


def _clean_recovery(data: dict) -> dict:
    cleaned = {name: (data.get(name) or "").strip() for name in RECOVERY_FIELDS}
    if not cleaned["account"]:
        raise ValidationError({"account": "Give the recovery (clearing) account."})
    return cleaned


@tenant_scoped
@transaction.atomic
def recovery_account_create(*, organization: Organization, data: dict, actor) -> RecoveryAccount:
    cleaned = _clean_recovery(data)
    if RecoveryAccount.objects.filter(organization=organization, company_code=cleaned["company_code"]).exists():
        what = cleaned["company_code"] or "the default (blank company code)"
        raise ValidationError({"company_code": f"There is already a recovery account for {what}."})
    account = RecoveryAccount.objects.create(organization=organization, **cleaned)
    audit_record(
        organization=organization,
        actor=actor,
        action="recovery_account.created",
        target=account,
        after=model_snapshot(account, RECOVERY_FIELDS),
    )
    return account


@tenant_scoped(via="account")
@transaction.atomic
def recovery_account_update(*, account: RecoveryAccount, data: dict, actor) -> RecoveryAccount:
    cleaned = _clean_recovery(data)
    stored = RecoveryAccount.objects.select_for_update().get(organization_id=account.organization_id, pk=account.pk)
    clash = RecoveryAccount.objects.filter(company_code=cleaned["company_code"]).exclude(pk=stored.pk).exists()
    if clash:
        raise ValidationError({"company_code": "Another recovery account has this company code."})

    def change(row: RecoveryAccount) -> None:
        for name, value in cleaned.items():
            setattr(row, name, value)

    return audited_update(
        instance=account,
        stored=stored,
        snapshot=lambda row: model_snapshot(row, RECOVERY_FIELDS),
        change=change,
        actor=actor,
        action="recovery_account.updated",
    )


@tenant_scoped(via="account")
@transaction.atomic
def recovery_account_delete(*, account: RecoveryAccount, actor) -> None:
    """Entries keep the account they were booked on (a copy): removing one affects later bookings only."""
    stored = RecoveryAccount.objects.select_for_update().get(organization_id=account.organization_id, pk=account.pk)
    audit_record(
        organization=stored.organization,
        actor=actor,
        action="recovery_account.deleted",
        target=stored,
        before=model_snapshot(stored, RECOVERY_FIELDS),
    )
    stored.delete()
