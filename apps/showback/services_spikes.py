"""Raising spend-spike alerts from the daily cube: the band and the rule are ``apps.showback.spikes``."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from urllib.parse import urlencode

from django.urls import reverse

from apps.core.templatetags.money import nano_money
from apps.owners.models import BudgetOwner, BudgetOwnerUser
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Role
from apps.tenancy.scoping import tenant_scoped

from .models import Alert
from .services import alert_raise
from .spend import spend_rows, team_owners
from .spikes import DIMENSIONS, TRAILING_DAYS, K, Spike, judge


@tenant_scoped
def spikes_find(*, organization: Organization, day: date) -> list[Spike]:
    """The spikes of ``day`` per team and per model (two reads of the daily cube: the day and its trailing
    days). Requests without a team tag are not a team."""
    first = day - timedelta(days=TRAILING_DAYS)
    trailing_days = [first + timedelta(days=offset) for offset in range(TRAILING_DAYS)]
    spikes = []
    for dimension in DIMENSIONS:
        result = spend_rows(organization=organization, first=first, last=day, by=(dimension,), grain="day")
        amounts: dict[str, dict[date, int]] = defaultdict(dict)
        for row in result.rows:
            if row[dimension] not in (None, ""):
                amounts[str(row[dimension])][row["period"]] = row["amount_nano"]
        for value, by_day in sorted(amounts.items()):
            spike = judge(
                dimension=dimension,
                value=value,
                day=day,
                amount=by_day.get(day, 0),
                trailing=[by_day.get(d, 0) for d in trailing_days],
            )
            if spike:
                spikes.append(spike)
    return spikes


def _requests_link(*, organization: Organization, spike: Spike) -> str:
    """The requests list of that day, filtered to the team or the model."""
    query = {"date_from": spike.day.isoformat(), "date_to": spike.day.isoformat()}
    query["tag_team" if spike.dimension == "team" else "model"] = spike.value
    return f"{reverse('usage:records', kwargs={'org_slug': organization.slug})}?{urlencode(query)}"


def _recipients(*, organization: Organization, owner_id: int | None) -> list[str]:
    if owner_id is not None:
        users = BudgetOwnerUser.objects.filter(organization=organization, budgetowner_id=owner_id)
        emails = list(users.values_list("user__email", flat=True))
        if emails:
            return emails
    finance = Membership.objects.filter(organization=organization, role=Role.FINANCE_ADMIN)
    return list(finance.values_list("user__email", flat=True))


@tenant_scoped
def detect_spikes(*, organization: Organization, day: date) -> list[Alert]:
    """Raise an alert for every spike of ``day``; returns the alerts this call raised (none on a re-run).
    A team's spike goes to its cost centre's owners (and is filed under that cost centre); a model's, or a
    team's without owners, to the finance admins."""
    spikes = spikes_find(organization=organization, day=day)
    if not spikes:
        return []
    owners = team_owners(organization=organization)
    owner_rows = BudgetOwner.objects.filter(organization=organization, pk__in=set(owners.values())).in_bulk()
    currency = organization.base_currency
    raised = []
    for spike in spikes:
        owner_id = owners.get(spike.value) if spike.dimension == "team" else None
        title = (
            f"Spend spike: {spike.dimension} {spike.value} spent {nano_money(spike.amount_nano)} {currency} on "
            f"{spike.day:%Y-%m-%d} (usual {nano_money(spike.median_nano)}, band up to {nano_money(spike.band_nano)})"
        )
        alert, made = alert_raise(
            organization=organization,
            kind=Alert.Kind.SPIKE,
            key=spike.key,
            period=spike.day,
            owner=owner_rows.get(owner_id),
            title=title,
            detail={
                "dimension": spike.dimension,
                "value": spike.value,
                "amount_nano": spike.amount_nano,
                "median_nano": spike.median_nano,
                "band_nano": spike.band_nano,
                "currency": currency,
                "trailing_days": TRAILING_DAYS,
                "k": str(K),
            },
            link=_requests_link(organization=organization, spike=spike),
            recipients=_recipients(organization=organization, owner_id=owner_id),
        )
        if made:
            raised.append(alert)
    return raised
