"""Cost-centre pages. Finance and viewers see every cost centre; a budget owner sees only their
subtree (``visible_owner_ids``), and anything outside it is a 404, not a 403."""

import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error
from apps.core.views import set_active_view
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from . import services
from .forms import BudgetForm, BudgetOwnerForm, BudgetThresholdForm
from .models import Budget, BudgetOwner, BudgetThreshold
from .selectors import budgets_for_owner, owner_ancestors, owner_tree, owners_visible, visible_owner_ids

PAGE_SIZE = 50


def _visible_owner_or_404(request, pk: int) -> BudgetOwner:
    visible = owners_visible(
        organization=request.organization, visible_ids=visible_owner_ids(membership=request.membership)
    )
    return get_object_or_404(visible.select_related("parent"), pk=pk)


@org_perm_required(Perm.VIEW_ORG)
def owner_list(request, org_slug: str):
    rows = owner_tree(organization=request.organization, visible_ids=visible_owner_ids(membership=request.membership))
    return render(
        request,
        "owners/owner_list.html",
        {"page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")), "query": ""},
    )


@org_perm_required(Perm.VIEW_ORG)
def owner_detail(request, org_slug: str, pk: int):
    owner = _visible_owner_or_404(request, pk)
    visible_ids = visible_owner_ids(membership=request.membership)
    ancestors = [a for a in owner_ancestors(owner=owner) if visible_ids is None or a.pk in visible_ids]
    budgets = Paginator(budgets_for_owner(owner=owner), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "owners/owner_detail.html",
        {
            "owner": owner,
            "ancestors": ancestors,
            "children": owner.children.order_by("code"),
            "owner_users": owner.owner_users.order_by("username"),
            "page": budgets,
            "query": "",
            "thresholds": owner.thresholds.order_by("-is_active", "basis", "pct"),
        },
    )


def _owner_data(form: BudgetOwnerForm) -> dict:
    return {field: form.cleaned_data[field] for field in BudgetOwnerForm.base_fields}


@org_perm_required(Perm.MANAGE_CATALOG)
def owner_create(request, org_slug: str):
    initial = {"parent": request.GET.get("parent")} if request.GET.get("parent", "").isdigit() else {}
    form = BudgetOwnerForm(request.POST or None, organization=request.organization, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            owner = services.budget_owner_create(
                organization=request.organization, actor=request.user, **_owner_data(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Cost centre {owner.code} created.")
            return redirect("owners:detail", org_slug=org_slug, pk=owner.pk)
    return render(request, "owners/owner_form.html", {"form": form, "owner": None})


@org_perm_required(Perm.MANAGE_CATALOG)
def owner_edit(request, org_slug: str, pk: int):
    owner = get_object_or_404(BudgetOwner, pk=pk)
    form = BudgetOwnerForm(
        request.POST or None,
        organization=request.organization,
        owner=owner,
        initial=BudgetOwnerForm.initial_for(owner),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.budget_owner_update(owner=owner, actor=request.user, data=_owner_data(form))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Cost centre {owner.code} saved.")
            return redirect("owners:detail", org_slug=org_slug, pk=owner.pk)
    return render(request, "owners/owner_form.html", {"form": form, "owner": owner})


def _set_active(request, org_slug: str, pk: int, *, active: bool):
    owner = get_object_or_404(BudgetOwner, pk=pk)
    return set_active_view(
        request,
        set_active=functools.partial(services.budget_owner_set_active, owner=owner),
        active=active,
        done=f"{owner.code} is now {'active' if active else 'inactive'}.",
        to="owners:detail",
        org_slug=org_slug,
        pk=owner.pk,
    )


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def owner_deactivate(request, org_slug: str, pk: int):
    return _set_active(request, org_slug, pk, active=False)


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def owner_reactivate(request, org_slug: str, pk: int):
    return _set_active(request, org_slug, pk, active=True)


def _budget_form_page(request, org_slug: str, owner: BudgetOwner, budget: Budget | None):
    if budget is None:
        initial = {"currency": request.organization.base_currency}
    else:
        initial = {"period": budget.period, "amount": budget.amount, "currency": budget.currency}
    form = BudgetForm(request.POST or None, initial=initial, period_locked=budget is not None)
    if request.method == "POST" and form.is_valid():
        try:
            saved, created = services.budget_set(
                organization=request.organization,
                actor=request.user,
                owner=owner,
                period=form.cleaned_data["period"],
                amount=form.cleaned_data["amount"],
                currency=form.cleaned_data["currency"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            verb = "set" if created else "updated"
            messages.success(
                request, f"Budget for {owner.code} in {saved.period:%Y-%m} {verb}: {saved.amount} {saved.currency}."
            )
            return redirect("owners:detail", org_slug=org_slug, pk=owner.pk)
    return render(request, "owners/budget_form.html", {"form": form, "owner": owner, "budget": budget})


@org_perm_required(Perm.MANAGE_CATALOG)
def budget_create(request, org_slug: str, pk: int):
    owner = get_object_or_404(BudgetOwner, pk=pk)
    return _budget_form_page(request, org_slug, owner, None)


@org_perm_required(Perm.MANAGE_CATALOG)
def budget_edit(request, org_slug: str, pk: int, budget_pk: int):
    budget = get_object_or_404(Budget.objects.select_related("owner"), pk=budget_pk, owner_id=pk)
    return _budget_form_page(request, org_slug, budget.owner, budget)


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def budget_delete(request, org_slug: str, pk: int, budget_pk: int):
    budget = get_object_or_404(Budget.objects.select_related("owner"), pk=budget_pk, owner_id=pk)
    label = f"{budget.owner.code} in {budget.period:%Y-%m}"
    services.budget_delete(budget=budget, actor=request.user)
    messages.success(request, f"Budget for {label} deleted.")
    return redirect("owners:detail", org_slug=org_slug, pk=pk)


def _threshold_form_page(request, org_slug: str, owner: BudgetOwner, threshold: BudgetThreshold | None):
    initial = (
        {"basis": BudgetThreshold.Basis.ACTUAL}
        if threshold is None
        else {"pct": threshold.pct, "basis": threshold.basis}
    )
    form = BudgetThresholdForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if threshold is None:
                saved = services.budget_threshold_create(
                    organization=request.organization, actor=request.user, owner=owner, **form.cleaned_data
                )
            else:
                saved = services.budget_threshold_update(
                    threshold=threshold, actor=request.user, data=form.cleaned_data
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Threshold for {owner.code} saved: {saved}.")
            return redirect("owners:detail", org_slug=org_slug, pk=owner.pk)
    return render(request, "owners/threshold_form.html", {"form": form, "owner": owner, "threshold": threshold})


def _threshold_or_404(pk: int, threshold_pk: int) -> BudgetThreshold:
    return get_object_or_404(BudgetThreshold.objects.select_related("owner"), pk=threshold_pk, owner_id=pk)


@org_perm_required(Perm.MANAGE_CATALOG)
def threshold_create(request, org_slug: str, pk: int):
    owner = get_object_or_404(BudgetOwner, pk=pk)
    return _threshold_form_page(request, org_slug, owner, None)


@org_perm_required(Perm.MANAGE_CATALOG)
def threshold_edit(request, org_slug: str, pk: int, threshold_pk: int):
    threshold = _threshold_or_404(pk, threshold_pk)
    return _threshold_form_page(request, org_slug, threshold.owner, threshold)


def _threshold_set_active(request, org_slug: str, pk: int, threshold_pk: int, *, active: bool):
    threshold = _threshold_or_404(pk, threshold_pk)
    return set_active_view(
        request,
        set_active=functools.partial(services.budget_threshold_set_active, threshold=threshold),
        active=active,
        done=f"The {threshold.pct}% threshold of {threshold.owner.code} is now {'active' if active else 'inactive'}.",
        to="owners:detail",
        org_slug=org_slug,
        pk=pk,
    )


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def threshold_deactivate(request, org_slug: str, pk: int, threshold_pk: int):
    return _threshold_set_active(request, org_slug, pk, threshold_pk, active=False)


@require_POST
@org_perm_required(Perm.MANAGE_CATALOG)
def threshold_reactivate(request, org_slug: str, pk: int, threshold_pk: int):
    return _threshold_set_active(request, org_slug, pk, threshold_pk, active=True)
