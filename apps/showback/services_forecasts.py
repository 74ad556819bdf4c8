"""Taking a month's forecast snapshots: every cost centre with history, and the organisation, from the months
strictly before the month (and before the day it is taken on), stored once and never changed.

A snapshot forecasts the owner's charge: the usage forecast (``forecast.py``, pure) times the owner's charge
ratio over the latest closed periods before the month (``selectors_forecasts.charge_ratios``), applied in
``month_forecasts``; before any period is closed the ratio is 1 and the snapshot says it is a usage forecast."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from apps.audit.services import audit_record
from apps.core.calendar import month_before
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from . import forecast as fc
from .models import ForecastSnapshot
from .selectors_forecasts import month_forecasts, month_history


def _history_through(*, month: date, as_of: date) -> date:
    """The last full month a snapshot of ``month`` taken on ``as_of`` may use: the month before ``month``,
    or, for a snapshot taken ahead of time, the month before ``as_of``'s."""
    return month_before(min(month, as_of.replace(day=1)))


@tenant_scoped
def forecast_snapshot_take(
    *, organization: Organization, month: date, as_of: date, method: str = fc.DEFAULT_METHOD
) -> list[ForecastSnapshot]:
    """Snapshot ``month``'s forecasts (``month`` is its first day) for the cost centres and the organisation
    that have none yet; returns the snapshots this call made (existing ones are kept as they are, so running it
    again, or from two workers, makes nothing new). One audit event records what was taken."""
    month = month.replace(day=1)
    through = _history_through(month=month, as_of=as_of)
    history = month_history(organization=organization, through=through)
    existing = set(
        ForecastSnapshot.objects.filter(organization=organization, period=month).values_list("owner_id", flat=True)
    )
    rows = [
        row
        for row in month_forecasts(organization=organization, month=month, method=method, history=history)
        if (row.owner.pk if row.owner else None) not in existing
    ]
    if not rows:
        return []
    made = []
    try:
        with transaction.atomic():
            for row in rows:
                made.append(
                    ForecastSnapshot.objects.create(
                        organization=organization,
                        owner=row.owner,
                        period=month,
                        amount_nano=row.forecast.amount_nano,
                        lower_nano=row.forecast.lower_nano,
                        upper_nano=row.forecast.upper_nano,
                        currency=organization.base_currency,
                        method=row.forecast.method,
                        history_months=row.forecast.history_months,
                        history_through=through,
                        basis=row.charge.basis,
                        charge_ratio=row.charge.ratio,
                        ratio_periods=row.charge.periods,
                        usage_nano=row.usage_forecast.amount_nano if row.usage_forecast else None,
                    )
                )
            audit_record(
                organization=organization,
                actor=None,
                action="forecast.snapshot_taken",
                object_type="showback.forecastsnapshot",
                object_id=f"{month:%Y-%m}",
                after={
                    "period": f"{month:%Y-%m}",
                    "history_through": f"{through:%Y-%m}",
                    "snapshots": len(made),
                    "organisation_nano": next((s.amount_nano for s in made if s.owner_id is None), None),
                    "charged_basis": sum(s.basis == "charged" for s in made),
                },
            )
    except IntegrityError:
        # Another worker took this month's snapshots between the read and the writes: theirs stand.
        return []
    return made
