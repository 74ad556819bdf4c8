"""Writes: making a reconciliation run. It reads the DailyUsage cube (never the raw usage table) and the
period's invoice lines, computes every figure in ``engine`` and stores the run with its lines.

Usage is read over the period's days in the organisation's fiscal calendar (``core.calendar``);
invoice lines by their billing month, as providers bill calendar months."""

from datetime import UTC, date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Sum

from apps.audit.services import actor_label_for, audit_record, model_snapshot
from apps.core.calendar import period_bounds
from apps.core.ceilings import require_in_range, sums_checked
from apps.invoices.models import InvoiceLine
from apps.invoices.selectors import invoice_line_totals
from apps.taxonomy.models import Granularity, TagDimension, TagSet, TagValue
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import COST_COLUMNS, DailyDetailUsage, DailyUsage

from . import engine
from .models import ReconciliationLine, ReconciliationRun

# Always reported, required or not: the seed note's readiness KPIs name them.
CORE_DIMENSIONS = ("team", "feature")

SOURCE_COLUMNS = {source: cost for source, (cost, _quantity) in COST_COLUMNS.items()}

RUN_SNAPSHOT_FIELDS = [
    "period",
    "currency",
    "tolerance_pct",
    "estimated_nano",
    "invoiced_nano",
    "status",
    "platform_overhead_pct",
    "unallocated_nano",
    "other_cloud_nano",
    "untagged",
]


def _usage_cells(organization: Organization, period: date) -> tuple[list[engine.UsageCell], dict]:
    first, after = period_bounds(period, start_day=organization.period_start_day)
    cube = DailyUsage.objects.filter(day__gte=first, day__lt=after)
    rows = (
        cube.values("provider", "model", "day")
        .annotate(estimated=Sum("estimated_nano"), **{source: Sum(column) for source, column in SOURCE_COLUMNS.items()})
        .order_by("provider", "model", "day")
    )
    cells = [
        engine.UsageCell(
            provider=row["provider"],
            model=row["model"],
            day=row["day"],
            estimated_nano=row["estimated"] or 0,
            source_nano={source: row[source] or 0 for source in SOURCE_COLUMNS},
        )
        for row in rows
    ]
    totals = cube.aggregate(
        cells=Count("id"), records=Sum("records"), requests=Sum("requests"), unpriced=Sum("unpriced_records")
    )
    summary = {
        "usage_cells": totals["cells"],
        "usage_records": totals["records"] or 0,
        "usage_requests": totals["requests"] or 0,
        "unpriced_records": totals["unpriced"] or 0,
    }
    return cells, summary


def _charge_day(start, end) -> date | None:
    """The day of a charge that covers at most one day; None for monthly (or longer) charges."""
    if end - start > timedelta(days=1):
        return None
    return start.astimezone(UTC).date()


def _invoice_cells(organization: Organization, period: date) -> tuple[list[engine.InvoiceCell], int, dict]:
    lines = InvoiceLine.objects.filter(billing_period=period)
    ai = lines.filter(is_ai=True)
    rows = invoice_line_totals(
        organization=organization,
        lines=ai,
        by=("provider", "model", "cost_source", "charge_period_start", "charge_period_end"),
    )
    cells = [
        engine.InvoiceCell(
            provider=row["provider"],
            model=row["model"],
            cost_source=row["cost_source"],
            day=_charge_day(row["charge_period_start"], row["charge_period_end"]),
            amount_nano=row["amount_nano"] or 0,
        )
        for row in rows
    ]
    other_cloud = lines.filter(is_ai=False).aggregate(total=Sum("amount_nano"))["total"] or 0
    facts = lines.aggregate(
        count=Count("id"), invoices=Count("invoice", distinct=True), updated=Max("invoice__updated_at")
    )
    summary = {
        "invoice_lines": facts["count"],
        "ai_invoice_lines": ai.count(),
        "invoices": facts["invoices"],
        "invoices_last_updated": facts["updated"].isoformat() if facts["updated"] else None,
        "invoice_currencies": sorted(set(lines.values_list("currency", flat=True))),
    }
    return cells, other_cloud, summary


def _dimensions(organization: Organization) -> tuple[list[str], set[str]]:
    """team, feature, then every other active required dimension; and which of them are detail dimensions."""
    required = list(
        TagDimension.objects.filter(organization=organization, is_active=True, required=True)
        .order_by("position", "key")
        .values_list("key", "granularity")
    )
    keys = list(CORE_DIMENSIONS) + [key for key, _ in required if key not in CORE_DIMENSIONS]
    detail = {key for key, granularity in required if granularity == Granularity.DETAIL}
    return keys, detail


def _tag_figures(organization: Organization, period: date) -> engine.TagFigures:
    first, after = period_bounds(period, start_day=organization.period_start_day)
    cube = DailyUsage.objects.filter(day__gte=first, day__lt=after)
    per_tagset = {
        row["tagset_id"]: row
        for row in cube.values("tagset_id").annotate(requests=Sum("requests"), estimated=Sum("estimated_nano"))
    }
    tags_of = dict(TagSet.objects.filter(pk__in=cube.values("tagset_id")).values_list("pk", "tags"))
    cells = [
        engine.TagCell(tags=tags_of.get(pk) or {}, requests=row["requests"] or 0, estimated_nano=row["estimated"] or 0)
        for pk, row in sorted(per_tagset.items())
    ]
    teams = TagValue.objects.filter(dimension__key="team", owner__isnull=False).values_list(
        "value", "owner__is_central"
    )
    owned = {value for value, _ in teams}
    central = {value for value, is_central in teams if is_central}
    keys, detail = _dimensions(organization)
    figures = engine.tag_figures(
        cells=cells, dimensions=[k for k in keys if k not in detail], owned_teams=owned, central_teams=central
    )
    untagged = dict(figures.untagged)
    for key in detail:
        # Detail dimensions (e.g. customer) are not in the cube's tag sets: their per-value totals say
        # how much usage carried a value, and the rest lacked it.
        tagged = DailyDetailUsage.objects.filter(day__gte=first, day__lt=after, dimension=key).aggregate(
            requests=Sum("requests"), cost=Sum("estimated_nano")
        )
        untagged[key] = {
            "requests": figures.total_requests - (tagged["requests"] or 0),
            "cost_nano": figures.total_nano - (tagged["cost"] or 0),
        }
    return engine.TagFigures(
        total_requests=figures.total_requests,
        total_nano=figures.total_nano,
        untagged={key: untagged[key] for key in keys},
        central_nano=figures.central_nano,
        unallocated_nano=figures.unallocated_nano,
    )


def _validate_period(period: date) -> None:
    if not isinstance(period, date) or period.day != 1:
        raise ValidationError({"period": "Choose a month (the first day of it), e.g. 2026-10."})


@tenant_scoped
@transaction.atomic
def reconciliation_run_create(*, organization: Organization, period: date, actor) -> ReconciliationRun:
    """Reconcile one month: estimates from the usage cube against the month's invoice lines.

    Every figure is recomputed from the current data and stored as a new run; earlier runs stay as
    history, so running again after new usage or invoices arrive is always safe."""
    _validate_period(period)
    tolerance = organization.variance_tolerance_pct
    what = f"The usage and invoices of {period:%Y-%m}"
    with sums_checked(what):
        usage, usage_summary = _usage_cells(organization, period)
        invoices, other_cloud, invoice_summary = _invoice_cells(organization, period)
        lines = engine.reconcile(usage=usage, invoices=invoices, tolerance_pct=tolerance)
        tags = _tag_figures(organization, period)
    providers = [line for line in lines if line.level == "provider"]
    require_in_range(
        what,
        [
            sum(line.estimated_nano for line in providers),
            sum(line.invoiced_nano or 0 for line in providers),
            other_cloud,
            tags.central_nano,
            tags.unallocated_nano,
            *(value for line in lines for value in (line.estimated_nano, line.invoiced_nano, line.variance_nano)),
        ],
    )
    run = ReconciliationRun.objects.create(
        organization=organization,
        period=period,
        created_by=actor if getattr(actor, "_meta", None) is not None else getattr(actor, "user", None),
        created_by_label=actor_label_for(actor),
        currency=organization.base_currency,
        tolerance_pct=tolerance,
        estimated_nano=sum(line.estimated_nano for line in providers),
        invoiced_nano=sum(line.invoiced_nano or 0 for line in providers),
        status=(
            ReconciliationRun.Status.WITHIN
            if all(line.within_tolerance for line in providers)
            else ReconciliationRun.Status.OUTSIDE
        ),
        inputs={**usage_summary, **invoice_summary},
        untagged=tags.untagged,
        total_requests=tags.total_requests,
        platform_overhead_pct=tags.platform_overhead_pct,
        central_nano=tags.central_nano,
        unallocated_nano=tags.unallocated_nano,
        other_cloud_nano=other_cloud,
    )
    ReconciliationLine.objects.bulk_create(
        [
            ReconciliationLine(
                organization=organization,
                run=run,
                level=line.level,
                provider=line.provider,
                key=line.key,
                estimated_nano=line.estimated_nano,
                invoiced_nano=line.invoiced_nano,
                variance_nano=line.variance_nano,
                variance_pct=line.variance_pct,
                within_tolerance=line.within_tolerance,
                note=line.note,
            )
            for line in lines
        ],
        batch_size=1000,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="reconciliation_run.created",
        target=run,
        after={
            **model_snapshot(run, RUN_SNAPSHOT_FIELDS),
            "providers": {
                line.provider: {
                    "estimated_nano": line.estimated_nano,
                    "invoiced_nano": line.invoiced_nano,
                    "variance_pct": str(line.variance_pct) if line.variance_pct is not None else None,
                    "within_tolerance": line.within_tolerance,
                }
                for line in providers
            },
        },
    )
    return run
