"""Reads of the journal: a period's entries and their posting status, why a closed period has nothing
booked, the period fact and the reopen warning."""

from django.db.models import Count, QuerySet

from apps.periods.models import BillingPeriod
from apps.statements.models import Statement
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .common import missing_accounts_text
from .models import JournalEntry, RecoveryAccount

POSTING_ORDER = [JournalEntry.Posting.POSTED, JournalEntry.Posting.PENDING, JournalEntry.Posting.FAILED]


@tenant_scoped
def period_entries(*, organization: Organization, billing_period: BillingPeriod) -> QuerySet[JournalEntry]:
    """The period's entries, every version, in booking order (a reversal before the charge replacing it)."""
    if billing_period.pk is None:
        return JournalEntry.objects.none()
    return JournalEntry.objects.filter(organization=organization, billing_period=billing_period).order_by(
        "version", "-kind", "owner_code"
    )


@tenant_scoped
def posting_counts(*, organization: Organization, billing_period: BillingPeriod) -> dict[str, int]:
    """How many of the period's entries are posted, pending and failed (every status, zero included)."""
    counts = dict.fromkeys(POSTING_ORDER, 0)
    if billing_period.pk is None:
        return counts
    rows = (
        JournalEntry.objects.filter(organization=organization, billing_period=billing_period)
        .values("posting_status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts[row["posting_status"]] = row["n"]
    return counts


@tenant_scoped
def missing_accounts(*, organization: Organization, billing_period: BillingPeriod) -> str:
    """Why the current version of a closed period cannot be booked now ("" when nothing is missing)."""
    if billing_period.pk is None or billing_period.state != BillingPeriod.State.CLOSED:
        return ""
    booked = JournalEntry.objects.filter(
        billing_period=billing_period, kind=JournalEntry.Kind.CHARGE, version=billing_period.version
    ).values("statement_id")
    owners = list(
        Statement.objects.filter(
            billing_period=billing_period, version=billing_period.version, status=Statement.Status.FINAL
        )
        .exclude(total_nano=0)
        .exclude(pk__in=booked)
        .values_list("owner_code", "owner__gl_account", "owner__company_code")
    )
    codes = set(RecoveryAccount.objects.values_list("company_code", flat=True))
    missing_gl = sorted({code for code, gl, _company in owners if not gl.strip()})
    missing_recovery = sorted({company for _c, _g, company in owners if company not in codes and "" not in codes})
    return missing_accounts_text(label=billing_period.label, missing_gl=missing_gl, missing_recovery=missing_recovery)


@tenant_scoped
def journal_fact(*, organization: Organization, billing_periods: list) -> dict:
    """The periods board's and period page's "Journal" fact: the posting status of the closed periods'
    entries ("2 posted, 1 pending"), one grouped query."""
    pks = [bp.pk for bp in billing_periods if bp.pk is not None]
    rows = (
        JournalEntry.objects.filter(organization=organization, billing_period_id__in=pks)
        .values("billing_period_id", "posting_status")
        .annotate(n=Count("pk"))
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["billing_period_id"], {})[row["posting_status"]] = row["n"]
    return {
        pk: ", ".join(f"{by_status[status]} {status}" for status in POSTING_ORDER if by_status.get(status))
        for pk, by_status in counts.items()
    }


@tenant_scoped(via="billing_period")
def reopen_warning(*, billing_period: BillingPeriod) -> str | None:
    """Reopening a period whose current entries the ERP has posted: the reversal must be posted too."""
    if billing_period.pk is None:
        return None
    posted = JournalEntry.objects.filter(
        organization_id=billing_period.organization_id,
        billing_period=billing_period,
        version=billing_period.version,
        kind=JournalEntry.Kind.CHARGE,
        posting_status=JournalEntry.Posting.POSTED,
    ).count()
    if not posted:
        return None
    entries = f"{posted} journal entr{'y' if posted == 1 else 'ies'}"
    return (
        f"{entries} of {billing_period.label} version {billing_period.version} "
        f"{'was' if posted == 1 else 'were'} posted in the ERP: closing version {billing_period.version + 1} books "
        "their reversal, and a reversal must be posted too."
    )
