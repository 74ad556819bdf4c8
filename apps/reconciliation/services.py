"""Writes: making a reconciliation run. It reads the DailyUsage cube (never the raw usage table) and the
period's invoice lines, computes every figure in ``engine`` and stores the run with its lines.

Usage is read over the period's days in the organisation's fiscal calendar (``core.calendar``);
invoice lines by their billing month, as providers bill calendar months."""

import dataclasses
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from apps.audit.services import actor_label_for, audit_record, model_snapshot
from apps.core.calendar import period_bounds
from apps.core.ceilings import require_in_range, sums_checked
from apps.fx.services import conversion_record
from apps.jobs.once import job_record_written, job_written
from apps.taxonomy.models import Granularity, TagDimension, TagSet, TagValue
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import DailyDetailUsage, DailyUsage

from . import conversion, engine
from .models import ReconciliationLine, ReconciliationRun

# Always reported, required or not: the seed note's readiness KPIs name them.
CORE_DIMENSIONS = ("team", "feature")

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
    "overlap_nano",
    "untagged",
]


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


def _tag_figures(organization: Organization, period: date, usage: conversion.UsageRead) -> engine.TagFigures:
    first, after = period_bounds(period, start_day=organization.period_start_day)
    cube = DailyUsage.objects.filter(day__gte=first, day__lt=after)
    requests = dict(cube.values("tagset_id").annotate(n=Sum("requests")).order_by().values_list("tagset_id", "n"))
    tags_of = dict(TagSet.objects.filter(pk__in=cube.values("tagset_id")).values_list("pk", "tags"))
    cells = [
        engine.TagCell(
            tags=tags_of.get(pk) or {}, requests=requests.get(pk) or 0, estimated_nano=usage.tagset_nano.get(pk, 0)
        )
        for pk in sorted(set(requests) | set(usage.tagset_nano))
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
            requests=Sum("requests")
        )
        untagged[key] = {
            "requests": figures.total_requests - (tagged["requests"] or 0),
            "cost_nano": figures.total_nano - usage.detail_nano.get(key, 0),
        }
    return engine.TagFigures(
        total_requests=figures.total_requests,
        total_nano=figures.total_nano,
        untagged={key: untagged[key] for key in keys},
        central_nano=figures.central_nano,
        unallocated_nano=figures.unallocated_nano,
    )


def _with_overlap_notes(
    lines: list[engine.LineFigures], overlaps: conversion.OverlapRead, currency: str
) -> list[engine.LineFigures]:
    """The provider lines say how much of their estimate gateway logs and provider exports may both count."""
    result = []
    for line in lines:
        if line.level == "provider" and line.provider in overlaps.by_provider:
            days, amount = overlaps.by_provider[line.provider]
            note = "; ".join(filter(None, [line.note, conversion.overlap_note(days, amount, currency)]))
            line = dataclasses.replace(line, note=note[:200])
        result.append(line)
    return result


def _validate_period(period: date) -> None:
    if not isinstance(period, date) or period.day != 1:
        raise ValidationError({"period": "Choose a month (the first day of it), e.g. 2026-10."})


def _silent(done: int, total: int, message: str = "") -> None:
    pass


PHASES = 3  # reading, comparing, writing: what a job's progress counts


@tenant_scoped
def reconciliation_run_create(
    *, organization: Organization, period: date, actor, progress=None, job=None
) -> ReconciliationRun:
    """Reconcile one month: estimates from the usage cube against the month's invoice lines.

    Every figure is recomputed from the current data and stored as a new run; earlier runs stay as
    history, so running again after new usage or invoices arrive is always safe.

    Reads and computes outside any transaction, reporting each phase to ``progress(done, total, message)``
    (a job's), then writes the run, its lines, its rates and its audit event in one transaction. Given the
    ``job`` that runs it, an attempt after one that already wrote the run returns that run (apps.jobs.once)."""
    _validate_period(period)
    if job is not None and (done := _written_run(organization, job, lock=False)) is not None:
        return done
    report = progress or _silent
    report(0, PHASES, f"Reading the usage and invoices of {period:%Y-%m}")
    tolerance = organization.variance_tolerance_pct
    base = organization.base_currency
    what = f"The usage and invoices of {period:%Y-%m}"
    first, after = period_bounds(period, start_day=organization.period_start_day)
    _, detail = _dimensions(organization)
    batch = conversion.Batch(organization=organization, period_start=first, period_end=after - timedelta(days=1))
    with sums_checked(what):
        usage_reader = conversion.UsageReader(organization, first, after, batch, sorted(detail))
        invoice_reader = conversion.InvoiceReader(organization, period, batch)
        overlap_reader = conversion.OverlapReader(organization, first, after - timedelta(days=1), batch)
        try:
            batch.run()
        except conversion.RateGap as gap:
            raise ValidationError(conversion.gap_refusal(gap, what=what, base=base), code="fx_rate_missing") from gap
        usage = usage_reader.read()
        invoices = invoice_reader.read()
        other_cloud = invoices.other_cloud_nano
        overlaps = overlap_reader.read()
        report(1, PHASES, "Comparing the estimates with the invoices")
        lines = _with_overlap_notes(
            engine.reconcile(usage=usage.cells, invoices=invoices.cells, tolerance_pct=tolerance), overlaps, base
        )
        tags = _tag_figures(organization, period, usage)
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
    report(2, PHASES, "Writing the run")
    with transaction.atomic():
        if job is not None and (done := _written_run(organization, job, lock=True)) is not None:
            return done
        run = _run_write(
            organization=organization,
            period=period,
            actor=actor,
            tolerance=tolerance,
            batch=batch,
            usage=usage,
            invoices=invoices,
            overlaps=overlaps,
            lines=lines,
            providers=providers,
            tags=tags,
        )
        if job is not None:
            job_record_written(job=job, result={"run": run.pk})
    return run


def _written_run(organization: Organization, job, *, lock: bool) -> ReconciliationRun | None:
    earlier = job_written(job=job, lock=lock).get("run")
    return ReconciliationRun.objects.filter(organization=organization, pk=earlier).first() if earlier else None


def _run_write(
    *, organization, period, actor, tolerance, batch, usage, invoices, overlaps, lines, providers, tags
) -> ReconciliationRun:
    """The run, its lines, its rates and its audit event (inside the caller's transaction)."""
    other_cloud = invoices.other_cloud_nano
    fx_conversion = None
    if batch.converter is not None and batch.converter.lines:
        fx_conversion = conversion_record(
            organization=organization, converter=batch.converter, purpose=f"reconciliation {period:%Y-%m}"
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
        inputs={
            **usage.summary,
            **invoices.summary,
            # What was added up per currency before conversion (the run's figures are in its currency).
            "source_totals": {
                "usage": usage.source_totals,
                "invoices": invoices.source_totals,
                "other_cloud": invoices.other_cloud_totals,
            },
        },
        conversion=fx_conversion,
        untagged=tags.untagged,
        total_requests=tags.total_requests,
        platform_overhead_pct=tags.platform_overhead_pct,
        central_nano=tags.central_nano,
        unallocated_nano=tags.unallocated_nano,
        other_cloud_nano=other_cloud,
        overlap_nano=overlaps.total_nano,
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
