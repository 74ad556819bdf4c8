from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from .filters import AuditEventFilter
from .models import AuditEvent
from .services import audit_chain_verify


@org_perm_required(Perm.VIEW_AUDIT)
def history(request, org_slug: str):
    filterset = AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.order_by("-seq"))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/history.html",
        {
            "filterset": filterset,
            "page": page,
            "query": query.urlencode(),
            "verification": audit_chain_verify(organization=request.organization) if "verify" in request.GET else None,
        },
    )


@org_perm_required(Perm.VIEW_AUDIT)
def event_detail(request, org_slug: str, pk: int):
    event = get_object_or_404(AuditEvent, pk=pk)
    return render(request, "audit/event_detail.html", {"event": event})
