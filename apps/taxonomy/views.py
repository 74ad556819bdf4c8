"""Tagging pages: dimensions, their values and aliases. Everyone in the organisation may look; changing the
taxonomy needs the catalog permission. The tagging-health page counts usage, so it is usage's
(``apps.usage.views.tagging_health``)."""

import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error
from apps.core.tables import Column, Table
from apps.core.views import set_active_view
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from . import services
from .forms import TagAliasForm, TagDimensionForm, TagValueForm
from .models import TagAlias, TagDimension, TagValue
from .selectors import dimensions_with_counts, values_of_dimension

PAGE_SIZE = 50


def _active(row) -> str:
    return "active" if row.is_active else "inactive"


DIMENSIONS_TABLE = Table(
    "tag-dimensions",
    (
        Column("key", "Key", value="key", order="key"),
        Column("label", "Label", value="label", order="label"),
        Column("required", "Required", value=lambda d: "required" if d.required else "optional", order="required"),
        Column("case", "Case", value="case_rule", order="case_rule"),
        Column("values", "Values", value="value_count", order="value_count", css="num"),
        Column("inactive_values", "Inactive values", value="inactive_value_count", in_page=False),
        Column("aliases", "Aliases", value="alias_count", order="alias_count", css="num"),
        Column("status", "Status", value=_active, order="is_active"),
    ),
)

VALUES_TABLE = Table(
    "tag-values",
    (
        Column("value", "Value", value="value", order="value"),
        Column("description", "Description", value="description", in_page=False),
        Column("aliases", "Other spellings", value=lambda v: ", ".join(a.alias for a in v.aliases.all())),
        Column("owner", "Cost centre", value="owner.code", order="owner__code"),
        Column("owner_name", "Cost centre name", value="owner.name", in_page=False),
        Column("status", "Status", value=_active, order="is_active"),
    ),
)


@org_perm_required(Perm.VIEW_ORG)
def dimension_list(request, org_slug: str):
    table = DIMENSIONS_TABLE.bind(request)
    dimensions = table.sort(dimensions_with_counts(organization=request.organization))
    if response := table.export(dimensions):
        return response
    return render(
        request,
        "taxonomy/dimension_list.html",
        {
            "page": Paginator(dimensions, PAGE_SIZE).get_page(request.GET.get("page")),
            "query": table.query,
            "table": table,
        },
    )


@org_perm_required(Perm.VIEW_ORG)
def dimension_detail(request, org_slug: str, pk: int):
    dimension = get_object_or_404(TagDimension, pk=pk)
    values = values_of_dimension(dimension=dimension)
    search = request.GET.get("q", "").strip()
    if search:
        values = values.filter(value__icontains=search)
    table = VALUES_TABLE.bind(request)
    values = table.sort(values)
    if response := table.export(values):
        return response
    return render(
        request,
        "taxonomy/dimension_detail.html",
        {
            "dimension": dimension,
            "page": Paginator(values, PAGE_SIZE).get_page(request.GET.get("page")),
            "search": search,
            "query": table.query,
            "table": table,
        },
    )


def _dimension_data(form: TagDimensionForm) -> dict:
    data = {name: form.cleaned_data[name] for name in ("label", "description", "required", "case_rule", "position")}
    return data


@org_perm_required(Perm.MANAGE_CATALOG)
def dimension_create(request, org_slug: str):
    form = TagDimensionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dimension = services.tag_dimension_create(
                organization=request.organization,
                actor=request.user,
                key=form.cleaned_data["key"],
                **_dimension_data(form),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Dimension {dimension.key} created.")
            return redirect("taxonomy:dimension_detail", org_slug=org_slug, pk=dimension.pk)
    return render(request, "taxonomy/dimension_form.html", {"form": form, "dimension": None})


@org_perm_required(Perm.MANAGE_CATALOG)
def dimension_edit(request, org_slug: str, pk: int):
    dimension = get_object_or_404(TagDimension, pk=pk)
    form = TagDimensionForm(request.POST or None, dimension=dimension, initial=TagDimensionForm.initial_for(dimension))
    if request.method == "POST" and form.is_valid():
        try:
            services.tag_dimension_update(dimension=dimension, actor=request.user, data=_dimension_data(form))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Dimension {dimension.key} saved.")
            return redirect("taxonomy:dimension_detail", org_slug=org_slug, pk=dimension.pk)
    return render(request, "taxonomy/dimension_form.html", {"form": form, "dimension": dimension})


def _set_dimension_active(request, org_slug: str, pk: int, *, active: bool):
    dimension = get_object_or_404(TagDimension, pk=pk)
    return set_active_view(
        request,
        set_active=functools.partial(services.tag_dimension_set_active, dimension=dimension),
        active=active,
        done=f"{dimension.key} is now {'active' if active else 'inactive'}.",
        to="taxonomy:dimension_detail",
        org_slug=org_slug,
        pk=dimension.pk,
    )


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def dimension_deactivate(request, org_slug: str, pk: int):
    return _set_dimension_active(request, org_slug, pk, active=False)


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def dimension_reactivate(request, org_slug: str, pk: int):
    return _set_dimension_active(request, org_slug, pk, active=True)


def _value_data(form: TagValueForm) -> dict:
    return {name: form.cleaned_data[name] for name in ("value", "description", "owner", "aliases")}


@org_perm_required(Perm.MANAGE_CATALOG)
def value_create(request, org_slug: str, pk: int):
    dimension = get_object_or_404(TagDimension, pk=pk)
    form = TagValueForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            tag_value = services.tag_value_create(
                organization=request.organization, actor=request.user, dimension=dimension, **_value_data(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"{dimension.key}={tag_value.value} added.")
            return redirect("taxonomy:dimension_detail", org_slug=org_slug, pk=dimension.pk)
    return render(request, "taxonomy/value_form.html", {"form": form, "dimension": dimension, "tag_value": None})


def _value_or_404(pk: int, value_pk: int) -> TagValue:
    return get_object_or_404(TagValue.objects.select_related("dimension", "owner"), pk=value_pk, dimension_id=pk)


@org_perm_required(Perm.MANAGE_CATALOG)
def value_edit(request, org_slug: str, pk: int, value_pk: int):
    tag_value = _value_or_404(pk, value_pk)
    form = TagValueForm(
        request.POST or None,
        organization=request.organization,
        tag_value=tag_value,
        initial=TagValueForm.initial_for(tag_value),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.tag_value_update(tag_value=tag_value, actor=request.user, data=_value_data(form))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"{tag_value.dimension.key}={tag_value.value} saved.")
            return redirect("taxonomy:dimension_detail", org_slug=org_slug, pk=pk)
    return render(
        request,
        "taxonomy/value_form.html",
        {"form": form, "dimension": tag_value.dimension, "tag_value": tag_value},
    )


def _set_value_active(request, org_slug: str, pk: int, value_pk: int, *, active: bool):
    tag_value = _value_or_404(pk, value_pk)
    return set_active_view(
        request,
        set_active=functools.partial(services.tag_value_set_active, tag_value=tag_value),
        active=active,
        done=f"{tag_value.dimension.key}={tag_value.value} is now {'active' if active else 'inactive'}.",
        to="taxonomy:dimension_detail",
        org_slug=org_slug,
        pk=pk,
    )


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def value_deactivate(request, org_slug: str, pk: int, value_pk: int):
    return _set_value_active(request, org_slug, pk, value_pk, active=False)


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def value_reactivate(request, org_slug: str, pk: int, value_pk: int):
    return _set_value_active(request, org_slug, pk, value_pk, active=True)


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def alias_add(request, org_slug: str, pk: int, value_pk: int):
    tag_value = _value_or_404(pk, value_pk)
    form = TagAliasForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the other spelling to add, e.g. prod.")
    else:
        try:
            alias = services.tag_alias_add(tag_value=tag_value, actor=request.user, alias=form.cleaned_data["alias"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"“{alias.alias}” now means {tag_value.dimension.key}={tag_value.value}.")
    return redirect("taxonomy:dimension_detail", org_slug=org_slug, pk=pk)


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def alias_remove(request, org_slug: str, pk: int, value_pk: int, alias_pk: int):
    alias = get_object_or_404(TagAlias.objects.select_related("value"), pk=alias_pk, value_id=value_pk, dimension_id=pk)
    services.tag_alias_remove(alias=alias, actor=request.user)
    messages.success(request, f"“{alias.alias}” no longer means {alias.value.value}.")
    return redirect("taxonomy:dimension_detail", org_slug=org_slug, pk=pk)
