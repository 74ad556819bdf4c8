"""Owner totals of an allocation, footed to the pool, and the summary a run or a preview is reported by.

Pure arithmetic over amounts already read: nothing here touches the database (``selectors`` reads a run's
totals and hands them here).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from apps.core.money import footed_minor_units, nano_to_decimal, quantize_money

from . import engine

if TYPE_CHECKING:
    from apps.fx.convert import Converter

    from ..models import RuleSetVersion


@dataclass
class Computed:
    """One computation of a period with one rule set version: the engine's result and what it was fed."""

    result: engine.AllocationResult
    cells: int
    invoice_totals: dict[str, int]
    rule_names: dict[str, str]
    version: RuleSetVersion
    currency: str
    converter: Converter | None = None  # what converted other currencies into ``currency`` (None: nothing)
    source_totals: dict = field(default_factory=dict)  # {"usage": {"USD": n}, "invoices": {"EUR": n}}


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


def result_owner_totals(result: engine.AllocationResult) -> dict[str, int]:
    totals = owner_totals_nano((line.owner, line.amount_nano) for line in result.lines)
    if result.unallocated_nano:
        totals[UNALLOCATED_KEY] = totals.get(UNALLOCATED_KEY, 0) + result.unallocated_nano
    return totals


def summary_json(
    *,
    period: date,
    totals: list[OwnerTotal],
    pool_nano: int,
    currency: str,
    version_number: int,
    lines: int,
    digest: str,
) -> dict:
    """The shape ``allocate --json`` prints and the API's summary uses."""
    unallocated = next((row.amount for row in totals if not row.code), quantize_money(Decimal(0), currency))
    return {
        "period": f"{period:%Y-%m}",
        "rule_set_version": version_number,
        "pool_total": str(quantize_money(nano_to_decimal(pool_nano), currency)),
        "unallocated": str(unallocated),
        "owners": [{"code": row.code, "amount": str(row.amount)} for row in totals if row.code],
        "lines": lines,
        "inputs_hash": digest,
    }


def preview_summary_json(*, computed: Computed, period: date) -> dict:
    """The summary of a computed preview, which is not stored (a stored run's is ``selectors.run_summary_json``)."""
    result = computed.result
    return summary_json(
        period=period,
        totals=footed_owner_totals(totals_nano=result_owner_totals(result), currency=computed.currency),
        pool_nano=result.pool_total_nano,
        currency=computed.currency,
        version_number=computed.version.number,
        lines=len(result.lines) + len(result.unallocated),
        digest=result.inputs_hash,
    )
