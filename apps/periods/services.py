"""Writes on billing periods."""

from datetime import date

from django.core.exceptions import ValidationError
from django_scopes import scope

from apps.tenancy.models import Organization

from .models import BillingPeriod


def parse_period(text: str) -> date:
    """'2026-10' → date(2026, 10, 1), or a ValidationError that says what a period looks like."""
    try:
        year, month = (int(part) for part in str(text).split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        raise ValidationError({"period": f"“{text}” is not a period: use YYYY-MM, e.g. 2026-10."}) from None


def period_for_update(*, organization: Organization, period: date, actor=None) -> BillingPeriod:
    """The period row, created open on first use, locked for the rest of the caller's transaction."""
    if period.day != 1:
        raise ValidationError({"period": "Choose a month (the first day of it), e.g. 2026-10."})
    with scope(organization=organization):
        BillingPeriod.objects.get_or_create(
            organization=organization,
            period=period,
            defaults={"created_by": actor if getattr(actor, "_meta", None) is not None else None},
        )
        return BillingPeriod.objects.select_for_update().get(organization=organization, period=period)
