"""Reconciliation in one currency: the amounts a run (or the periods board) reads, in the organisation's base
currency.

Usage estimates are in the currency of the price rows that priced them (the cube keeps one currency per cell)
and invoice lines in the currency they were billed in. Amounts already in the base currency are read as
they are (summed in the database); every other amount is converted once, with the organisation's policy and
rate source (``apps.fx``), at the grain the run reads: a cube row's cost-source amounts (its day's rate under
the ``usage_day`` policy) and one invoice line (its day's rate, or the mean over its charge period). Each
converted amount is rounded once, half to even, to the nano unit; the figures are the sums of the converted
amounts, never a sum across currencies.

A missing rate is never assumed: converting raises ``RateGap`` (naming the currencies and days), which a run
turns into a refusal and the periods board into "rate missing".
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Max, Sum

from apps.fx.convert import Converter, ConvertItem, RateGap, charge_days
from apps.fx.selectors import convert_items
from apps.invoices.models import InvoiceLine
from apps.tenancy.models import Organization
from apps.usage.models import COST_COLUMNS, DailyDetailUsage, DailyUsage
from apps.usage.selectors import overlaps_in

from . import engine

SOURCE_COLUMNS = {source: cost for source, (cost, _quantity) in COST_COLUMNS.items()}
REMAINDER = ""  # the part of a cube row's estimate its cost-source split does not explain


@dataclass
class Batch:
    """Amounts to convert into the base currency, gathered first and converted together, so that one refusal
    names every missing rate. ``add`` returns the index of an amount; ``converted[index]`` after ``run``."""

    organization: Organization
    period_start: date
    period_end: date
    items: list[ConvertItem] = field(default_factory=list)
    converted: list[int] = field(default_factory=list)
    converter: Converter | None = None

    def add(self, amount_nano: int, currency: str, *, day=None, start=None, end=None) -> int:
        self.items.append(ConvertItem(int(amount_nano), currency, day=day, start=start, end=end))
        return len(self.items) - 1

    def run(self) -> None:
        """Convert every amount (``RateGap`` naming all the gaps when rates are missing)."""
        self.converter, self.converted = convert_items(
            organization=self.organization, items=self.items, period_start=self.period_start, period_end=self.period_end
        )

    def source_totals(self) -> dict[str, int]:
        """What was added per currency before conversion, e.g. {"USD": 102465437875}."""
        totals: dict[str, int] = defaultdict(int)
        for item in self.items:
            totals[item.currency] += item.amount_nano
        return dict(sorted(totals.items()))


def gap_refusal(gap: RateGap, *, what: str, base: str) -> str:
    """The message of a run refused for missing rates: which currencies, which days, what to do."""
    return (
        f"{what} cannot be compared in {base}: {gap.message} A rate is never assumed: load the missing rates "
        "(Settings → Exchange rates shows what is loaded and takes your own rates) and run again."
    )


# --- usage --------------------------------------------------------------------------------------------------


@dataclass
class UsageRead:
    cells: list[engine.UsageCell]
    summary: dict
    source_totals: dict[str, int]
    tagset_nano: dict[int, int]  # estimated cost per tag set, in the base currency
    detail_nano: dict[str, int]  # per detail dimension: estimated cost of the usage that carried a value


class UsageReader:
    """The period's cube cells per provider × model × day (and the cost per tag set and per detail dimension),
    in the base currency once the batch has run."""

    def __init__(self, organization: Organization, first: date, after: date, batch: Batch, detail: list[str]):
        self.batch = batch
        self.cube = DailyUsage.objects.filter(day__gte=first, day__lt=after)
        base = organization.base_currency
        sums = {
            "estimated": Sum("estimated_nano"),
            **{source: Sum(column) for source, column in SOURCE_COLUMNS.items()},
        }
        # Base-currency cells: summed in the database as they are.
        in_base = self.cube.filter(currency=base)
        self.base_rows = list(
            in_base.values("provider", "model", "day").annotate(**sums).order_by("provider", "model", "day")
        )
        self.base_tagsets = dict(
            in_base.values("tagset_id").annotate(n=Sum("estimated_nano")).order_by().values_list("tagset_id", "n")
        )
        details = DailyDetailUsage.objects.filter(day__gte=first, day__lt=after, dimension__in=detail)
        self.base_detail = dict(
            details.filter(currency=base)
            .values("dimension")
            .annotate(n=Sum("estimated_nano"))
            .order_by()
            .values_list("dimension", "n")
        )
        self.totals: dict[str, int] = defaultdict(int)
        for row in self.base_rows:
            self.totals[base] += row["estimated"] or 0
        # Other currencies: every cube row's amounts, converted one by one at its day.
        self.pending: list[tuple[dict, dict[str, int]]] = []
        foreign = (
            self.cube.exclude(currency=base)
            .values(
                "id", "provider", "model", "day", "tagset_id", "currency", "estimated_nano", *SOURCE_COLUMNS.values()
            )
            .order_by("provider", "model", "day", "id")
        )
        for row in foreign:
            parts: dict[str, int] = {}
            explained = 0
            for source, column in SOURCE_COLUMNS.items():
                amount = row[column] or 0
                explained += amount
                if amount:
                    parts[source] = batch.add(amount, row["currency"], day=row["day"])
            if row["estimated_nano"] != explained:
                parts[REMAINDER] = batch.add(row["estimated_nano"] - explained, row["currency"], day=row["day"])
            self.totals[row["currency"]] += row["estimated_nano"]
            self.pending.append((row, parts))
        self.pending_detail = [
            (row["dimension"], batch.add(row["n"] or 0, row["currency"], day=row["day"]))
            for row in details.exclude(currency=base)
            .values("dimension", "day", "currency")
            .annotate(n=Sum("estimated_nano"))
            .order_by("dimension", "day", "currency")
        ]

    def read(self) -> UsageRead:
        converted = self.batch.converted
        cells = [
            engine.UsageCell(
                provider=row["provider"],
                model=row["model"],
                day=row["day"],
                estimated_nano=row["estimated"] or 0,
                source_nano={source: row[source] or 0 for source in SOURCE_COLUMNS},
            )
            for row in self.base_rows
        ]
        tagsets: dict[int, int] = defaultdict(int, {pk: n or 0 for pk, n in self.base_tagsets.items()})
        for row, parts in self.pending:
            estimated = sum(converted[index] for index in parts.values())
            cells.append(
                engine.UsageCell(
                    provider=row["provider"],
                    model=row["model"],
                    day=row["day"],
                    estimated_nano=estimated,
                    source_nano={source: converted[index] for source, index in parts.items() if source != REMAINDER},
                )
            )
            tagsets[row["tagset_id"]] += estimated
        detail: dict[str, int] = defaultdict(int, {key: n or 0 for key, n in self.base_detail.items()})
        for dimension, index in self.pending_detail:
            detail[dimension] += converted[index]
        cells.sort(key=lambda cell: (cell.provider, cell.model, cell.day))
        facts = self.cube.aggregate(
            cells=Count("id"), records=Sum("records"), requests=Sum("requests"), unpriced=Sum("unpriced_records")
        )
        summary = {
            "usage_cells": facts["cells"],
            "usage_records": facts["records"] or 0,
            "usage_requests": facts["requests"] or 0,
            "unpriced_records": facts["unpriced"] or 0,
        }
        return UsageRead(
            cells=cells,
            summary=summary,
            source_totals=dict(sorted(self.totals.items())),
            tagset_nano=dict(tagsets),
            detail_nano=dict(detail),
        )


# --- invoices -----------------------------------------------------------------------------------------------


def charge_day(start: datetime, end: datetime) -> date | None:
    """The day of a charge that covers at most one day; None for monthly (or longer) charges."""
    if end - start > timedelta(days=1):
        return None
    return start.astimezone(UTC).date()


@dataclass
class InvoiceRead:
    cells: list[engine.InvoiceCell]
    other_cloud_nano: int
    summary: dict
    source_totals: dict[str, int]
    other_cloud_totals: dict[str, int]


class InvoiceReader:
    """The period's invoice lines (by billing month) as reconciliation cells in the base currency; the non-AI
    lines of the same bills as one converted total."""

    GRAIN = ("provider", "model", "cost_source", "charge_period_start", "charge_period_end")

    def __init__(self, organization: Organization, period: date, batch: Batch):
        self.batch = batch
        base = organization.base_currency
        self.lines = InvoiceLine.objects.filter(billing_period=period)
        self.ai = self.lines.filter(is_ai=True)
        self.base_rows = list(
            self.ai.filter(currency=base)
            .values(*self.GRAIN)
            .annotate(amount_nano=Sum("amount_nano"))
            .order_by(*self.GRAIN)
        )
        self.totals: dict[str, int] = defaultdict(int)
        self.other_totals: dict[str, int] = defaultdict(int)
        for row in self.base_rows:
            self.totals[base] += row["amount_nano"] or 0
        self.base_other = (
            self.lines.filter(is_ai=False, currency=base).aggregate(total=Sum("amount_nano"))["total"] or 0
        )
        if self.base_other:
            self.other_totals[base] += self.base_other
        self.pending: list[tuple[dict, int]] = []
        self.pending_other: list[int] = []
        foreign = (
            self.lines.exclude(currency=base)
            .values("id", "is_ai", "currency", "amount_nano", *self.GRAIN)
            .order_by("provider", "charge_period_start", "id")
        )
        for row in foreign:
            first, last = charge_days(row["charge_period_start"], row["charge_period_end"])
            index = batch.add(row["amount_nano"], row["currency"], start=first, end=last)
            if row["is_ai"]:
                self.totals[row["currency"]] += row["amount_nano"]
                self.pending.append((row, index))
            else:
                self.other_totals[row["currency"]] += row["amount_nano"]
                self.pending_other.append(index)

    def read(self) -> InvoiceRead:
        converted = self.batch.converted
        rows = [(row, row["amount_nano"] or 0) for row in self.base_rows]
        rows += [(row, converted[index]) for row, index in self.pending]
        cells = [
            engine.InvoiceCell(
                provider=row["provider"],
                model=row["model"],
                cost_source=row["cost_source"],
                day=charge_day(row["charge_period_start"], row["charge_period_end"]),
                amount_nano=amount,
            )
            for row, amount in rows
        ]
        other_cloud = self.base_other + sum(converted[index] for index in self.pending_other)
        facts = self.lines.aggregate(
            count=Count("id"), invoices=Count("invoice", distinct=True), updated=Max("invoice__updated_at")
        )
        summary = {
            "invoice_lines": facts["count"],
            "ai_invoice_lines": self.ai.count(),
            "invoices": facts["invoices"],
            "invoices_last_updated": facts["updated"].isoformat() if facts["updated"] else None,
            "invoice_currencies": sorted(set(self.lines.values_list("currency", flat=True))),
        }
        return InvoiceRead(
            cells=cells,
            other_cloud_nano=other_cloud,
            summary=summary,
            source_totals=dict(sorted(self.totals.items())),
            other_cloud_totals=dict(sorted(self.other_totals.items())),
        )


# --- overlaps -----------------------------------------------------------------------------------------------


@dataclass
class OverlapRead:
    total_nano: int
    by_provider: dict[str, tuple[int, int]]  # provider -> (days, amount in the base currency)


class OverlapReader:
    """Days on which request-level logs and provider usage exports both cover a provider and model
    (``usage.selectors.overlaps_in``): the smaller of the two estimates may be counted twice, converted like
    any other usage amount."""

    def __init__(self, organization: Organization, first: date, last: date, batch: Batch):
        self.batch = batch
        self.pending = [
            (overlap.provider, overlap.day, batch.add(overlap.overlap_nano, overlap.currency, day=overlap.day))
            for overlap in overlaps_in(organization=organization, first=first, last=last)
            if overlap.overlap_nano
        ]

    def read(self) -> OverlapRead:
        days: dict[str, set[date]] = defaultdict(set)
        amounts: dict[str, int] = defaultdict(int)
        for provider, day, index in self.pending:
            days[provider].add(day)
            amounts[provider] += self.batch.converted[index]
        return OverlapRead(
            total_nano=sum(amounts.values()),
            by_provider={provider: (len(days[provider]), amounts[provider]) for provider in sorted(amounts)},
        )


def overlap_note(days: int, amount_nano: int, currency: str) -> str:
    """ "gateway logs and provider exports overlap on 12 days: up to 3.42 EUR may be counted twice"."""
    from .formatting import money

    return (
        f"gateway logs and provider exports overlap on {days} day{'s' if days != 1 else ''}: up to "
        f"{money(amount_nano, currency)} {currency} may be counted twice"
    )
