from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from . import services
from .forms import ApiClientForm
from .models import ApiClient


@org_perm_required(Perm.MANAGE_API_CLIENTS)
def api_clients(request, org_slug: str):
    form = ApiClientForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            client, new_token = services.api_client_create(
                organization=request.organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            # Shown once, in this response only; it is not stored anywhere.
            messages.success(request, f"API client '{client.name}' created. Copy its token now: it is not shown again.")
            form = ApiClientForm()
    return render(
        request,
        "accounts/api_clients.html",
        {
            "clients": ApiClient.objects.select_related("created_by").order_by("-created_at"),
            "form": form,
            "new_token": new_token,
        },
    )


@require_POST
@org_perm_required(Perm.MANAGE_API_CLIENTS)
def api_client_revoke(request, org_slug: str, pk: int):
    client = get_object_or_404(ApiClient, pk=pk)
    services.api_client_revoke(client=client, actor=request.user)
    messages.success(request, f"API client '{client.name}' revoked. Its token no longer works.")
    return redirect("accounts:api_clients", org_slug=org_slug)
