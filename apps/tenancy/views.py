from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error

from . import services
from .forms import MembershipAddForm, MembershipRoleForm, ModeSwitchForm, OrganizationSettingsForm
from .models import Membership
from .permissions import org_perm_required, require_org_perm
from .roles import ROLE_PERMS, Perm, Role
from .selectors import membership_list


@org_perm_required(Perm.MANAGE_SETTINGS)
def settings_edit(request, org_slug: str):
    organization = request.organization
    form = OrganizationSettingsForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(
                organization=organization,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                **{k: form.cleaned_data[k] for k in services.ORGANIZATION_SETTINGS_FIELDS},
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Settings saved.")
            return redirect("tenancy:settings", org_slug=org_slug)
    organization.refresh_from_db()
    return render(
        request,
        "tenancy/settings.html",
        {
            "form": form,
            "mode_form": ModeSwitchForm(initial={"mode": organization.mode}),
        },
    )


@require_POST
@org_perm_required(Perm.SWITCH_MODE)
def mode_switch(request, org_slug: str):
    form = ModeSwitchForm(request.POST)
    if form.is_valid():
        try:
            services.organization_mode_switch(
                organization=request.organization,
                actor=request.user,
                mode=form.cleaned_data["mode"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"The organisation is now in {form.cleaned_data['mode']} mode.")
    else:
        messages.error(request, "Choose a mode and give a reason.")
    # The readiness panel on the home page switches too, and comes back there.
    if request.POST.get("next") == "home":
        return redirect("portal:home", org_slug=org_slug)
    return redirect("tenancy:settings", org_slug=org_slug)


@org_perm_required(Perm.VIEW_ORG)
def members(request, org_slug: str):
    can_manage = request.membership.has_perm(Perm.MANAGE_MEMBERS)
    form = MembershipAddForm(request.POST or None)
    if request.method == "POST":
        require_org_perm(request, Perm.MANAGE_MEMBERS)
        if form.is_valid():
            try:
                services.membership_create(
                    organization=request.organization,
                    actor=request.user,
                    user=form.cleaned_data["username"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Member added.")
                return redirect("tenancy:members", org_slug=org_slug)
    return render(
        request,
        "tenancy/members.html",
        {
            "members": membership_list(organization=request.organization),
            "form": form,
            "can_manage": can_manage,
            "roles": [(role, role.label, sorted(Perm(p).label for p in ROLE_PERMS[role])) for role in Role],
        },
    )


@org_perm_required(Perm.MANAGE_MEMBERS)
def member_edit(request, org_slug: str, pk: int):
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
    form = MembershipRoleForm(request.POST or None, initial={"role": membership.role})
    if request.method == "POST":
        try:
            if request.POST.get("action") == "remove":
                services.membership_delete(membership=membership, actor=request.user)
                messages.success(request, f"{membership.user.username} was removed.")
                return redirect("tenancy:members", org_slug=org_slug)
            if form.is_valid():
                services.membership_change_role(
                    membership=membership, actor=request.user, role=form.cleaned_data["role"]
                )
                messages.success(request, f"{membership.user.username} is now {membership.get_role_display()}.")
                return redirect("tenancy:members", org_slug=org_slug)
        except ValidationError as exc:
            apply_validation_error(form, exc)
    return render(request, "tenancy/member_edit.html", {"membership": membership, "form": form})
