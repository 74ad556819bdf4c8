"""Allocation runs: reading a period out of the database into the pure engine, and writing its result.

The period's cost cells come from the ``DailyUsage`` cube (never the raw usage table): one cube row per
(tag set, provider, model, tier, retry) of the month, unpivoted into one cell per cost source. A cube row's
requests go on one of its cells only (the first with cost, else ``input``), so usage-based splits do not
count a request once per cost source. Invoice totals per provider are the AI lines billed for the month.

A period has at most one draft run; allocating again replaces it in the same transaction, and allocating
with unchanged inputs keeps it as it is. Runs of a period that has moved past ``reconciling`` are frozen:
the statements were built from them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django_scopes import scope

from apps.audit.services import actor_label_for, audit_record
from apps.core.calendar import period_bounds
from apps.core.ceilings import require_in_range, sums_checked
from apps.core.money import currency_exponent, footed_minor_units, nano_to_decimal, quantize_money
from apps.invoices.models import InvoiceLine
from apps.owners.models import BudgetOwner
from apps.periods.services import period_for_update
from apps.tenancy.models import Organization
from apps.usage.models import DailyUsage

from . import engine
from .models import AllocationLine, AllocationRun, RuleSet, RuleSetVersion
from .services import _catalog, _effective_mapping

COST_COLUMNS = {
    "input": ("cost_input_nano", "input_tokens"),
    "output": ("cost_output_nano", "output_tokens"),
    "cache_read": ("cost_cache_read_nano", "cache_read_tokens"),
    "cache_write": ("cost_cache_write_nano", "cache_write_tokens"),
    "tool_calls": ("cost_tools_nano", None),
}
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


# --- reading ------------------------------------------------------------------------------------


def period_cells(*, organization: Organization, period: date) -> list[engine.Cell]:
    """The month's cost cells, summed in the database by (tag set, provider, model, tier, retry)."""
    sums = {column: Sum(column) for cost, tokens in COST_COLUMNS.values() for column in (cost, tokens) if column}
    # the fiscal calendar's days of the period
    first, after = period_bounds(period, start_day=organization.period_start_day)
    with scope(organization=organization):
        rows = (
            DailyUsage.objects.filter(organization=organization, day__gte=first, day__lt=after)
            .values("tagset_id", "tagset__tags", "provider", "model", "service_tier", "is_retry")
            .annotate(requests_sum=Sum("requests"), **sums)
            .order_by()
        )
        cells: list[engine.Cell] = []
        for row in rows.iterator(chunk_size=5000):
            requests_left = row["requests_sum"] or 0
            with_cost = [source for source, (cost, _) in COST_COLUMNS.items() if row[cost]]
            requests_on = with_cost[0] if with_cost else "input"
            for source, (cost_column, token_column) in COST_COLUMNS.items():
                amount = row[cost_column] or 0
                tokens = (row[token_column] or 0) if token_column else 0
                requests = requests_left if source == requests_on else 0
                if amount == 0 and tokens == 0 and requests == 0:
                    continue
                cells.append(
                    engine.Cell(
                        tagset_id=row["tagset_id"],
                        tags=row["tagset__tags"] or {},
                        provider=row["provider"],
                        model=row["model"],
                        service_tier=row["service_tier"],
                        is_retry=row["is_retry"],
                        cost_source=source,
                        amount_nano=amount,
                        requests=requests,
                        tokens=tokens,
                    )
                )
    return cells


def invoice_totals(*, organization: Organization, period: date) -> dict[str, int]:
    """AI charges per provider on the month's invoices (providers with no invoice are left out: no true-up)."""
    with scope(organization=organization):
        rows = (
            InvoiceLine.objects.filter(organization=organization, billing_period=period, is_ai=True)
            .values("provider")
            .annotate(total=Sum("amount_nano"))
            .order_by("provider")
        )
        return {row["provider"]: row["total"] or 0 for row in rows}


def primary_version(*, organization: Organization) -> RuleSetVersion | None:
    """The latest published version of the organisation's primary rule set."""
    with scope(organization=organization):
        rule_set = RuleSet.objects.filter(organization=organization, is_primary=True).first()
        if rule_set is None:
            return None
        return (
            RuleSetVersion.objects.filter(rule_set=rule_set, status=RuleSetVersion.Status.PUBLISHED)
            .order_by("-number")
            .first()
        )


def engine_rules(
    *, organization: Organization, document: dict
) -> tuple[list[engine.Rule], engine.TrueUpPolicy, set[str], dict[str, str]]:
    """The document as engine rules, the true-up policy, the active owner codes and rule names by id.

    Tag maps without an explicit mapping take the taxonomy's owner links as they are now; the resolved
    mapping is part of the run's inputs hash, so a later change of links shows as a different run."""
    catalog = _catalog(organization)
    rules: list[engine.Rule] = []
    names: dict[str, str] = {}
    for index, rule in enumerate(document.get("rules", [])):
        rule_id = f"r{index + 1}"
        names[rule_id] = rule["name"]
        conditions = tuple(
            engine.Condition(
                field=condition["field"],
                op=condition["op"],
                value=tuple(condition["value"]) if condition["op"] == "in" else condition.get("value"),
            )
            for condition in rule.get("conditions", [])
        )
        common = {"rule_id": rule_id, "name": rule["name"], "position": index}
        if rule["kind"] == "direct":
            rules.append(engine.DirectRule(**common, conditions=conditions, owner=rule["owner"]))
        elif rule["kind"] == "tag_map":
            mapping = _effective_mapping(rule, catalog)
            rules.append(
                engine.TagMapRule(**common, dimension=rule["dimension"], mapping=mapping, conditions=conditions)
            )
        else:
            rules.append(
                engine.SharedPoolRule(
                    **common,
                    conditions=conditions,
                    source=rule.get("source") or "conditions",
                    targets=tuple(
                        engine.Target(
                            owner=target["owner"],
                            weight_pct=Decimal(target["weight_pct"]) if target.get("weight_pct") else None,
                        )
                        for target in rule.get("targets", [])
                    ),
                    method=rule["method"],
                    usage_basis=rule.get("usage_basis") or "requests",
                    same_provider=bool(rule.get("same_provider")),
                )
            )
    true_up = document.get("true_up") or {}
    policy = engine.TrueUpPolicy(mode=true_up.get("mode", "full_cost"), central_owner=true_up.get("central_owner"))
    owners = {code for code, owner in catalog.owners.items() if owner.is_active}
    return rules, policy, owners, names


@dataclass
class Computed:
    result: engine.AllocationResult
    cells: int
    invoice_totals: dict[str, int]
    rule_names: dict[str, str]
    version: RuleSetVersion
    currency: str


def compute(*, organization: Organization, period: date, version: RuleSetVersion) -> Computed:
    """Run the engine for a period with one version (draft or published), without writing anything."""
    what = f"The usage and invoices of {period:%Y-%m}"
    with sums_checked(what):
        cells = period_cells(organization=organization, period=period)
        totals = invoice_totals(organization=organization, period=period)
    rules, policy, owners, names = engine_rules(organization=organization, document=version.document)
    currency = organization.base_currency
    try:
        result = engine.allocate(
            cells=cells,
            invoice_totals_nano=totals,
            rules=rules,
            true_up=policy,
            owner_codes=owners,
            currency_exponent=currency_exponent(currency),
            currency_symbol=CURRENCY_SYMBOLS.get(currency, ""),
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
    return Computed(result, len(cells), totals, names, version, currency)


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


@transaction.atomic
def allocation_run_create(
    *, organization: Organization, period: date, actor, version: RuleSetVersion | None = None
) -> AllocationRun:
    """Allocate a period with the primary rule set's latest published version (or the given one).

    Replaces the period's draft run; keeps it untouched when nothing it was made from has changed."""
    billing_period = period_for_update(organization=organization, period=period, actor=actor)
    if not billing_period.is_allocatable:
        raise ValidationError(
            f"{billing_period.label} is {billing_period.get_state_display().lower()}: its allocation is frozen "
            "because statements were built from it. Reopen the period to allocate it again."
        )
    version = _version_for(organization, version)
    computed = compute(organization=organization, period=period, version=version)
    result = computed.result
    with scope(organization=organization):
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
            previous.delete()
        owners = {owner.code: owner for owner in BudgetOwner.objects.filter(organization=organization)}
        allocated = sum(line.amount_nano for line in result.lines)
        run = AllocationRun.objects.create(
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
            },
        )
    return run


# --- reading results ----------------------------------------------------------------------------


def current_run(*, organization: Organization, period: date) -> AllocationRun | None:
    """The run a period's figures come from: its draft when there is one, else its latest issued run."""
    with scope(organization=organization):
        runs = AllocationRun.objects.filter(organization=organization, period=period).select_related(
            "rule_set_version__rule_set"
        )
        return runs.filter(status=AllocationRun.Status.DRAFT).first() or runs.order_by("-created_at", "-id").first()


@dataclass
class OwnerTotal:
    code: str  # "" for Unallocated
    name: str
    amount_nano: int
    amount: Decimal  # footed to the currency's minor unit


UNALLOCATED_KEY = ""


def owner_totals_nano(lines) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for code, amount in lines:
        totals[code or UNALLOCATED_KEY] += amount
    return dict(totals)


def footed_owner_totals(
    *, totals_nano: dict[str, int], currency: str, names: dict[str, str] | None = None
) -> list[OwnerTotal]:
    """Per-owner totals (Unallocated last, under code "") footed so they add up to the footed pool."""
    footed = footed_minor_units(totals_nano, currency)
    names = names or {}
    ordered = sorted((code for code in totals_nano if code), key=str) + (
        [UNALLOCATED_KEY] if UNALLOCATED_KEY in totals_nano else []
    )
    return [
        OwnerTotal(code, names.get(code, code or "Unallocated"), totals_nano[code], footed[code]) for code in ordered
    ]


def run_owner_totals(run: AllocationRun) -> list[OwnerTotal]:
    with scope(organization=run.organization_id):
        lines = AllocationLine.objects.filter(run=run).values("owner_code").annotate(total=Sum("amount_nano"))
        totals = {row["owner_code"] or UNALLOCATED_KEY: row["total"] for row in lines}
        names = dict(BudgetOwner.objects.filter(organization_id=run.organization_id).values_list("code", "name"))
    return footed_owner_totals(totals_nano=totals, currency=run.currency, names=names)


def result_owner_totals(result: engine.AllocationResult) -> dict[str, int]:
    totals = owner_totals_nano((line.owner, line.amount_nano) for line in result.lines)
    if result.unallocated_nano:
        totals[UNALLOCATED_KEY] = totals.get(UNALLOCATED_KEY, 0) + result.unallocated_nano
    return totals


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


def allocation_preview(*, organization: Organization, period: date, version: RuleSetVersion) -> Preview:
    """What-if: allocate a period with any version (a draft too) without saving, beside the current run."""
    if version.organization_id != organization.pk:
        raise ValidationError("That rule set version belongs to another organisation.")
    computed = compute(organization=organization, period=period, version=version)
    currency = computed.currency
    preview_totals = footed_owner_totals(totals_nano=result_owner_totals(computed.result), currency=currency)
    run = current_run(organization=organization, period=period)
    current = {row.code: row.amount for row in run_owner_totals(run)} if run else {}
    with scope(organization=organization):
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


def run_summary_json(*, run: AllocationRun | None = None, computed: Computed | None = None, period: date) -> dict:
    """The shape ``allocate --json`` prints and the API's summary uses."""
    if run is not None:
        totals = run_owner_totals(run)
        pool, currency = run.pool_total_nano, run.currency
        version_number, lines, digest = run.rule_set_version.number, run.line_count, run.inputs_hash
    else:
        result = computed.result
        currency = computed.currency
        totals = footed_owner_totals(totals_nano=result_owner_totals(result), currency=currency)
        pool = result.pool_total_nano
        version_number = computed.version.number
        lines = len(result.lines) + len(result.unallocated)
        digest = result.inputs_hash
    unallocated = next((row.amount for row in totals if not row.code), quantize_money(Decimal(0), currency))
    return {
        "period": f"{period:%Y-%m}",
        "rule_set_version": version_number,
        "pool_total": str(quantize_money(nano_to_decimal(pool), currency)),
        "unallocated": str(unallocated),
        "owners": [{"code": row.code, "amount": str(row.amount)} for row in totals if row.code],
        "lines": lines,
        "inputs_hash": digest,
    }
