from django.db.models import Q, QuerySet

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import Job


@tenant_scoped
def job_list(*, organization: Organization, kinds: list[str], user=None) -> QuerySet:
    """The jobs of ``kinds``, and any the user asked for themselves, newest first."""
    visible = Q(kind__in=kinds)
    if user is not None and getattr(user, "pk", None):
        visible |= Q(created_by=user)
    return (
        Job.objects.filter(visible, organization=organization)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
