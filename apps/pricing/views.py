"""Price-book pages: the global list prices (everyone in the organisation reads them), the
organisation's negotiated prices and discounts (finance maintains them), and a calculator that
shows what a request costs by cost source, at list price and at the organisation's price."""

import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error
from apps.core.tables import Column, Table, exact_decimal
from apps.core.views import set_active_view
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from . import services
from .constants import COST_SOURCES
from .forms import EstimateForm, OrgModelForm, PriceBookFilterForm, PriceOverrideForm
from .models import OrgModel, PriceOverride
from .selectors import (
    list_price_book,
    org_models,
    price_book_for,
    price_book_versions,
    price_overrides,
    price_rows_in_force,
)

PAGE_SIZE = 50


def _active(row) -> str:
    return "active" if row.is_active else "inactive"


PRICE_BOOK_TABLE = Table(
    "price-book",
    (
        Column("provider", "Provider", value="provider.name", order="provider__name"),
        Column("model", "Model", value="model.code", order="model__code"),
        Column("retired", "Retired", value=lambda r: "" if r.model.is_active else "retired", in_page=False),
        Column("tier", "Tier", value="get_service_tier_display", order="service_tier"),
        Column("usage_type", "Usage type", value="usage_type", order="usage_type"),
        Column("price", "Price", value=lambda r: exact_decimal(r.price), order="price"),
        Column("currency", "Currency", value="currency", in_page=False),
        Column("unit", "Unit", value="get_unit_display", order="unit"),
        Column(
            "applies",
            "Applies",
            value=lambda r: f"prompt > {r.min_context_tokens} tokens" if r.min_context_tokens else "all requests",
            order="min_context_tokens",
        ),
        Column("since", "Since", value="effective_from", order="effective_from"),
        Column("until", "Until", value="effective_to", order="effective_to"),
        Column("source", "Source", value="source", order="source"),
        Column("source_date", "Source date", value="source_date", in_page=False),
    ),
)


def _override_model(o) -> str:
    if o.model:
        return o.model.code
    if o.org_model:
        return f"{o.org_model.name} (ours)"
    return "every model"


OVERRIDES_TABLE = Table(
    "price-overrides",
    (
        Column("provider", "Provider", value="provider.name", order="provider__name"),
        Column("model", "Model", value=_override_model, order=Coalesce("model__code", "org_model__name")),
        Column("usage_type", "Usage type", value=lambda o: o.usage_type or "all", order="usage_type"),
        Column("tier", "Tier", value=lambda o: o.service_tier or "all", order="service_tier"),
        Column("price", "Price or discount", value=lambda o: exact_decimal(o.price), order="price"),
        Column("currency", "Currency", value="currency", in_page=False),
        Column("unit", "Unit", value=lambda o: o.get_unit_display() if o.price is not None else "", in_page=False),
        Column(
            "discount",
            "Discount % off list",
            value=lambda o: exact_decimal(o.discount_pct),
            order="discount_pct",
            in_page=False,
        ),
        Column("from", "From", value="effective_from", order="effective_from"),
        Column("until", "Until", value="effective_to", order="effective_to"),
        Column("note", "Note", value="note", order="note"),
        Column("status", "Status", value=_active, order="is_active"),
    ),
)

ORG_MODELS_TABLE = Table(
    "model-names",
    (
        Column("provider", "Provider", value="provider.name", order="provider__name"),
        Column("name", "Name", value="name", order="name"),
        Column(
            "maps_to",
            "Priced as",
            value=lambda m: m.maps_to.code if m.maps_to else "our negotiated prices only",
            order="maps_to__code",
        ),
        Column("note", "Note", value="note", order="note"),
        Column("status", "Status", value=_active, order="is_active"),
    ),
)


@org_perm_required(Perm.VIEW_ORG)
def price_book(request, org_slug: str):
    form = PriceBookFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    day = filters.get("on") or timezone.localdate()
    rows = price_rows_in_force(
        day=day,
        provider=filters.get("provider", ""),
        model=(filters.get("model") or "").strip().lower(),
        service_tier=filters.get("tier", ""),
        include_retired=filters.get("retired", False),
    )
    table = PRICE_BOOK_TABLE.bind(request)
    rows = table.sort(rows)
    if response := table.export(rows):
        return response
    return render(
        request,
        "pricing/price_book.html",
        {
            "form": form,
            "day": day,
            "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "query": table.query,
            "table": table,
            "active_overrides": price_overrides(organization=request.organization, include_inactive=False).count(),
            "versions": price_book_versions()[:5],
        },
    )


@org_perm_required(Perm.VIEW_ORG)
def override_list(request, org_slug: str):
    table = OVERRIDES_TABLE.bind(request)
    overrides = table.sort(price_overrides(organization=request.organization))
    if response := table.export(overrides):
        return response
    return render(
        request,
        "pricing/override_list.html",
        {
            "page": Paginator(overrides, PAGE_SIZE).get_page(request.GET.get("page")),
            "query": table.query,
            "table": table,
        },
    )


def _override_data(form: PriceOverrideForm) -> dict:
    return {field: form.cleaned_data[field] for field in PriceOverrideForm.base_fields}


@org_perm_required(Perm.MANAGE_CATALOG)
def override_create(request, org_slug: str):
    form = PriceOverrideForm(
        request.POST or None, initial={"effective_from": timezone.localdate()}, organization=request.organization
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.price_override_create(
                organization=request.organization, actor=request.user, **_override_data(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Price override saved: estimates from now on use it.")
            return redirect("pricing:overrides", org_slug=org_slug)
    return render(request, "pricing/override_form.html", {"form": form, "override": None})


@org_perm_required(Perm.MANAGE_CATALOG)
def override_edit(request, org_slug: str, pk: int):
    override = get_object_or_404(PriceOverride.objects.select_related("provider", "model"), pk=pk)
    form = PriceOverrideForm(
        request.POST or None, initial=PriceOverrideForm.initial_for(override), organization=request.organization
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.price_override_update(override=override, actor=request.user, data=_override_data(form))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Price override saved.")
            return redirect("pricing:overrides", org_slug=org_slug)
    return render(request, "pricing/override_form.html", {"form": form, "override": override})


def _set_active(request, org_slug: str, pk: int, *, active: bool):
    override = get_object_or_404(PriceOverride.objects.select_related("provider", "model"), pk=pk)
    return set_active_view(
        request,
        set_active=functools.partial(services.price_override_set_active, override=override),
        active=active,
        done=f"Override {'reactivated' if active else 'deactivated'}.",
        to="pricing:overrides",
        org_slug=org_slug,
    )


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def override_deactivate(request, org_slug: str, pk: int):
    return _set_active(request, org_slug, pk, active=False)


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def override_reactivate(request, org_slug: str, pk: int):
    return _set_active(request, org_slug, pk, active=True)


@org_perm_required(Perm.VIEW_ORG)
def org_model_list(request, org_slug: str):
    table = ORG_MODELS_TABLE.bind(request)
    rows = table.sort(org_models(organization=request.organization))
    if response := table.export(rows):
        return response
    return render(
        request,
        "pricing/org_model_list.html",
        {"page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")), "query": table.query, "table": table},
    )


def _org_model_data(form: OrgModelForm) -> dict:
    return {field: form.cleaned_data[field] for field in OrgModelForm.base_fields}


@org_perm_required(Perm.MANAGE_CATALOG)
def org_model_create(request, org_slug: str):
    form = OrgModelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.org_model_create(organization=request.organization, actor=request.user, **_org_model_data(form))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Model name saved: usage reporting it is priced from now on.")
            return redirect("pricing:org_models", org_slug=org_slug)
    return render(request, "pricing/org_model_form.html", {"form": form, "org_model": None})


@org_perm_required(Perm.MANAGE_CATALOG)
def org_model_edit(request, org_slug: str, pk: int):
    org_model = get_object_or_404(OrgModel.objects.select_related("provider", "maps_to"), pk=pk)
    form = OrgModelForm(request.POST or None, initial=OrgModelForm.initial_for(org_model))
    if request.method == "POST" and form.is_valid():
        try:
            services.org_model_update(org_model=org_model, actor=request.user, data=_org_model_data(form))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Model name saved.")
            return redirect("pricing:org_models", org_slug=org_slug)
    return render(request, "pricing/org_model_form.html", {"form": form, "org_model": org_model})


def _set_org_model_active(request, org_slug: str, pk: int, *, active: bool):
    org_model = get_object_or_404(OrgModel.objects.select_related("provider", "maps_to"), pk=pk)
    return set_active_view(
        request,
        set_active=functools.partial(services.org_model_set_active, org_model=org_model),
        active=active,
        done=f"Model name {'reactivated' if active else 'deactivated'}.",
        to="pricing:org_models",
        org_slug=org_slug,
    )


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def org_model_deactivate(request, org_slug: str, pk: int):
    return _set_org_model_active(request, org_slug, pk, active=False)


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def org_model_reactivate(request, org_slug: str, pk: int):
    return _set_org_model_active(request, org_slug, pk, active=True)


@org_perm_required(Perm.VIEW_ORG)
def estimate(request, org_slug: str):
    form = EstimateForm(request.GET if "model" in request.GET else None)
    results = None
    if form.is_valid():
        arguments = {
            "provider": form.cleaned_data["provider"],
            "model": form.cleaned_data["model"],
            "service_tier": form.cleaned_data["service_tier"],
            "occurred_on": form.cleaned_data["occurred_on"],
            "usage": form.usage(),
            "tool_calls": form.tools(),
        }
        list_price = list_price_book().estimate(**arguments)
        org_price = price_book_for(organization=request.organization).estimate(**arguments)
        results = {
            "list": list_price,
            "org": org_price,
            "sources": [(source, list_price.cost_nano[source], org_price.cost_nano[source]) for source in COST_SOURCES],
        }
    return render(request, "pricing/estimate.html", {"form": form, "results": results})
