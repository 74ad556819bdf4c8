"""The webhook pages of one organisation (org admins: MANAGE_WEBHOOKS)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from . import selectors, services
from .deliveries import RETRY_SCHEDULE
from .forms import WebhookEndpointForm
from .models import WebhookDelivery, WebhookEndpoint

DELIVERIES_PER_PAGE = 25


@org_perm_required(Perm.MANAGE_WEBHOOKS)
def endpoints(request, org_slug: str):
    form = WebhookEndpointForm(request.POST or None)
    new_secret = new_endpoint = None
    if request.method == "POST" and form.is_valid():
        try:
            new_endpoint, new_secret = services.endpoint_create(
                organization=request.organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            # Shown once, in this response only.
            messages.success(
                request, f"Endpoint {new_endpoint.url} registered. Copy its secret now: it is not shown again."
            )
            form = WebhookEndpointForm()
    rows = selectors.endpoint_list(organization=request.organization)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/endpoints.html",
        {"page": page, "form": form, "new_secret": new_secret, "new_endpoint": new_endpoint},
    )


def _detail(request, endpoint: WebhookEndpoint, *, new_secret: str | None = None):
    rows = selectors.endpoint_deliveries(organization=request.organization, endpoint=endpoint)
    page = Paginator(rows, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/endpoint.html",
        {
            "endpoint": endpoint,
            "page": page,
            "new_secret": new_secret,
            "schedule": [str(delay) for delay in RETRY_SCHEDULE[1:]],
        },
    )


@org_perm_required(Perm.MANAGE_WEBHOOKS)
def endpoint_detail(request, org_slug: str, pk: int):
    return _detail(request, get_object_or_404(WebhookEndpoint.objects.select_related("created_by"), pk=pk))


@require_POST
@org_perm_required(Perm.MANAGE_WEBHOOKS)
def endpoint_rotate(request, org_slug: str, pk: int):
    endpoint, secret = services.endpoint_rotate_secret(
        endpoint=get_object_or_404(WebhookEndpoint, pk=pk), actor=request.user
    )
    messages.success(request, "New secret made. Copy it now: it is not shown again. The old one signs too until "
                     f"{endpoint.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC.")  # fmt: skip
    return _detail(request, endpoint, new_secret=secret)


@require_POST
@org_perm_required(Perm.MANAGE_WEBHOOKS)
def endpoint_disable(request, org_slug: str, pk: int):
    endpoint = services.endpoint_disable(endpoint=get_object_or_404(WebhookEndpoint, pk=pk), actor=request.user)
    messages.success(request, f"{endpoint.url} disabled: nothing is sent to it.")
    return redirect("webhooks:endpoint", org_slug=org_slug, pk=pk)


@require_POST
@org_perm_required(Perm.MANAGE_WEBHOOKS)
def endpoint_enable(request, org_slug: str, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    try:
        endpoint = services.endpoint_enable(endpoint=endpoint, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{endpoint.url} enabled: new events are delivered to it.")
    return redirect("webhooks:endpoint", org_slug=org_slug, pk=pk)


@require_POST
@org_perm_required(Perm.MANAGE_WEBHOOKS)
def endpoint_delete(request, org_slug: str, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    url = endpoint.url
    services.endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, f"{url} removed with its deliveries.")
    return redirect("webhooks:endpoints", org_slug=org_slug)


@require_POST
@org_perm_required(Perm.MANAGE_WEBHOOKS)
def delivery_redeliver(request, org_slug: str, pk: int, delivery_pk: int):
    delivery = get_object_or_404(WebhookDelivery, endpoint_id=pk, pk=delivery_pk)
    try:
        services.delivery_redeliver(delivery=delivery, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Sent again; its attempts are listed below.")
    return redirect("webhooks:endpoint", org_slug=org_slug, pk=pk)
