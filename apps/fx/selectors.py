"""Reads of exchange rates: the rate table a run converts with, and what is loaded (coverage, gaps)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from django.db.models import Count, Max, Min

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .convert import FX_MAX_RATE_AGE_DAYS, Converter, ConvertItem, RateGap, RateTable, decimal_text, merge_gaps
from .ecb import ECB_BASE, ECB_SOURCE, RATE_SCALE
from .hooks import rate_demands
from .models import Conversion, ConversionLine, FxRate, FxRateLoad, OrgFxRate

OWN_TABLE_SOURCE = "own"


def ecb_rate_table(*, currencies: Iterable[str], first: date, last: date) -> RateTable:
    """The ECB quotes of ``currencies`` for the days ``first`` … ``last`` (and the look-back before them)."""
    codes = sorted({code for code in currencies if code != ECB_BASE})
    window_start = first - timedelta(days=FX_MAX_RATE_AGE_DAYS)
    series: dict[str, dict[date, Fraction]] = {code: {} for code in codes}
    rows = FxRate.objects.filter(
        source=ECB_SOURCE, from_currency=ECB_BASE, to_currency__in=codes, day__gte=window_start, day__lte=last
    ).values_list("to_currency", "day", "rate_e10")
    for code, day, scaled in rows:
        series[code][day] = Fraction(scaled, RATE_SCALE)
    last_loaded = dict(
        FxRate.objects.filter(source=ECB_SOURCE, from_currency=ECB_BASE, to_currency__in=codes)
        .values("to_currency")
        .annotate(last=Max("day"))
        .values_list("to_currency", "last")
    )
    return RateTable(source=ECB_SOURCE, series=series, pivot=ECB_BASE, last_loaded=last_loaded, window=(first, last))


@tenant_scoped
def own_rate_table(*, organization: Organization, currencies: Iterable[str], first: date, last: date) -> RateTable:
    """The organisation's own rates between ``currencies`` (pairs as loaded; where two of its sources give
    the same pair and day, the first source by name)."""
    codes = sorted(set(currencies))
    window_start = first - timedelta(days=FX_MAX_RATE_AGE_DAYS)
    pairs = OrgFxRate.objects.filter(organization=organization, from_currency__in=codes, to_currency__in=codes)
    series: dict[tuple[str, str], dict[date, Fraction]] = {}
    rows = (
        pairs.filter(day__gte=window_start, day__lte=last)
        .order_by("day", "from_currency", "to_currency", "source")
        .values_list("from_currency", "to_currency", "day", "rate_e10")
    )
    for frm, to, day, scaled in rows:
        series.setdefault((frm, to), {}).setdefault(day, Fraction(scaled, RATE_SCALE))
    last_loaded = {
        (frm, to): day
        for frm, to, day in pairs.values("from_currency", "to_currency")
        .annotate(last=Max("day"))
        .values_list("from_currency", "to_currency", "last")
    }
    for key in last_loaded:
        series.setdefault(key, {})
    return RateTable(source=OWN_TABLE_SOURCE, series=series, last_loaded=last_loaded, window=(first, last))


@tenant_scoped
def rate_table_for(*, organization: Organization, currencies: Iterable[str], first: date, last: date) -> RateTable:
    """The rates ``organization`` converts with (its ``fx_source``) between ``currencies`` and its base
    currency, for amounts dated ``first`` … ``last`` (every day any amount or charge period to convert
    touches: asking the table for a day outside them raises ``LookupError``, never a false gap)."""
    codes = {*currencies, organization.base_currency}
    if organization.fx_source == Organization.FxSource.OWN:
        return own_rate_table(organization=organization, currencies=codes, first=first, last=last)
    return ecb_rate_table(currencies=codes, first=first, last=last)


@tenant_scoped
def convert_items(
    *, organization: Organization, items: list[ConvertItem], period_start: date, period_end: date
) -> tuple[Converter | None, list[int]]:
    """Every item in ``organization``'s base currency, in order, with its policy and rate source, and the
    converter that did it (None when every item was in the base currency already). The rates are read once,
    for every day an item or the period touches; missing rates raise one ``RateGap`` naming them all."""
    base = organization.base_currency
    if all(item.currency == base for item in items):
        return None, [item.amount_nano for item in items]
    days = [day for item in items for day in (item.day, item.start, item.end) if day is not None]
    table = rate_table_for(
        organization=organization,
        currencies=sorted({item.currency for item in items} | {base}),
        first=min([*days, period_start]),
        last=max([*days, period_end]),
    )
    converter = Converter(
        base=base, policy=organization.fx_policy, table=table, period_start=period_start, period_end=period_end
    )
    return converter, converter.convert_all(items)


@dataclass
class CurrencyCoverage:
    currency: str  # or "USD/EUR" for an own pair
    first_day: date
    last_day: date
    days: int
    latest_rate: object = None
    missing_from: date | None = None  # the first working day after last_day (a rate still to load)

    @property
    def latest_rate_text(self) -> str:
        if self.latest_rate is None:
            return "—"
        value = Fraction(self.latest_rate)
        return decimal_text(value, 10).rstrip("0").rstrip(".")


@dataclass
class Coverage:
    source: str
    rows: list[CurrencyCoverage] = field(default_factory=list)
    gaps: list[RateGap] = field(default_factory=list)
    own_rates: int = 0


def _first_working_day_after(day: date) -> date:
    from .convert import target_closed

    probe = day + timedelta(days=1)
    while target_closed(probe):
        probe += timedelta(days=1)
    return probe


@tenant_scoped
def coverage(*, organization: Organization, today: date | None = None) -> Coverage:
    """What rates the organisation's source holds (first and last day per currency or pair, latest rate, from
    when a rate is missing) and the gaps that block the amounts still to convert (``fx.hooks`` demands)."""
    today = today or date.today()
    source = organization.fx_source
    result = Coverage(source=source)
    result.own_rates = OrgFxRate.objects.filter(organization=organization).count()
    if source == Organization.FxSource.OWN:
        spans = (
            OrgFxRate.objects.filter(organization=organization)
            .values("from_currency", "to_currency")
            .annotate(first=Min("day"), last=Max("day"), days=Count("day", distinct=True))
            .order_by("from_currency", "to_currency")
        )
        for span in spans:
            latest = (
                OrgFxRate.objects.filter(
                    organization=organization,
                    from_currency=span["from_currency"],
                    to_currency=span["to_currency"],
                    day=span["last"],
                )
                .order_by("source")
                .first()
            )
            missing = _first_working_day_after(span["last"])
            result.rows.append(
                CurrencyCoverage(
                    currency=f"{span['from_currency']}/{span['to_currency']}",
                    first_day=span["first"],
                    last_day=span["last"],
                    days=span["days"],
                    latest_rate=latest.rate if latest else None,
                    missing_from=missing if missing <= today else None,
                )
            )
    else:
        spans = (
            FxRate.objects.filter(source=ECB_SOURCE, from_currency=ECB_BASE)
            .values("to_currency")
            .annotate(first=Min("day"), last=Max("day"), days=Count("day"))
            .order_by("to_currency")
        )
        last_days = {span["to_currency"]: span["last"] for span in spans}
        latest = {
            (code, day): scaled
            for code, day, scaled in FxRate.objects.filter(
                source=ECB_SOURCE,
                from_currency=ECB_BASE,
                day__in=set(last_days.values()),
            ).values_list("to_currency", "day", "rate_e10")
        }
        for span in spans:
            code = span["to_currency"]
            missing = _first_working_day_after(span["last"])
            scaled = latest.get((code, span["last"]))
            result.rows.append(
                CurrencyCoverage(
                    currency=code,
                    first_day=span["first"],
                    last_day=span["last"],
                    days=span["days"],
                    latest_rate=(Fraction(scaled, RATE_SCALE) if scaled else None),
                    missing_from=missing if missing <= today else None,
                )
            )
    result.gaps = demanded_gaps(organization=organization)
    return result


@tenant_scoped
def demanded_gaps(*, organization: Organization) -> list[RateGap]:
    """For every range of days another app says the organisation needs converted, the days with no rate
    (one gap per currency, first to last missing day)."""
    found: list[RateGap] = []
    for demand in rate_demands():
        for currency, first, last in demand(organization=organization) or ():
            if currency == organization.base_currency or last < first:
                continue
            table = rate_table_for(organization=organization, currencies={currency}, first=first, last=last)
            day = first
            while day <= last:
                try:
                    table.rate_on(day, currency, organization.base_currency)
                except RateGap as gap:
                    found.append(gap)
                day += timedelta(days=1)
    if not found:
        return []
    return list(merge_gaps(found).all)


@tenant_scoped
def own_rates_list(*, organization: Organization, day=None, from_currency=None, to_currency=None, source=None):
    rates = OrgFxRate.objects.filter(organization=organization)
    if day:
        rates = rates.filter(day=day)
    if from_currency:
        rates = rates.filter(from_currency=from_currency)
    if to_currency:
        rates = rates.filter(to_currency=to_currency)
    if source:
        rates = rates.filter(source=source)
    return rates.order_by("-day", "from_currency", "to_currency", "source")


def ecb_rates_list(*, day=None, from_currency=None, to_currency=None):
    """The global ECB rates (reference data of no organisation)."""
    rates = FxRate.objects.filter(source=ECB_SOURCE)
    if day:
        rates = rates.filter(day=day)
    if from_currency:
        rates = rates.filter(from_currency=from_currency)
    if to_currency:
        rates = rates.filter(to_currency=to_currency)
    return rates.order_by("-day", "to_currency")


@dataclass(frozen=True)
class CurrencyLines:
    """The lines of one currency of a stored conversion (one per rate used), in day order, summed: what a run's
    or a statement's page says of that currency."""

    from_currency: str
    to_currency: str
    lines: tuple  # ConversionLine

    @property
    def amount_nano(self) -> int:
        return sum(line.amount_nano for line in self.lines)

    @property
    def converted_nano(self) -> int:
        return sum(line.converted_nano for line in self.lines)

    @property
    def first_day(self) -> date:
        return min(line.for_day or line.period_start for line in self.lines)

    @property
    def last_day(self) -> date:
        return max(line.for_day or line.period_end for line in self.lines)


def _currency_lines(lines) -> list[CurrencyLines]:
    by_currency: dict[str, list] = {}
    for line in lines:
        by_currency.setdefault(line.from_currency, []).append(line)
    return [
        CurrencyLines(from_currency=currency, to_currency=of[0].to_currency, lines=tuple(of))
        for currency, of in by_currency.items()
    ]


_LINE_ORDER = ("from_currency", "for_day", "period_start", "period_end", "id")


@tenant_scoped(via="conversion")
def conversion_currencies(*, conversion: Conversion) -> list[CurrencyLines]:
    """A stored conversion's lines, per currency converted (in currency order), each in day order."""
    lines = ConversionLine.objects.filter(organization_id=conversion.organization_id, conversion=conversion).order_by(
        *_LINE_ORDER
    )
    return _currency_lines(lines)


@tenant_scoped
def conversions_currencies(*, organization: Organization, conversion_ids: Iterable[int]) -> dict[int, list]:
    """``conversion_currencies`` of several stored conversions in one query: {conversion id: [CurrencyLines]}
    (a list of statements shows each one's rates without a query per row)."""
    ids = set(conversion_ids)
    if not ids:
        return {}
    lines = ConversionLine.objects.filter(organization=organization, conversion_id__in=ids).order_by(
        "conversion_id", *_LINE_ORDER
    )
    by_conversion: dict[int, list] = {}
    for line in lines:
        by_conversion.setdefault(line.conversion_id, []).append(line)
    return {conversion_id: _currency_lines(of) for conversion_id, of in by_conversion.items()}


@tenant_scoped
def conversions_list(*, organization: Organization):
    return Conversion.objects.filter(organization=organization).order_by("-created_at", "-id")


@tenant_scoped
def own_rate_loads(*, organization: Organization):
    return FxRateLoad.objects.filter(organization=organization).order_by("-created_at", "-id")
