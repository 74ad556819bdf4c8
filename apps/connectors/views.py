"""The connectors pages: finance and org admins see the connections and their pulls; org admins (a second
factor confirmed) add, change and remove them; whoever ingests (finance) pulls now."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error
from apps.tenancy.permissions import org_any_perm_required, org_perm_required, require_org_perm
from apps.tenancy.roles import Perm

from . import selectors, services, tasks
from .forms import ConnectionCreateForm, ConnectionUpdateForm
from .models import ConnectorPull, ProviderConnection

PULLS_PER_PAGE = 25
WHO_SEES = (Perm.INGEST, Perm.MANAGE_SETTINGS)


@org_any_perm_required(*WHO_SEES, what="the provider connectors")
def connections(request, org_slug: str):
    form = ConnectionCreateForm(request.POST or None)
    if request.method == "POST":
        require_org_perm(request, Perm.MANAGE_SETTINGS)
        if form.is_valid():
            try:
                connection = services.connection_create(
                    organization=request.organization, actor=request.user, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request, f"{connection.label} saved; its key is stored encrypted and is not shown again."
                )
                return redirect("connectors:detail", org_slug=org_slug, pk=connection.pk)
    page = Paginator(selectors.connection_list(organization=request.organization), 50).get_page(request.GET.get("page"))
    return render(request, "connectors/list.html", {"page": page, "form": form})


@org_any_perm_required(*WHO_SEES, what="the provider connectors")
def connection_detail(request, org_slug: str, pk: int):
    connection = get_object_or_404(ProviderConnection, pk=pk)
    initial = {"label": connection.label, "repull_days": connection.repull_days, "is_active": connection.is_active}
    form = ConnectionUpdateForm(request.POST or None, initial=initial)
    if request.method == "POST":
        require_org_perm(request, Perm.MANAGE_SETTINGS)
        if form.is_valid():
            try:
                services.connection_update(connection=connection, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Saved.")
                return redirect("connectors:detail", org_slug=org_slug, pk=pk)
    pulls = Paginator(selectors.connection_pulls(connection=connection), PULLS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "connectors/detail.html", {"connection": connection, "form": form, "pulls": pulls})


@require_POST
@org_perm_required(Perm.INGEST)
def connection_pull_now(request, org_slug: str, pk: int):
    connection = get_object_or_404(ProviderConnection, pk=pk)
    try:
        services.pull_start_check(connection=connection)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        user_id = request.user.pk
        transaction.on_commit(lambda: tasks.pull_connection.delay(connection.pk, ConnectorPull.Trigger.MANUAL, user_id))
        messages.success(request, f"Pull of {connection.label} queued; its status shows below when it ends.")
    return redirect("connectors:detail", org_slug=org_slug, pk=pk)


@require_POST
@org_perm_required(Perm.MANAGE_SETTINGS)
def connection_remove(request, org_slug: str, pk: int):
    connection = get_object_or_404(ProviderConnection, pk=pk)
    label = connection.label
    services.connection_delete(connection=connection, actor=request.user)
    messages.success(request, f"{label} removed; what its pulls stored stays.")
    return redirect("connectors:list", org_slug=org_slug)
