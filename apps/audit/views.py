from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from apps.core.tables import Column, Table
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from .filters import AuditEventFilter
from .models import AuditEvent
from .services import audit_chain_verify

HISTORY_TABLE = Table(
    "history",
    (
        Column("seq", "#", value="seq", order="seq"),
        Column("when", "When (UTC)", value="created_at", order="created_at"),
        Column("actor", "Actor", value="actor_label", order="actor_label"),
        Column("action", "Action", value="action", order="action"),
        Column("object", "Object", value=lambda e: f"{e.object_type} {e.object_id}", order="object_type"),
        Column("reason", "Reason", value="reason", order="reason"),
    ),
)


@org_perm_required(Perm.VIEW_AUDIT)
def history(request, org_slug: str):
    filterset = AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.order_by("-seq"))
    table = HISTORY_TABLE.bind(request)
    rows = table.sort(filterset.qs)
    if response := table.export(rows):
        return response
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/history.html",
        {
            "filterset": filterset,
            "page": page,
            "query": table.query,
            "table": table,
            "verification": audit_chain_verify(organization=request.organization) if "verify" in request.GET else None,
        },
    )


@org_perm_required(Perm.VIEW_AUDIT)
def event_detail(request, org_slug: str, pk: int):
    event = get_object_or_404(AuditEvent, pk=pk)
    return render(request, "audit/event_detail.html", {"event": event})
