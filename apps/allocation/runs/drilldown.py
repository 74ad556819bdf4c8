"""The usage-explorer query behind an allocation line: what a line's rule selects, and the query string that
drills the line down to its requests. Built from the line and its rule set version alone; reads no table."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.http import QueryDict

if TYPE_CHECKING:
    from ..models import AllocationLine, RuleSetVersion


def rule_usage_filters(version: RuleSetVersion) -> dict[str, dict[str, str]]:
    """Usage-explorer filters implied by each rule's own conditions, by the rule id the run stores ("r1",
    "r2", … in document order, as ``inputs.engine_rules`` numbers them). Only what the explorer can express
    is kept (a tag that equals a value or is missing, the service tier, retries), so a drill-down may show
    a little more than the line, never less."""
    filters: dict[str, dict[str, str]] = {}
    for index, rule in enumerate(version.document.get("rules", [])):
        query: dict[str, str] = {}
        for condition in rule.get("conditions", []):
            field, op, value = condition.get("field", ""), condition.get("op"), condition.get("value")
            if field.startswith("tag:") and op == "equals":
                query[f"tag_{field[4:]}"] = str(value)
            elif field.startswith("tag:") and op == "missing":
                query[f"tag_{field[4:]}"] = "(missing)"
            elif field == "service_tier" and op == "equals":
                query["service_tier"] = str(value)
            elif field == "is_retry" and op == "equals":
                query["retry"] = "yes" if str(value).lower() == "true" else "no"
        filters[f"r{index + 1}"] = query
    return filters


def drilldown_query(line: AllocationLine, *, period: date, rule_filters: dict[str, dict[str, str]]) -> str:
    """The usage-explorer query that shows the requests behind a line: its month, provider, model and
    cost source (a true-up line has none: it is the invoice's difference, not usage), its feature, the tag
    value a tag-map line was booked by, and what the line's rule itself selects (a pool's conditions)."""
    query = QueryDict(mutable=True)
    query["month"] = f"{period:%Y-%m}"
    query["provider"] = line.provider
    if line.model:
        query["model"] = line.model
    if line.cost_source != "true_up":
        query["cost_source"] = line.cost_source
    extra = dict(rule_filters.get(line.rule_id, {}))
    if line.feature:
        extra["tag_feature"] = line.feature
    extra.update({f"tag_{dimension}": value for dimension, value in (line.match_tags or {}).items()})
    for key in sorted(extra):
        query[key] = extra[key]
    return query.urlencode()
