"""Late invoices: after an import has committed, the periods past open whose billing month got new lines are
flagged (``apps.periods.late_data`` records and audits them). Invoice lines belong to a period by their
billing month."""

from django.db.models import Count, Sum

from apps.invoices.models import InvoiceLine
from apps.periods.late_data import LateFound, past_open_periods, record_late_arrivals
from apps.periods.models import LateArrival
from apps.tenancy.scoping import tenant_scoped


@tenant_scoped(via="job")
def flag_late_invoices(*, job) -> list[LateArrival]:
    """After an invoice import has committed: flag the periods past open whose billing month got new lines."""
    organization = job.organization
    by_month = {bp.period: bp for bp in past_open_periods(organization=organization)}
    if not by_month:
        return []
    lines = InvoiceLine.objects.filter(organization=organization, job_id=job.pk, billing_period__in=list(by_month))
    totals = (
        lines.values("billing_period", "currency")
        .annotate(count=Count("id"), amount=Sum("amount_nano"))
        .order_by("billing_period", "currency")
    )
    found = []
    for row in totals:  # one arrival per currency: amounts of two currencies are never added
        month_lines = lines.filter(billing_period=row["billing_period"], currency=row["currency"])
        invoices = sorted(
            {
                f"{provider} {number}"
                for provider, number in month_lines.values_list("invoice__provider", "invoice__invoice_number")
            }
        )
        found.append(
            LateFound(
                by_month[row["billing_period"]].pk,
                row["count"],
                row["amount"] or 0,
                {"invoices": invoices},
                currency=row["currency"],
            )
        )
    return record_late_arrivals(organization=organization, kind=LateArrival.Kind.INVOICES, job=job, found=found)
