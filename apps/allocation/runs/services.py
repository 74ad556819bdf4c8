"""Allocation runs: compute a period with one rule set version (load the inputs, run the engine), write
the result as a run with its lines, or preview it beside the current run without writing.

A period has at most one draft run; allocating again replaces it in the same transaction, and allocating
with unchanged inputs keeps it as it is. Runs of a period that has moved past ``reconciling`` are frozen:
the statements were built from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.audit.services import actor_label_for, audit_record
from apps.core.ceilings import require_in_range, sums_checked
from apps.core.money import currency_exponent, nano_to_decimal, quantize_money
from apps.fx.convert import RateGap
from apps.fx.models import Conversion
from apps.fx.services import conversion_record
from apps.jobs.once import job_record_written, job_written
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.periods.services import period_for_update
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from ..models import AllocationLine, AllocationRun, RuleSetVersion
from ..rules.selectors import primary_version
from . import engine
from .inputs import CURRENCY_SYMBOLS, engine_rules, period_inputs
from .selectors import current_run, run_owner_totals
from .totals import UNALLOCATED_KEY, Computed, footed_owner_totals, result_owner_totals

PHASES = 3  # reading, allocating, writing: what a job's progress counts


def _silent(done: int, total: int, message: str = "") -> None:
    pass


@tenant_scoped
def compute(*, organization: Organization, period: date, version: RuleSetVersion, progress=None) -> Computed:
    """Run the engine for a period with one version (draft or published), without writing anything."""
    report = progress or _silent
    report(0, PHASES, f"Reading the usage and invoices of {period:%Y-%m}")
    what = f"The usage and invoices of {period:%Y-%m}"
    currency = organization.base_currency
    with sums_checked(what):
        try:
            inputs = period_inputs(organization=organization, period=period)
        except RateGap as gap:
            raise ValidationError(
                f"{what} cannot be allocated in {currency}: {gap.message} A rate is never assumed: load the "
                "missing rates (the ECB history with the load_fx_rates command, or your own rates on the "
                "exchange-rates settings page) and allocate again.",
                code="fx_rate_missing",
            ) from gap
    cells, totals = inputs.cells, inputs.invoice_totals
    report(1, PHASES, f"Allocating {len(cells)} usage cells with rule set version {version.number}")
    rules, policy, owners, names = engine_rules(organization=organization, document=version.document)
    try:
        result = engine.allocate(
            cells=cells,
            invoice_totals_nano=totals,
            rules=rules,
            true_up=policy,
            owner_codes=owners,
            currency_exponent=currency_exponent(currency),
            currency_symbol=CURRENCY_SYMBOLS.get(currency, ""),
            fx=inputs.fx_fingerprint(),
        )
    except ValueError as error:
        raise ValidationError(f"Rule set version {version.number} cannot allocate: {error}") from error
    require_in_range(
        what,
        [
            result.pool_total_nano,
            result.estimated_total_nano,
            result.true_up_nano,
            result.unallocated_nano,
            sum(line.amount_nano for line in result.lines),
            *(line.amount_nano for line in result.lines),
            *(line.basis_nano for line in result.lines),
            *(line.amount_nano for line in result.unallocated),
        ],
    )
    return Computed(result, len(cells), totals, names, version, currency, inputs.converter, inputs.source_totals)


# --- writing ------------------------------------------------------------------------------------


def _version_for(organization: Organization, version: RuleSetVersion | None) -> RuleSetVersion:
    version = version or primary_version(organization=organization)
    if version is None:
        raise ValidationError(
            "There is no published rule set to allocate with: publish a version of the primary rule set first."
        )
    if version.organization_id != organization.pk:
        raise ValidationError("That rule set version belongs to another organisation.")
    if not version.is_published:
        raise ValidationError(f"Version {version.number} is a draft: preview it, or publish it to allocate with it.")
    return version


def _match_tags(line: engine.Line) -> dict[str, str]:
    if len(line.labels) != 1:
        return {}
    dimension, _, value = line.labels[0].partition("=")
    return {dimension: value}


def _line_rows(run: AllocationRun, computed: Computed, owners: dict[str, BudgetOwner]) -> list[AllocationLine]:
    """The run's lines as rows: the engine's lines in its order, then the Unallocated items."""
    result, organization = computed.result, run.organization
    rows = [
        AllocationLine(
            organization=organization,
            run=run,
            position=position,
            owner=owners[line.owner],
            owner_code=line.owner,
            feature=line.feature,
            provider=line.provider,
            model=line.model,
            cost_source=line.cost_source,
            amount_nano=line.amount_nano,
            rule_id=line.rule_id,
            rule_name=computed.rule_names.get(line.rule_id, "true-up policy" if not line.rule_id else ""),
            method=line.method,
            basis_nano=line.basis_nano,
            share=line.share,
            explanation=line.explanation,
            match_tags=_match_tags(line),
        )
        for position, line in enumerate(result.lines)
    ]
    rows += [
        AllocationLine(
            organization=organization,
            run=run,
            position=len(result.lines) + index,
            owner=None,
            owner_code="",
            feature=item.feature,
            provider=item.provider,
            model=item.model,
            cost_source=item.cost_source,
            amount_nano=item.amount_nano,
            method=AllocationLine.UNALLOCATED,
            basis_nano=item.amount_nano,
            share=Decimal(1),
            explanation=f"Unallocated: {item.reason}",
        )
        for index, item in enumerate(result.unallocated)
    ]
    return rows


def _refuse_frozen(billing_period) -> None:
    if billing_period is not None and not billing_period.is_allocatable:
        raise ValidationError(
            f"{billing_period.label} is {billing_period.get_state_display().lower()}: its allocation is frozen "
            "because statements were built from it. Reopen the period to allocate it again."
        )


@tenant_scoped
def allocation_check(*, organization: Organization, period: date) -> None:
    """Refuse at once (ValidationError) what allocating ``period`` would refuse after its work: a frozen
    period, no published rule set. Read only: the allocation checks again under the period's lock."""
    _refuse_frozen(BillingPeriod.objects.filter(organization=organization, period=period).first())
    _version_for(organization, None)


@tenant_scoped
def allocation_run_create(
    *,
    organization: Organization,
    period: date,
    actor,
    version: RuleSetVersion | None = None,
    progress=None,
    job=None,
) -> AllocationRun:
    """Allocate a period with the primary rule set's latest published version (or the given one).

    Replaces the period's draft run; keeps it untouched when nothing it was made from has changed.

    Reads and computes outside any transaction, reporting each phase to ``progress(done, total, message)``
    (a job's); then, under the period's lock (checked again: still allocatable), replaces the draft with the
    run and its lines in one transaction, so a worker killed mid-way leaves the earlier draft or the new run,
    never a part. Given the ``job`` that runs it, an attempt after one that wrote the run returns that run."""
    if job is not None and (done := _written_run(organization, job)) is not None:
        return done
    _refuse_frozen(BillingPeriod.objects.filter(organization=organization, period=period).first())
    version = _version_for(organization, version)
    computed = compute(organization=organization, period=period, version=version, progress=progress)
    lines = len(computed.result.lines) + len(computed.result.unallocated)
    (progress or _silent)(2, PHASES, f"Writing the run ({lines} lines)")
    with transaction.atomic():
        billing_period = period_for_update(organization=organization, period=period, actor=actor)
        _refuse_frozen(billing_period)
        # The period's lock orders two attempts of one job: the second sees what the first wrote.
        if job is not None and (done := _written_run(organization, job)) is not None:
            return done
        run = _run_write(
            organization=organization,
            period=period,
            actor=actor,
            billing_period=billing_period,
            version=version,
            computed=computed,
        )
        if job is not None:
            job_record_written(job=job, result={"run": run.pk})
    return run


def _written_run(organization: Organization, job) -> AllocationRun | None:
    earlier = job_written(job=job, lock=False).get("run")
    return AllocationRun.objects.filter(organization=organization, pk=earlier).first() if earlier else None


def _run_write(
    *, organization: Organization, period: date, actor, billing_period, version: RuleSetVersion, computed: Computed
) -> AllocationRun:
    """Replace the period's draft with the computed run (inside the caller's transaction, the period locked)."""
    result = computed.result
    previous = AllocationRun.objects.filter(
        organization=organization, period=period, status=AllocationRun.Status.DRAFT
    ).first()
    if (
        previous is not None
        and previous.inputs_hash == result.inputs_hash
        and previous.rule_set_version_id == version.pk
    ):
        return previous
    replaced = None
    if previous is not None:
        # Kept before the delete, which clears the instance's pk: the audit names the run it replaced.
        replaced = {"run": previous.pk, "inputs_hash": previous.inputs_hash, "replaced": True}
        AllocationLine.objects.filter(run=previous).delete()
        replaced_conversion = previous.conversion_id
        previous.delete()
        if replaced_conversion is not None:
            # The rates of a replaced draft explained only that draft.
            Conversion.objects.filter(organization=organization, pk=replaced_conversion).delete()
    owners = {owner.code: owner for owner in BudgetOwner.objects.filter(organization=organization)}
    allocated = sum(line.amount_nano for line in result.lines)
    fx_conversion = None
    if computed.converter is not None and computed.converter.lines:
        fx_conversion = conversion_record(
            organization=organization, converter=computed.converter, purpose=f"allocation {period:%Y-%m}"
        )
    run = AllocationRun.objects.create(
        conversion=fx_conversion,
        organization=organization,
        period=period,
        billing_period=billing_period,
        rule_set_version=version,
        inputs_hash=result.inputs_hash,
        currency=computed.currency,
        pool_total_nano=result.pool_total_nano,
        estimated_nano=result.estimated_total_nano,
        true_up_nano=result.true_up_nano,
        allocated_nano=allocated,
        unallocated_nano=result.unallocated_nano,
        invoice_totals=computed.invoice_totals,
        cells=computed.cells,
        line_count=len(result.lines) + len(result.unallocated),
        created_by=actor if getattr(actor, "_meta", None) is not None else getattr(actor, "user", None),
        created_by_label=actor_label_for(actor),
    )
    rows = _line_rows(run, computed, owners)
    AllocationLine.objects.bulk_create(rows, batch_size=2000)
    audit_record(
        organization=organization,
        actor=actor,
        action="allocation_run.created",
        target=run,
        before=replaced,
        after={
            "period": run.period_label,
            "rule_set": version.rule_set.name,
            "rule_set_version": version.number,
            "inputs_hash": run.inputs_hash,
            "pool_total_nano": run.pool_total_nano,
            "unallocated_nano": run.unallocated_nano,
            "lines": run.line_count,
            **({"conversion": fx_conversion.pk, "source_totals": computed.source_totals} if fx_conversion else {}),
        },
    )
    return run


@dataclass
class PreviewRow:
    code: str
    name: str
    current: Decimal | None
    preview: Decimal
    difference: Decimal


@dataclass
class Preview:
    computed: Computed
    current_run: AllocationRun | None
    rows: list[PreviewRow]
    pool_total: Decimal
    unallocated: Decimal


@tenant_scoped
def allocation_preview(*, organization: Organization, period: date, version: RuleSetVersion) -> Preview:
    """What-if: allocate a period with any version (a draft too) without saving, beside the current run."""
    if version.organization_id != organization.pk:
        raise ValidationError("That rule set version belongs to another organisation.")
    computed = compute(organization=organization, period=period, version=version)
    currency = computed.currency
    preview_totals = footed_owner_totals(totals_nano=result_owner_totals(computed.result), currency=currency)
    run = current_run(organization=organization, period=period)
    current = {row.code: row.amount for row in run_owner_totals(run=run)} if run else {}
    names = dict(BudgetOwner.objects.filter(organization=organization).values_list("code", "name"))
    preview = {row.code: row.amount for row in preview_totals}
    zero = quantize_money(Decimal(0), currency)
    codes = sorted(code for code in set(current) | set(preview) if code) + (
        [UNALLOCATED_KEY] if UNALLOCATED_KEY in set(current) | set(preview) else []
    )
    rows = [
        PreviewRow(
            code=code,
            name=names.get(code, code) if code else "Unallocated",
            current=current.get(code, zero) if run else None,
            preview=preview.get(code, zero),
            difference=preview.get(code, zero) - current.get(code, zero),
        )
        for code in codes
    ]
    footed_pool = quantize_money(nano_to_decimal(computed.result.pool_total_nano), currency)
    return Preview(
        computed=computed,
        current_run=run,
        rows=rows,
        pool_total=footed_pool,
        unallocated=preview.get(UNALLOCATED_KEY, zero),
    )
