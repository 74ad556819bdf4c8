"""The inputs of an allocation run, read out of the database into the pure engine's dataclasses.

The period's cost cells come from the ``DailyUsage`` cube (never the raw usage table): one cube row per
(tag set, provider, model, tier, retry) of the month, unpivoted into one cell per cost source. A cube row's
requests go on one of its cells only (the first with cost, else ``input``), so usage-based splits do not
count a request once per cost source. Invoice totals per provider are the AI lines billed for the month.
A rule document becomes engine rules with the taxonomy's owner links resolved as they are now.

Everything is allocated in the organisation's base currency. Cube rows and invoice lines in the base currency
are summed as they are (in the database); every other amount is converted once, with the organisation's
exchange-rate policy and source (``apps.fx``): a cube row's amount of one cost source per day and currency
(its day's rate under ``usage_day``), an invoice line as a whole (its day's rate, or the mean over its
charge period). Each converted amount is rounded once, half to even, to the nano unit; a cell is the sum of
its converted amounts. A missing rate is never assumed: ``RateGap`` names the currencies and days.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from apps.core.calendar import period_bounds
from apps.fx.convert import Converter, ConvertItem, charge_days
from apps.fx.selectors import convert_items
from apps.invoices.models import InvoiceLine
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import COST_COLUMNS as CUBE_COST_COLUMNS
from apps.usage.models import DailyUsage

from ..rules.checks import effective_mapping, rule_catalog
from . import engine

# Per cost source: its cost column and its token column in the cube (tool calls are no tokens).
COST_COLUMNS = {
    source: (cost, quantity if quantity.endswith("_tokens") else None)
    for source, (cost, quantity) in CUBE_COST_COLUMNS.items()
}
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


# --- reading ------------------------------------------------------------------------------------

CELL_KEY = ("tagset_id", "tagset__tags", "provider", "model", "service_tier", "is_retry")


@dataclass
class PeriodInputs:
    """What a run allocates, in the base currency: the cost cells, the invoice totals per provider, the
    amounts before conversion per currency, and the converter that made the conversion (None: nothing was in
    another currency)."""

    cells: list[engine.Cell]
    invoice_totals: dict[str, int]
    source_totals: dict[str, dict[str, int]] = field(default_factory=dict)
    converter: Converter | None = None

    def fx_fingerprint(self) -> list:
        """The rates used and what each converted, for the inputs hash: another rate is another run."""
        if self.converter is None:
            return []
        return sorted(
            [
                line.from_currency,
                str(line.for_day or ""),
                str(line.period_start or ""),
                str(line.period_end or ""),
                f"{line.rate.num}/{line.rate.den}",
                line.rate.source,
                line.amount_nano,
                line.converted_nano,
            ]
            for line in self.converter.lines.values()
        )


def _cells(row: dict, amounts: dict[str, int]) -> list[engine.Cell]:
    """One cube row (summed over the month) as one cell per cost source with an amount, tokens or requests."""
    cells = []
    requests_left = row["requests_sum"] or 0
    with_cost = [source for source in COST_COLUMNS if amounts.get(source)]
    requests_on = with_cost[0] if with_cost else "input"
    for source, (_cost_column, token_column) in COST_COLUMNS.items():
        amount = amounts.get(source) or 0
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


@tenant_scoped
def period_inputs(*, organization: Organization, period: date) -> PeriodInputs:
    """The month's cost cells and invoice totals in the base currency (``RateGap`` when a rate is missing)."""
    base = organization.base_currency
    sums = {column: Sum(column) for cost, tokens in COST_COLUMNS.values() for column in (cost, tokens) if column}
    # the fiscal calendar's days of the period
    first, after = period_bounds(period, start_day=organization.period_start_day)
    cube = DailyUsage.objects.filter(organization=organization, day__gte=first, day__lt=after)
    usage_totals: dict[str, int] = defaultdict(int)
    cells: list[engine.Cell] = []
    for row in cube.filter(currency=base).values(*CELL_KEY).annotate(requests_sum=Sum("requests"), **sums).order_by():
        amounts = {source: row[cost] or 0 for source, (cost, _tokens) in COST_COLUMNS.items()}
        usage_totals[base] += sum(amounts.values())
        cells.extend(_cells(row, amounts))

    # Other currencies: per cell, per day and currency, each cost source's amount converted on its own.
    items: list[ConvertItem] = []
    foreign: dict[tuple, dict] = {}
    foreign_parts: dict[tuple, list[tuple[str, int]]] = defaultdict(list)
    foreign_rows = (
        cube.exclude(currency=base)
        .values(*CELL_KEY, "day", "currency")
        .annotate(requests_sum=Sum("requests"), **sums)
        .order_by("tagset_id", "provider", "model", "service_tier", "is_retry", "day", "currency")
    )
    for row in foreign_rows:
        key = tuple(row[name] for name in CELL_KEY if name != "tagset__tags")
        cell = foreign.get(key)
        if cell is None:
            cell = foreign[key] = {**{name: row[name] for name in CELL_KEY}, "requests_sum": 0}
            cell.update({tokens: 0 for _cost, tokens in COST_COLUMNS.values() if tokens})
        cell["requests_sum"] += row["requests_sum"] or 0
        for source, (cost_column, token_column) in COST_COLUMNS.items():
            if token_column:
                cell[token_column] += row[token_column] or 0
            amount = row[cost_column] or 0
            if amount:
                usage_totals[row["currency"]] += amount
                foreign_parts[key].append((source, len(items)))
                items.append(ConvertItem(amount, row["currency"], day=row["day"]))

    invoice_rows = (
        InvoiceLine.objects.filter(organization=organization, billing_period=period, is_ai=True)
        .values("provider", "currency")
        .annotate(total=Sum("amount_nano"))
        .order_by("provider", "currency")
    )
    invoice_totals: dict[str, int] = {}
    invoiced: dict[str, int] = defaultdict(int)
    invoice_parts: list[tuple[str, int]] = []
    for row in invoice_rows:
        invoice_totals.setdefault(row["provider"], 0)
        invoiced[row["currency"]] += row["total"] or 0
        if row["currency"] == base:
            invoice_totals[row["provider"]] += row["total"] or 0
    foreign_lines = (
        InvoiceLine.objects.filter(organization=organization, billing_period=period, is_ai=True)
        .exclude(currency=base)
        .values("provider", "currency", "amount_nano", "charge_period_start", "charge_period_end")
        .order_by("provider", "charge_period_start", "id")
    )
    for line in foreign_lines:
        start, end = charge_days(line["charge_period_start"], line["charge_period_end"])
        invoice_parts.append((line["provider"], len(items)))
        items.append(ConvertItem(line["amount_nano"], line["currency"], start=start, end=end))

    converter, converted = convert_items(
        organization=organization, items=items, period_start=first, period_end=after - timedelta(days=1)
    )
    for key, row in foreign.items():
        amounts: dict[str, int] = defaultdict(int)
        for source, index in foreign_parts.get(key, ()):
            amounts[source] += converted[index]
        cells.extend(_cells(row, amounts))
    for provider, index in invoice_parts:
        invoice_totals[provider] += converted[index]
    return PeriodInputs(
        cells=cells,
        invoice_totals=dict(sorted(invoice_totals.items())),
        source_totals={
            "usage": dict(sorted(usage_totals.items())),
            "invoices": dict(sorted(invoiced.items())),
        },
        converter=converter,
    )


@tenant_scoped
def period_cells(*, organization: Organization, period: date) -> list[engine.Cell]:
    """The month's cost cells in the base currency, summed by (tag set, provider, model, tier, retry)."""
    return period_inputs(organization=organization, period=period).cells


@tenant_scoped
def invoice_totals(*, organization: Organization, period: date) -> dict[str, int]:
    """AI charges per provider on the month's invoices, in the base currency (providers with no invoice are
    left out: no true-up)."""
    return period_inputs(organization=organization, period=period).invoice_totals


def engine_rules(
    *, organization: Organization, document: dict
) -> tuple[list[engine.Rule], engine.TrueUpPolicy, set[str], dict[str, str]]:
    """The document as engine rules, the true-up policy, the active owner codes and rule names by id.

    Tag maps without an explicit mapping take the taxonomy's owner links as they are now; the resolved
    mapping is part of the run's inputs hash, so a later change of links shows as a different run."""
    catalog = rule_catalog(organization=organization)
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
            mapping = effective_mapping(rule, catalog)
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
