"""Reads for forecasts: a month's forecast per cost centre from the cube's history (live or for a snapshot),
the backtest over an organisation's history, and forecast accuracy of closed months against the charged
amounts (final statements).

History is the cube's monthly spend per cost centre (``spend.owner_month_spend``: price-book estimate in the
base currency; a team's cost centre from its tag value). A cost centre's series starts at its first month
with spend; gaps after that are months of zero. The organisation's series is every request's spend, with
unallocated spend included. A forecast is a pure function of its series, so it is cached under the series
itself (``FORECAST_CACHE_SECONDS``): new usage changes the series and so the key.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.cache import cache

from apps.core.calendar import month_before
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.statements.models import Statement
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from . import forecast as fc
from .charge_basis import USAGE_BASIS, ChargeRatio, ratio_of, scale_forecast
from .forecast import months_back, trim_series
from .models import ForecastSnapshot
from .spend import owner_month_spend

MAX_HISTORY_MONTHS = 24
# The key is the history itself (months strictly before the month), which does not change while the month
# runs: the snapshot task fills the cache when it takes the month's snapshots, and the page reads it all month
# (a cold page fits every cost centre: seconds with statsmodels; a warm one: under a second on the demo).
FORECAST_CACHE_SECONDS = 32 * 24 * 3600


def _cache_key(series: list[int], method: str) -> str:
    digest = hashlib.sha256(f"{method}:{fc.INTERVAL_WIDEN}:{','.join(map(str, series))}".encode()).hexdigest()
    return f"showback:forecast:{digest}"


def _forecast_many(series: dict, *, method: str = fc.DEFAULT_METHOD) -> dict:
    """``forecast_next`` for every series of ``series`` (key → amounts), through the cache."""
    keys = {name: _cache_key(values, method) for name, values in series.items()}
    cached = cache.get_many(list(keys.values()))
    results, fresh = {}, {}
    for name, values in series.items():
        hit = cached.get(keys[name])
        if hit is None:
            hit = fc.forecast_next(values, method=method)
            fresh[keys[name]] = hit
        results[name] = hit
    if fresh:
        cache.set_many(fresh, FORECAST_CACHE_SECONDS)
    return results


@dataclass
class MonthHistory:
    """Per cost centre (id) and for the organisation (key None) the amounts of ``months`` (oldest first),
    trimmed to start at the first month with spend; series that never spent are absent."""

    months: list[date]
    owners: dict[int, list[int]] = field(default_factory=dict)
    organisation: list[int] = field(default_factory=list)

    @property
    def through(self) -> date:
        return self.months[-1]


@tenant_scoped
def month_history(*, organization: Organization, through: date, months: int = MAX_HISTORY_MONTHS) -> MonthHistory:
    """The monthly spend history up to and including the month ``through`` (its first day)."""
    span = months_back(through, months)
    spend = owner_month_spend(organization=organization, first_month=span[0], last_month=span[-1])
    totals: dict[date, int] = defaultdict(int)
    owners = {}
    for owner_id, by_month in spend.items():
        for month, amount in by_month.items():
            totals[month] += amount
        if owner_id is not None:
            series = trim_series(by_month, span)
            if any(series):
                owners[owner_id] = series
    return MonthHistory(months=span, owners=owners, organisation=trim_series(totals, span))


RATIO_PERIODS = 3  # closed periods a charge ratio is measured over (the latest before the month)


def _ratios(
    periods: list[date], charged: dict[tuple[date, int], tuple[int, str]], spend: dict, currency: str
) -> dict[int | None, ChargeRatio]:
    """Per cost centre (and None: the organisation) its ratio over ``periods``; an owner with no charge or
    no usage there is absent (its forecast stays on the usage basis)."""
    if not periods:
        return {}
    charged_sum: dict[int | None, int] = defaultdict(int)
    for (period, owner_id), (amount, cur) in charged.items():
        if period in periods and cur == currency:
            charged_sum[owner_id] += amount
            charged_sum[None] += amount
    usage_sum: dict[int | None, int] = defaultdict(int)
    for owner_id, by_month in spend.items():
        for period in periods:
            amount = by_month.get(period, 0)
            usage_sum[None] += amount
            if owner_id is not None:
                usage_sum[owner_id] += amount
    return {
        key: ChargeRatio(
            ratio=ratio_of(amount, usage_sum[key]),
            basis="charged",
            periods=len(periods),
            charged_nano=amount,
            usage_nano=usage_sum[key],
        )
        for key, amount in charged_sum.items()
        if amount > 0 and usage_sum.get(key, 0) > 0
    }


def _closed_periods(organization: Organization) -> list[date]:
    return sorted(
        BillingPeriod.objects.filter(organization=organization, state=BillingPeriod.State.CLOSED).values_list(
            "period", flat=True
        )
    )


@tenant_scoped
def charge_ratios(*, organization: Organization, month: date) -> dict[int | None, ChargeRatio]:
    """Each cost centre's (and the organisation's, key None) charge ratio for forecasting ``month``: the sum
    of its final statements' totals over the sum of its usage (the cube's estimate, base currency) in the
    latest ``RATIO_PERIODS`` closed periods before ``month``. Missing key: no ratio, the usage basis."""
    periods = [p for p in _closed_periods(organization) if p < month][-RATIO_PERIODS:]
    if not periods:
        return {}
    charged = charged_by_owner(organization=organization, periods=periods)
    spend = owner_month_spend(organization=organization, first_month=periods[0], last_month=periods[-1])
    return _ratios(periods, charged, spend, organization.base_currency)


@dataclass(frozen=True)
class ForecastRow:
    owner: BudgetOwner | None  # None: the organisation
    month: date
    forecast: fc.Forecast  # of the charge: the usage forecast times ``charge.ratio``
    history: list[int]
    month_to_date_nano: int | None = None
    usage_forecast: fc.Forecast | None = None  # of the usage (the cube's estimate), before the ratio
    charge: ChargeRatio = USAGE_BASIS


@tenant_scoped
def month_forecasts(
    *,
    organization: Organization,
    month: date,
    visible_ids: set[int] | None = None,
    method: str = fc.DEFAULT_METHOD,
    history: MonthHistory | None = None,
) -> list[ForecastRow]:
    """The forecast of ``month`` for every cost centre with history before it (those in ``visible_ids``;
    None: all, and the organisation first), from the months strictly before ``month``."""
    history = history or month_history(organization=organization, through=month_before(month))
    series = {
        owner_id: values
        for owner_id, values in history.owners.items()
        if visible_ids is None or owner_id in visible_ids
    }
    if visible_ids is None and any(history.organisation):
        series[None] = history.organisation
    results = _forecast_many(series, method=method)
    ratios = charge_ratios(organization=organization, month=month)
    owners = BudgetOwner.objects.filter(organization=organization, pk__in=[k for k in series if k is not None])
    by_id = {owner.pk: owner for owner in owners}
    rows = [
        ForecastRow(
            owner=by_id.get(key),
            month=month,
            forecast=scale_forecast(results[key], ratios.get(key, USAGE_BASIS).ratio),
            history=series[key],
            usage_forecast=results[key],
            charge=ratios.get(key, USAGE_BASIS),
        )
        for key in series
        if results[key] is not None and (key is None or key in by_id)
    ]
    rows.sort(key=lambda row: (row.owner is not None, row.owner.code if row.owner else ""))
    return rows


@tenant_scoped
def forecast_backtest(
    *,
    organization: Organization,
    through: date,
    months: int = MAX_HISTORY_MONTHS,
    basis: str = "usage",
    widen: Decimal = fc.INTERVAL_WIDEN,
) -> dict[str, object]:
    """The rolling-origin backtest (``forecast.backtest``) over every cost centre's series and, apart, the
    organisation's: each method's pooled MAPE, bias and interval coverage, and the method it would choose.
    ``basis="charged"`` scores the default method against what was charged instead (``_charged_backtest``)."""
    history = month_history(organization=organization, through=through, months=months)
    table: dict[str, object] = {
        "organization": organization.slug,
        "basis": basis,
        "months": [f"{month:%Y-%m}" for month in history.months if month >= _first_month(history)],
        "series": len(history.owners),
        "min_train_months": fc.MIN_ETS_MONTHS,
        "default_method": fc.DEFAULT_METHOD,
        "interval_widen": str(widen),
    }
    if basis == "charged":
        table.update(_charged_backtest(organization=organization, history=history, widen=widen))
        return table
    owner_scores = fc.backtest(history.owners.values(), widen=widen)
    organisation_scores = fc.backtest([history.organisation], widen=widen)
    table.update(
        {
            "cost_centres": [score.as_dict() for score in owner_scores],
            "cost_centres_best": fc.choose_method(owner_scores),
            "organisation": [score.as_dict() for score in organisation_scores],
            "organisation_best": fc.choose_method(organisation_scores),
        }
    )
    return table


def _charged_backtest(*, organization: Organization, history: MonthHistory, widen: Decimal) -> dict[str, object]:
    """Every closed period t with a closed period before it: the default method forecasts t's usage from the
    months before t (at least ``MIN_ETS_MONTHS``), times the charge ratio of the latest ``RATIO_PERIODS``
    closed periods before t, against t's final statements (per cost centre, and all of them for the
    organisation). Scored beside it on the same points: the usage forecast against the charge (the old
    snapshots) and against t's usage (the model alone)."""
    closed = [p for p in _closed_periods(organization) if p in history.months]
    if not closed:
        return {"closed_periods": [], "cost_centres": [], "organisation": []}
    currency = organization.base_currency
    charged = charged_by_owner(organization=organization, periods=closed)
    spend = owner_month_spend(organization=organization, first_month=history.months[0], last_month=history.through)
    org_charged: dict[date, int] = defaultdict(int)
    for (period, _owner), (amount, cur) in charged.items():
        if cur == currency:
            org_charged[period] += amount
    pairs = {group: {"charged": [], "usage_vs_charged": [], "usage": []} for group in ("owners", "organisation")}
    ratios_used: dict[str, dict[str, str]] = {}
    series = {**history.owners, None: history.organisation}
    for t in closed:
        before = [p for p in closed if p < t][-RATIO_PERIODS:]
        if not before:
            continue
        ratios = _ratios(before, charged, spend, currency)
        ratios_used[f"{t:%Y-%m}"] = {"organisation": str(ratios.get(None, USAGE_BASIS).ratio)}
        position = history.months.index(t)
        for key, values in series.items():
            index = position - (len(history.months) - len(values))
            if index < fc.MIN_ETS_MONTHS:
                continue
            if key is None:
                actual = org_charged.get(t, 0)
            else:
                amount, cur = charged.get((t, key), (0, currency))
                actual = amount if cur == currency else 0
            if actual <= 0:
                continue
            usage = fc.forecast_next(values[:index], widen=widen)
            group = pairs["organisation" if key is None else "owners"]
            group["charged"].append((scale_forecast(usage, ratios.get(key, USAGE_BASIS).ratio), actual))
            group["usage_vs_charged"].append((usage, actual))
            if values[index]:
                group["usage"].append((usage, values[index]))
    method = fc.DEFAULT_METHOD
    return {
        "closed_periods": [f"{p:%Y-%m}" for p in closed],
        "organisation_ratios": ratios_used,
        "cost_centres": {name: fc.score(method, found).as_dict() for name, found in pairs["owners"].items()},
        "organisation": {name: fc.score(method, found).as_dict() for name, found in pairs["organisation"].items()},
    }


def _first_month(history: MonthHistory) -> date:
    longest = max([len(history.organisation), *(len(s) for s in history.owners.values())], default=0)
    return history.months[len(history.months) - longest] if longest else history.through


def _pct(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else (fraction * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class AccuracyRow:
    period: date
    owner: BudgetOwner | None  # None: the organisation
    currency: str
    forecast_nano: int
    lower_nano: int
    upper_nano: int
    actual_nano: int | None  # charged (final statements); None: nothing charged to compare with
    method: str
    spent_nano: int = 0  # the month's usage (price-book estimate)
    usage_forecast_nano: int | None = None  # the usage forecast before the charge ratio (None: = forecast)
    basis: str = "usage"
    charge_ratio: Decimal = Decimal(1)

    @property
    def usage_forecast(self) -> int:
        return self.forecast_nano if self.usage_forecast_nano is None else self.usage_forecast_nano

    @property
    def ape(self) -> Decimal | None:
        return (
            None
            if self.actual_nano is None
            else fc.accuracy(forecast_nano=self.forecast_nano, actual_nano=self.actual_nano)[0]
        )

    @property
    def bias(self) -> Decimal | None:
        return (
            None
            if self.actual_nano is None
            else fc.accuracy(forecast_nano=self.forecast_nano, actual_nano=self.actual_nano)[1]
        )

    @property
    def mature(self) -> bool | None:
        ape = self.ape
        return None if ape is None else ape <= fc.MATURE_APE

    @property
    def ape_pct(self) -> Decimal | None:
        return _pct(self.ape)

    @property
    def spend_ape_pct(self) -> Decimal | None:
        """The usage forecast (before the charge ratio) against the month's usage: the model's own error, apart
        from the allocation and the ratio."""
        return _pct(fc.accuracy(forecast_nano=self.usage_forecast, actual_nano=self.spent_nano)[0])

    @property
    def bias_pct(self) -> Decimal | None:
        return _pct(self.bias)

    @property
    def inside(self) -> bool | None:
        return None if self.actual_nano is None else self.lower_nano <= self.actual_nano <= self.upper_nano


@dataclass(frozen=True)
class AccuracySummary:
    """One cost centre's (or the organisation's) accuracy over the closed months shown."""

    owner: BudgetOwner | None
    months: int
    mape: Decimal | None  # mean of the months' absolute percentage errors
    wape: Decimal | None  # Σ|forecast − actual| / Σ actual: the months weighted by what was charged
    bias: Decimal | None  # Σ(forecast − actual) / Σ actual
    spend_wape: Decimal | None = None  # the same WAPE against the months' usage

    @property
    def mature(self) -> bool | None:
        return None if self.wape is None else self.wape <= fc.MATURE_APE

    @property
    def mape_pct(self) -> Decimal | None:
        return _pct(self.mape)

    @property
    def wape_pct(self) -> Decimal | None:
        return _pct(self.wape)

    @property
    def spend_wape_pct(self) -> Decimal | None:
        return _pct(self.spend_wape)

    @property
    def bias_pct(self) -> Decimal | None:
        return _pct(self.bias)


@dataclass
class Accuracy:
    rows: list[AccuracyRow]
    summaries: list[AccuracySummary]
    periods: list[date]
    skipped_currency: int = 0  # snapshots whose currency is not the statements' (not comparable)


def _summary(owner, rows: list[AccuracyRow]) -> AccuracySummary:
    scored = [row for row in rows if row.actual_nano]
    if not scored:
        return AccuracySummary(owner=owner, months=0, mape=None, wape=None, bias=None)
    actual = sum(row.actual_nano for row in scored)
    spent = sum(row.spent_nano for row in scored)
    return AccuracySummary(
        owner=owner,
        months=len(scored),
        mape=sum((row.ape for row in scored), Decimal(0)) / len(scored),
        wape=Decimal(sum(abs(row.forecast_nano - row.actual_nano) for row in scored)) / Decimal(actual),
        bias=Decimal(sum(row.forecast_nano - row.actual_nano for row in scored)) / Decimal(actual),
        spend_wape=(
            Decimal(sum(abs(row.usage_forecast - row.spent_nano) for row in scored)) / Decimal(spent) if spent else None
        ),
    )


@tenant_scoped
def charged_by_owner(*, organization: Organization, periods: list[date]) -> dict[tuple[date, int], tuple[int, str]]:
    """(period, cost centre) → (charged total, currency): the final statement of the latest version of each
    closed period (a reopened period's superseded statements are left out)."""
    statements = (
        Statement.objects.filter(
            organization=organization, period__in=periods, status=Statement.Status.FINAL, superseded_by__isnull=True
        )
        .values("period", "owner_id", "currency", "total_nano")
        .order_by()
    )
    charged: dict[tuple[date, int], tuple[int, str]] = {}
    for row in statements:
        key = (row["period"], row["owner_id"])
        amount, _currency = charged.get(key, (0, row["currency"]))
        charged[key] = (amount + row["total_nano"], row["currency"])
    return charged


@tenant_scoped
def forecast_accuracy(*, organization: Organization, visible_ids: set[int] | None, limit_months: int = 12) -> Accuracy:
    """Each closed period's snapshots against what was charged: per cost centre (those in ``visible_ids``)
    the charged total of its final statements; for the organisation (only when ``visible_ids`` is None) the
    sum of every final statement of the period. The organisation's figure is its own snapshot's error; the
    summaries add the months' errors weighted by the charged amounts (WAPE) next to their plain mean (MAPE).
    A cost centre with a snapshot but no statement in a closed month was charged nothing (error unscored)."""
    periods = list(
        BillingPeriod.objects.filter(organization=organization, state=BillingPeriod.State.CLOSED)
        .order_by("-period")
        .values_list("period", flat=True)[:limit_months]
    )
    if not periods:
        return Accuracy(rows=[], summaries=[], periods=[])
    snapshots = ForecastSnapshot.objects.filter(organization=organization, period__in=periods).select_related("owner")
    if visible_ids is not None:
        snapshots = snapshots.filter(owner_id__in=visible_ids)
    charged = charged_by_owner(organization=organization, periods=periods)
    org_charged: dict[date, tuple[int, str]] = {}
    for (period, _owner_id), (amount, currency) in charged.items():
        total, _ = org_charged.get(period, (0, currency))
        org_charged[period] = (total + amount, currency)
    spend = owner_month_spend(organization=organization, first_month=min(periods), last_month=max(periods))
    org_spent: dict[date, int] = defaultdict(int)
    for by_month in spend.values():
        for month, amount in by_month.items():
            org_spent[month] += amount
    rows, skipped = [], 0
    for snap in snapshots:
        actual = org_charged.get(snap.period) if snap.owner_id is None else charged.get((snap.period, snap.owner_id))
        if actual is not None and actual[1] != snap.currency:
            skipped += 1
            continue
        rows.append(
            AccuracyRow(
                period=snap.period,
                owner=snap.owner,
                currency=snap.currency,
                forecast_nano=snap.amount_nano,
                lower_nano=snap.lower_nano,
                upper_nano=snap.upper_nano,
                actual_nano=actual[0] if actual else None,
                method=snap.method,
                usage_forecast_nano=snap.usage_nano,
                basis=snap.basis,
                charge_ratio=snap.charge_ratio,
                spent_nano=org_spent.get(snap.period, 0)
                if snap.owner_id is None
                else spend.get(snap.owner_id, {}).get(snap.period, 0),
            )
        )
    rows.sort(key=lambda row: (-row.period.toordinal(), row.owner is not None, row.owner.code if row.owner else ""))
    by_owner: dict[int | None, list[AccuracyRow]] = defaultdict(list)
    for row in rows:
        by_owner[row.owner.pk if row.owner else None].append(row)
    summaries = [_summary(group[0].owner, group) for group in by_owner.values()]
    summaries.sort(key=lambda s: (s.owner is not None, s.owner.code if s.owner else ""))
    return Accuracy(rows=rows, summaries=summaries, periods=periods, skipped_currency=skipped)
