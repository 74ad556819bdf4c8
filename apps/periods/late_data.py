"""Late data: usage or invoices that arrive for a period after it left ``open``.

The ingest services keep every row (the cube and the invoices have them) and, once a job's rows are
committed, call their own app's ``flag_late_usage`` (``apps.usage.services.late_data``) or
``flag_late_invoices`` (``apps.invoices.services.late_data``). Those count the job's rows in each of
``past_open_periods`` and hand them here as ``LateFound`` to ``record_late_arrivals``: rows that landed in
a period past ``open`` are recorded as a ``LateArrival`` of that period and audited, so finance sees them
on the period's page and the board instead of finding them silently missing from (or added to) issued
statements. A reopen starts a new version, which retires the flag; the allocation of the new version
reads the data.

Usage belongs to a period by its day (the fiscal calendar's bounds); invoice lines by their billing month.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone

from apps.audit.services import audit_record
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import BillingPeriod, LateArrival


@dataclass(frozen=True)
class LateFound:
    """What a job stored for one period past open: counted by the app whose rows they are."""

    billing_period_id: int
    rows: int
    amount_nano: int
    detail: dict
    currency: str = "USD"  # of amount_nano: one LateFound per currency


@tenant_scoped
def past_open_periods(*, organization: Organization) -> list[BillingPeriod]:
    """The organisation's periods that have left ``open``, oldest first: where arriving data is late."""
    return list(
        BillingPeriod.objects.filter(organization=organization)
        .exclude(state=BillingPeriod.State.OPEN)
        .order_by("period")
    )


@tenant_scoped
def record_late_arrivals(*, organization: Organization, kind: str, job, found: list[LateFound]) -> list[LateArrival]:
    """Flag each found period past open with the job's rows (a ``LateArrival`` of its current version) and audit it;
    a period reopened meanwhile is skipped, the same job finishing again changes nothing."""
    recorded = []
    now = timezone.now()
    for item in found:
        with transaction.atomic():
            # Period row first, then (inside audit_record) the organisation: the order transitions use.
            billing_period = BillingPeriod.objects.select_for_update().get(
                organization=organization, pk=item.billing_period_id
            )
            if billing_period.state == BillingPeriod.State.OPEN:
                continue  # reopened meanwhile: the data simply belongs to the open period now
            arrival = LateArrival.objects.filter(
                billing_period=billing_period, kind=kind, job_id=job.pk, currency=item.currency
            ).first()
            before = None
            if arrival is None:
                arrival = LateArrival(
                    organization=organization,
                    billing_period=billing_period,
                    kind=kind,
                    job_id=job.pk,
                    currency=item.currency,
                    first_at=now,
                )
            elif (
                arrival.rows == item.rows
                and arrival.amount_nano == item.amount_nano
                and arrival.version == billing_period.version
            ):
                recorded.append(arrival)
                continue  # the same job finishing again: nothing new arrived
            else:
                before = {"rows": arrival.rows, "amount_nano": arrival.amount_nano}
            arrival.version = billing_period.version
            arrival.state_at_arrival = billing_period.state
            arrival.rows = item.rows
            arrival.amount_nano = item.amount_nano
            arrival.file_name = (job.file_name or "")[:255]
            arrival.detail = item.detail
            arrival.last_at = now
            arrival.save()
            # The period's payload (late_data) changed: a client polling ?updated_since= sees the period again.
            BillingPeriod.objects.filter(organization=organization, pk=billing_period.pk).update(updated_at=now)
            audit_record(
                organization=organization,
                actor=None,
                action="billing_period.late_data",
                target=billing_period,
                before=before,
                after={
                    "period": billing_period.label,
                    "state": billing_period.state,
                    "kind": kind,
                    "job": job.pk,
                    "file_name": arrival.file_name,
                    "rows": item.rows,
                    "amount_nano": item.amount_nano,
                    "currency": item.currency,
                    **item.detail,
                },
            )
            recorded.append(arrival)
    return recorded


@dataclass(frozen=True)
class LateData:
    usage_rows: int = 0
    invoice_lines: int = 0
    # (currency, amount in nano-units), one per currency, in currency order: never summed across currencies.
    usage_amounts: tuple[tuple[str, int], ...] = ()
    invoice_amounts: tuple[tuple[str, int], ...] = ()
    first_at: object = None
    last_at: object = None

    @property
    def flagged(self) -> bool:
        return bool(self.usage_rows or self.invoice_lines)

    @property
    def usage_nano(self) -> int | None:
        """The usage amount when it is in one currency (None: several, see usage_amounts)."""
        return _single(self.usage_amounts)

    @property
    def invoice_nano(self) -> int | None:
        return _single(self.invoice_amounts)


def _single(amounts: tuple[tuple[str, int], ...]) -> int | None:
    if len(amounts) > 1:
        return None
    return amounts[0][1] if amounts else 0


@tenant_scoped
def late_data_for(*, organization: Organization, billing_periods) -> dict[int, LateData]:
    """The current version's late data per period pk, in one grouped query."""
    periods = [bp for bp in billing_periods if bp.pk]
    if not periods:
        return {}
    versions = {bp.pk: bp.version for bp in periods}
    rows = (
        LateArrival.objects.filter(organization=organization, billing_period_id__in=list(versions))
        .values("billing_period_id", "version", "kind", "currency")
        .annotate(rows=Sum("rows"), amount=Sum("amount_nano"), first=Min("first_at"), last=Max("last_at"))
        .order_by("billing_period_id", "kind", "currency")
    )
    collected: dict[int, dict] = {}
    for row in rows:
        if row["version"] != versions[row["billing_period_id"]]:
            continue
        figures = collected.setdefault(
            row["billing_period_id"],
            {"first_at": None, "last_at": None, "usage_amounts": (), "invoice_amounts": ()},
        )
        prefix = "usage" if row["kind"] == LateArrival.Kind.USAGE else "invoice"
        count = "usage_rows" if prefix == "usage" else "invoice_lines"
        figures[count] = figures.get(count, 0) + row["rows"]
        figures[f"{prefix}_amounts"] += ((row["currency"], row["amount"] or 0),)
        figures["first_at"] = min(filter(None, [figures["first_at"], row["first"]]))
        figures["last_at"] = max(filter(None, [figures["last_at"], row["last"]]))
    return {pk: LateData(**figures) for pk, figures in collected.items()}


@tenant_scoped(via="billing_period")
def late_arrivals(*, billing_period: BillingPeriod):
    """The current version's late arrivals of a period, oldest first."""
    return LateArrival.objects.filter(billing_period=billing_period, version=billing_period.version).order_by(
        "first_at", "id"
    )


@dataclass(frozen=True)
class ArrivedAfterRun:
    """Late data stored after the period's last reconciliation run was made: the run does not include it."""

    usage_rows: int
    invoice_lines: int
    last_at: object

    @property
    def text(self) -> str:
        parts = []
        if self.usage_rows:
            parts.append(f"{self.usage_rows} usage row{'s' if self.usage_rows != 1 else ''}")
        if self.invoice_lines:
            parts.append(f"{self.invoice_lines} invoice line{'s' if self.invoice_lines != 1 else ''}")
        return " and ".join(parts)


@tenant_scoped(via="billing_period")
def arrived_after_run(*, billing_period: BillingPeriod, arrivals, run) -> ArrivedAfterRun | None:
    """Of ``billing_period``'s late arrivals (``late_arrivals``, already read for its page), those whose rows
    were last stored after ``run`` (the last reconciliation run, with its ``created_at``) was made; None when
    there are none or no run. An arrival is counted whole: a job that finished after the run stored rows the
    run did not see. Data that came while the period was still open is not flagged (it is not late), so a run
    made while open is compared with what arrived once the period left open."""
    if run is None:
        return None
    after = [arrival for arrival in arrivals if arrival.last_at > run.created_at]
    if not after:
        return None
    return ArrivedAfterRun(
        usage_rows=sum(a.rows for a in after if a.kind == LateArrival.Kind.USAGE),
        invoice_lines=sum(a.rows for a in after if a.kind == LateArrival.Kind.INVOICES),
        last_at=max(a.last_at for a in after),
    )
