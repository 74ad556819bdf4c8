"""What periods guards on lower floors, registered through their hooks in ``PeriodsConfig.ready()``."""

from apps.tenancy.scoping import tenant_scoped

from .models import BillingPeriod


@tenant_scoped
def calendar_may_change(*, organization) -> str | None:
    """Moving the period start day moves days between periods: refused once any period has left open, or
    days already reconciled, reviewed or charged would change period (or fall between two)."""
    worked = (
        BillingPeriod.objects.filter(organization=organization)
        .exclude(state=BillingPeriod.State.OPEN)
        .order_by("-period")
        .first()
    )
    if worked is None:
        return None
    return (
        f"The period start day cannot change once a period has left open "
        f"({worked.label} is {worked.get_state_display().lower()}): its days would move to another period."
    )
