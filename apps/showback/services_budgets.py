"""Budget thresholds, evaluated: each active threshold whose cost centre's actual (or forecast) spend reached
its share of the month's budget raises one alert for that month, as AWS Budgets' notifications do.

``alert_raise`` is idempotent (one ``Alert`` per kind, key and month), so evaluating again, every hour or by
hand, never repeats an alert: a threshold that fired stays in ALARM for the month, and the next month starts
OK. The alert goes by e-mail to the cost centre's owners and the organisation's finance admins, and raising
it emits ``budget.threshold_crossed`` (``events``), the event webhooks deliver.
"""

from dataclasses import dataclass, field
from datetime import date

from django.urls import reverse

from apps.core.calendar import month_before
from apps.core.money import money_text
from apps.owners.models import BudgetOwnerUser, BudgetThreshold
from apps.periods.models import BillingPeriod
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Role
from apps.tenancy.scoping import tenant_scoped

from .budgets import ALERT_KIND, BudgetRow, budget_report, threshold_crossed, threshold_key
from .services import alert_raise


@dataclass
class Evaluation:
    month: date
    checked: int = 0  # active thresholds looked at
    fired: list[str] = field(default_factory=list)  # keys of the alerts raised by this evaluation
    already: int = 0  # thresholds already in ALARM for the month


class _Recipients:
    """Who hears of a cost centre's alert: its owners (or, when nobody owns it directly, the owners of the
    nearest cost centre above it that has some: they are the ones who see it) and the finance admins. E-mail
    addresses of active members, each once, sorted. Two queries per evaluation, whatever the number of alerts."""

    def __init__(self, *, organization: Organization, parents: dict[int, int | None]):
        self.parents = parents
        self.owners_of: dict[int, set[int]] = {}
        for owner_id, user_id in BudgetOwnerUser.unscoped.filter(organization=organization).values_list(
            "budgetowner_id", "user_id"
        ):
            self.owners_of.setdefault(owner_id, set()).add(user_id)
        members = Membership.objects.filter(organization=organization, user__is_active=True).exclude(user__email="")
        self.finance: set[str] = set()
        self.budget_owners: dict[int, str] = {}
        for user_id, role, email in members.values_list("user_id", "role", "user__email"):
            address = email.strip().lower()
            if role == Role.FINANCE_ADMIN:
                self.finance.add(address)
            elif role == Role.BUDGET_OWNER:
                self.budget_owners[user_id] = address

    def __call__(self, owner_id: int) -> list[str]:
        users: set[int] = set()
        seen: set[int] = set()
        current: int | None = owner_id
        while current is not None and current not in seen and not users:
            seen.add(current)
            users = {user for user in self.owners_of.get(current, ()) if user in self.budget_owners}
            current = self.parents.get(current)
        return sorted(self.finance | {self.budget_owners[user] for user in users})


def _title(*, threshold: BudgetThreshold, row: BudgetRow, month: date) -> str:
    basis = "forecast to month end" if threshold.basis == BudgetThreshold.Basis.FORECAST else "actual spend"
    return f"{row.owner.code} {row.owner.name}: {basis} reached {threshold.pct}% of the {month:%Y-%m} budget"


def _body(*, threshold: BudgetThreshold, row: BudgetRow, month: date, currency: str, link: str) -> str:
    figures = row.month
    lines = [
        _title(threshold=threshold, row=row, month=month) + ".",
        "",
        f"Budget {month:%Y-%m} (with everything below {row.owner.code}): {money_text(figures.budget_nano, currency)} "
        f"{currency}",
        f"Actual so far: {money_text(figures.actual_nano, currency)} {currency} ({figures.used_pct}% of budget)",
    ]
    if row.forecast_nano is not None:
        lines.append(
            f"Forecast to month end: {money_text(row.forecast_nano, currency)} {currency} ({row.forecast_pct}%)"
        )
    lines += ["", "This threshold will not alert again this month.", f"See: {link}"]
    return "\n".join(lines)


def _detail(*, threshold: BudgetThreshold, row: BudgetRow, currency: str, report) -> dict:
    figures = row.month
    return {
        "threshold": threshold.pk,
        "owner": row.owner.code,
        "pct": str(threshold.pct),
        "basis": threshold.basis,
        "currency": currency,
        "budget": money_text(figures.budget_nano, currency),
        "actual": money_text(figures.actual_nano, currency),
        "forecast": None if row.forecast_nano is None else money_text(row.forecast_nano, currency),
        "used_pct": str(figures.used_pct),
        "forecast_pct": None if row.forecast_pct is None else str(row.forecast_pct),
        "data_through": report.clock.data_through.isoformat() if report.clock.data_through else None,
    }


@tenant_scoped
def budgets_evaluate(*, organization: Organization, month: date, today: date) -> Evaluation:
    """Raise the alert of every active threshold crossed in ``month`` (its first day) that has not fired for
    it yet. ``today`` bounds the month in progress (the forecast counts the cube's days up to it)."""
    report = budget_report(organization=organization, month=month, today=today, visible_ids=None)
    result = Evaluation(month=month)
    link = f"{reverse('showback:budgets', kwargs={'org_slug': organization.slug})}?month={month:%Y-%m}"
    recipients = _Recipients(
        organization=organization, parents={row.owner.pk: row.owner.parent_id for row in report.rows}
    )
    for row in report.rows:
        for state in row.thresholds:
            threshold = state.threshold
            if not threshold.is_active:
                continue
            result.checked += 1
            if state.alert is not None:
                result.already += 1
                continue
            if not threshold_crossed(threshold=threshold, row=row, clock=report.clock):
                continue
            _alert, created = alert_raise(
                organization=organization,
                kind=ALERT_KIND,
                key=threshold_key(threshold.pk),
                period=month,
                owner=row.owner,
                title=_title(threshold=threshold, row=row, month=month),
                detail=_detail(threshold=threshold, row=row, currency=report.currency, report=report),
                link=link,
                recipients=recipients(row.owner.pk),
                body=_body(threshold=threshold, row=row, month=month, currency=report.currency, link=link),
            )
            if created:
                result.fired.append(threshold_key(threshold.pk))
            else:
                result.already += 1
    return result


@tenant_scoped
def months_to_evaluate(*, organization: Organization, today: date) -> list[date]:
    """The month in progress, and the one before it until its billing period closes (late usage can still
    push it over a threshold; a closed month is settled)."""
    current = date(today.year, today.month, 1)
    previous = month_before(current)
    closed = BillingPeriod.objects.filter(
        organization=organization, period=previous, state=BillingPeriod.State.CLOSED
    ).exists()
    return [current] if closed else [previous, current]
