"""The inputs of an allocation run, read out of the database into the pure engine's dataclasses.

The period's cost cells come from the ``DailyUsage`` cube (never the raw usage table): one cube row per
(tag set, provider, model, tier, retry) of the month, unpivoted into one cell per cost source. A cube row's
requests go on one of its cells only (the first with cost, else ``input``), so usage-based splits do not
count a request once per cost source. Invoice totals per provider are the AI lines billed for the month.
A rule document becomes engine rules with the taxonomy's owner links resolved as they are now.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Sum

from apps.core.calendar import period_bounds
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


@tenant_scoped
def period_cells(*, organization: Organization, period: date) -> list[engine.Cell]:
    """The month's cost cells, summed in the database by (tag set, provider, model, tier, retry)."""
    sums = {column: Sum(column) for cost, tokens in COST_COLUMNS.values() for column in (cost, tokens) if column}
    # the fiscal calendar's days of the period
    first, after = period_bounds(period, start_day=organization.period_start_day)
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


@tenant_scoped
def invoice_totals(*, organization: Organization, period: date) -> dict[str, int]:
    """AI charges per provider on the month's invoices (providers with no invoice are left out: no true-up)."""
    rows = (
        InvoiceLine.objects.filter(organization=organization, billing_period=period, is_ai=True)
        .values("provider")
        .annotate(total=Sum("amount_nano"))
        .order_by("provider")
    )
    return {row["provider"]: row["total"] or 0 for row in rows}


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
