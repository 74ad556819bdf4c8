"""Late usage: after an import has committed, the periods past open it stored records for are flagged
(``apps.periods.late_data`` records and audits them). Usage belongs to a period by its day."""

from django.db.models import Count, Max, Min, Sum

from apps.core.calendar import period_bounds
from apps.periods.late_data import LateFound, past_open_periods, record_late_arrivals
from apps.periods.models import LateArrival
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import UsageRecord


@tenant_scoped(via="job")
def flag_late_usage(*, job) -> list[LateArrival]:
    """After a usage import has committed: flag the periods past open that it stored records for, one
    arrival per currency. A re-pulled bucket that replaced a stored one counts as arrived with the change
    of its estimate (new minus old, from the job's ``replaced_detail``), not its whole amount."""
    organization = job.organization
    records = UsageRecord.objects.filter(organization=organization, job_id=job.pk)
    span = records.aggregate(first=Min("day"), last=Max("day"))
    if span["first"] is None:
        return []
    found = []
    for billing_period in past_open_periods(organization=organization):
        first, after = period_bounds(billing_period.period, start_day=organization.period_start_day)
        if after <= span["first"] or first > span["last"]:
            continue
        rows = records.filter(day__gte=first, day__lt=after)
        replaced_old: dict[str, int] = {}
        for day, cells in (job.replaced_detail or {}).items():
            if first.isoformat() <= day < after.isoformat():
                for currency, (_count, old, _new) in cells.items():
                    replaced_old[currency] = replaced_old.get(currency, 0) + old
        by_currency = (
            rows.values("currency")
            .annotate(count=Count("id"), amount=Sum("estimated_nano"), first=Min("day"), last=Max("day"))
            .order_by("currency")
        )
        for figures in by_currency:
            if not figures["count"]:
                continue
            currency_rows = rows.filter(currency=figures["currency"])
            providers = sorted(set(currency_rows.order_by().values_list("provider", flat=True).distinct()))
            found.append(
                LateFound(
                    billing_period.pk,
                    figures["count"],
                    (figures["amount"] or 0) - replaced_old.get(figures["currency"], 0),
                    {"providers": providers, "days": [f"{figures['first']}", f"{figures['last']}"]},
                    currency=figures["currency"],
                )
            )
    return record_late_arrivals(organization=organization, kind=LateArrival.Kind.USAGE, job=job, found=found)
