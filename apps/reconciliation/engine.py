"""The reconciliation maths, with no ORM in it: integer nano-units in, line figures out.

variance = invoiced − estimated (positive: the bill is higher than the estimate);
variance % = variance / invoiced × 100, quantised to 0.01 half-to-even, none when nothing was invoiced
(for display only);
within tolerance when |variance| / |invoiced| × 100 ≤ tolerance, compared exactly in integers: a variance of
5.004 % is outside a 5 % tolerance even though it shows as 5.00 %.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from apps.pricing.constants import COST_SOURCES, OTHER_SOURCE

NO_KEY = ""  # invoice lines without the grain (no model, not daily): one line per provider with this key

NOTE_NO_USAGE = "invoice line with no matching usage"
NOTE_NO_INVOICE = "usage with no invoice"
NOTE_NO_MODEL = "invoice lines without a model (fees, tax, credits)"
NOTE_NOT_DAILY = "invoice lines spanning more than one day"
NOTE_NO_DAILY_GRAIN = "the invoice has no daily charges: estimate only"

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class UsageCell:
    """Estimated cost of one provider × model × day, with its cost-source split."""

    provider: str
    model: str
    day: date
    estimated_nano: int
    source_nano: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class InvoiceCell:
    """AI charges of one provider × model × cost source; ``day`` is None when the charge spans several days."""

    provider: str
    model: str
    cost_source: str
    day: date | None
    amount_nano: int


@dataclass(frozen=True)
class TagCell:
    """Requests and estimated cost of one tag set in the period."""

    tags: Mapping[str, str]
    requests: int
    estimated_nano: int


@dataclass(frozen=True)
class LineFigures:
    level: str
    provider: str
    key: str
    estimated_nano: int
    invoiced_nano: int | None
    variance_nano: int | None
    variance_pct: Decimal | None
    within_tolerance: bool | None
    note: str = ""


def percent(part: int, whole: int) -> Decimal:
    """part / whole × 100, quantised to 0.01 half-to-even, computed exactly from integers."""
    with localcontext() as context:
        context.prec = 60
        return (Decimal(part) * 100 / Decimal(whole)).quantize(_CENT, rounding=ROUND_HALF_EVEN)


def variance_pct(*, estimated_nano: int, invoiced_nano: int) -> Decimal | None:
    if invoiced_nano == 0:
        return None
    return percent(invoiced_nano - estimated_nano, invoiced_nano)


def within_tolerance(*, estimated_nano: int, invoiced_nano: int, tolerance_pct: Decimal) -> bool:
    """|invoiced − estimated| × 100 ≤ tolerance × |invoiced|, in integers (the tolerance as an exact ratio).

    Never on the rounded percentage: 94.996 estimated against 100 invoiced is a 5.004 % variance, shown as
    5.00 %, and outside a 5 % tolerance."""
    if invoiced_nano == 0:
        # Nothing invoiced: reconciled only if nothing was estimated either.
        return estimated_nano == 0
    numerator, denominator = Decimal(tolerance_pct).as_integer_ratio()
    return abs(invoiced_nano - estimated_nano) * 100 * denominator <= numerator * abs(invoiced_nano)


def _line(
    level: str,
    provider: str,
    key: str,
    estimated: int,
    invoiced: int | None,
    tolerance_pct: Decimal,
    note: str = "",
) -> LineFigures:
    if invoiced is None:
        return LineFigures(level, provider, key, estimated, None, None, None, None, note)
    return LineFigures(
        level=level,
        provider=provider,
        key=key,
        estimated_nano=estimated,
        invoiced_nano=invoiced,
        variance_nano=invoiced - estimated,
        variance_pct=variance_pct(estimated_nano=estimated, invoiced_nano=invoiced),
        within_tolerance=within_tolerance(
            estimated_nano=estimated, invoiced_nano=invoiced, tolerance_pct=tolerance_pct
        ),
        note=note,
    )


def _matched_lines(
    level: str,
    provider: str,
    estimated: Mapping[str, int],
    invoiced: Mapping[str, int],
    tolerance_pct: Decimal,
    unkeyed_note: str,
) -> list[LineFigures]:
    lines = []
    for key in sorted(set(estimated) | set(invoiced)):
        note = ""
        if key == NO_KEY and key in invoiced:
            note = unkeyed_note
        elif key not in estimated:
            note = NOTE_NO_USAGE
        elif key not in invoiced:
            note = NOTE_NO_INVOICE
        lines.append(_line(level, provider, key, estimated.get(key, 0), invoiced.get(key, 0), tolerance_pct, note))
    return lines


def reconcile(
    *, usage: Iterable[UsageCell], invoices: Iterable[InvoiceCell], tolerance_pct: Decimal
) -> list[LineFigures]:
    """Provider lines for every provider on either side; model and cost-source lines for providers whose
    invoice has that grain; day lines for every provider (invoiced only where the invoice has daily charges)."""
    usage = list(usage)
    invoices = list(invoices)
    est_provider: dict[str, int] = defaultdict(int)
    est_model: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    est_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    est_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cell in usage:
        est_provider[cell.provider] += cell.estimated_nano
        est_model[cell.provider][cell.model] += cell.estimated_nano
        est_day[cell.provider][cell.day.isoformat()] += cell.estimated_nano
        split = 0
        for source in COST_SOURCES:
            amount = cell.source_nano.get(source, 0)
            split += amount
            if amount:
                est_source[cell.provider][source] += amount
        if cell.estimated_nano != split:
            # Whatever the split does not explain stays visible as "other", so the sources add up.
            est_source[cell.provider][OTHER_SOURCE] += cell.estimated_nano - split

    inv_provider: dict[str, int] = defaultdict(int)
    inv_model: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    inv_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    inv_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    model_grain: set[str] = set()
    source_grain: set[str] = set()
    day_grain: set[str] = set()
    for cell in invoices:
        inv_provider[cell.provider] += cell.amount_nano
        inv_model[cell.provider][cell.model or NO_KEY] += cell.amount_nano
        inv_source[cell.provider][cell.cost_source or OTHER_SOURCE] += cell.amount_nano
        inv_day[cell.provider][cell.day.isoformat() if cell.day else NO_KEY] += cell.amount_nano
        if cell.model:
            model_grain.add(cell.provider)
        if cell.cost_source and cell.cost_source != OTHER_SOURCE:
            source_grain.add(cell.provider)
        if cell.day is not None:
            day_grain.add(cell.provider)

    lines: list[LineFigures] = []
    for provider in sorted(set(est_provider) | set(inv_provider)):
        note = ""
        if provider not in inv_provider:
            note = NOTE_NO_INVOICE
        elif provider not in est_provider:
            note = NOTE_NO_USAGE
        lines.append(
            _line(
                "provider",
                provider,
                NO_KEY,
                est_provider.get(provider, 0),
                inv_provider.get(provider, 0),
                tolerance_pct,
                note,
            )
        )
        if provider in model_grain:
            lines += _matched_lines(
                "model", provider, est_model.get(provider, {}), inv_model[provider], tolerance_pct, NOTE_NO_MODEL
            )
        if provider in source_grain:
            lines += _matched_lines(
                "cost_source", provider, est_source.get(provider, {}), inv_source[provider], tolerance_pct, ""
            )
        if provider in day_grain:
            lines += _matched_lines(
                "day", provider, est_day.get(provider, {}), inv_day[provider], tolerance_pct, NOTE_NOT_DAILY
            )
        else:
            for day, estimated in sorted(est_day.get(provider, {}).items()):
                note = NOTE_NO_DAILY_GRAIN if provider in inv_provider else NOTE_NO_INVOICE
                lines.append(_line("day", provider, day, estimated, None, tolerance_pct, note))
    return lines


@dataclass(frozen=True)
class TagFigures:
    total_requests: int
    total_nano: int
    untagged: dict[str, dict[str, int]]  # dimension -> {"requests": n, "cost_nano": n}
    central_nano: int
    unallocated_nano: int

    @property
    def platform_overhead_pct(self) -> Decimal:
        return percent(self.central_nano, self.total_nano) if self.total_nano else Decimal("0.00")


def tag_figures(
    *, cells: Iterable[TagCell], dimensions: Iterable[str], owned_teams: set[str], central_teams: set[str]
) -> TagFigures:
    """Tagging gaps per dimension, the central (platform) share and what no cost centre owns yet.

    A team value counts as owned when its taxonomy value links to a budget owner; ``central_teams`` is
    the subset whose owner is central. Unallocated: team tag missing, or a team value with no owner."""
    dimensions = list(dimensions)
    untagged = {key: {"requests": 0, "cost_nano": 0} for key in dimensions}
    total_requests = total_nano = central = unallocated = 0
    for cell in cells:
        total_requests += cell.requests
        total_nano += cell.estimated_nano
        for key in dimensions:
            if not cell.tags.get(key):
                untagged[key]["requests"] += cell.requests
                untagged[key]["cost_nano"] += cell.estimated_nano
        team = cell.tags.get("team") or ""
        if team in central_teams:
            central += cell.estimated_nano
        if team not in owned_teams:
            unallocated += cell.estimated_nano
    return TagFigures(total_requests, total_nano, untagged, central, unallocated)
