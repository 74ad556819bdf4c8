from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, Value, When
from django.db.models.functions import Now
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error
from apps.core.tables import Column, Table
from apps.tenancy.models import Membership
from apps.tenancy.permissions import org_perm_required, require_org_perm
from apps.tenancy.roles import HUMAN_ONLY_MESSAGE, ROLE_PERMS, Perm, Role
from apps.tenancy.selectors import membership_list

from . import services
from .forms import ApiClientForm, MembershipAddForm, MembershipRoleForm, ModeSwitchForm, OrganizationSettingsForm
from .models import ApiClient

API_CLIENTS_TABLE = Table(
    "api-clients",
    (
        Column("name", "Name", value="name", order="name"),
        Column("key", "Key", value="key_prefix", order="key_prefix"),
        Column("role", "Role", value="get_role_display", order="role"),
        Column("scopes", "Scopes", value=lambda c: ", ".join(c.scopes)),
        Column(
            "status",
            "Status",
            value="status",
            order=Case(
                When(revoked_at__isnull=False, then=Value("revoked")),
                When(expires_at__lte=Now(), then=Value("expired")),
                default=Value("active"),
            ),
        ),
        Column("expires", "Expires (UTC)", value="expires_at", order="expires_at"),
        Column("last_used", "Last used (UTC)", value="last_used_at", order="last_used_at"),
        Column("created_by", "Created by", value="created_by.username", order="created_by__username"),
    ),
)


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
    table = API_CLIENTS_TABLE.bind(request)
    clients = table.sort(ApiClient.objects.select_related("created_by").order_by("-created_at"))
    if response := table.export(clients):
        return response
    return render(
        request,
        "accounts/api_clients.html",
        {
            "clients": clients,
            "form": form,
            "new_token": new_token,
            "table": table,
            "human_only_message": HUMAN_ONLY_MESSAGE,
        },
    )


@require_POST
@org_perm_required(Perm.MANAGE_API_CLIENTS)
def api_client_revoke(request, org_slug: str, pk: int):
    client = get_object_or_404(ApiClient, pk=pk)
    services.api_client_revoke(client=client, actor=request.user)
    messages.success(request, f"API client '{client.name}' revoked. Its token no longer works.")
    return redirect("accounts:api_clients", org_slug=org_slug)


# Organisation settings and members


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
            return redirect("accounts:settings", org_slug=org_slug)
    organization.refresh_from_db()
    return render(
        request,
        "accounts/settings.html",
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
    return redirect("accounts:settings", org_slug=org_slug)


def _user_text(user) -> str:
    """As the list shows a user: the full name and the username, or the username alone."""
    full_name = user.get_full_name()
    return f"{full_name} ({user.username})" if full_name else user.username


MEMBERS_TABLE = Table(
    "members",
    (
        Column("user", "User", value=lambda m: _user_text(m.user), order="user__username"),
        Column("email", "E-mail", value="user.email", order="user__email"),
        Column("role", "Role", value="get_role_display", order="role"),
        Column("since", "Since", value=lambda m: timezone.localdate(m.created_at), order="created_at"),
    ),
)


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
                return redirect("accounts:members", org_slug=org_slug)
    table = MEMBERS_TABLE.bind(request)
    rows = table.sort(membership_list(organization=request.organization))
    if response := table.export(rows):
        return response
    return render(
        request,
        "accounts/members.html",
        {
            "table": table,
            "members": rows,
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
                return redirect("accounts:members", org_slug=org_slug)
            if form.is_valid():
                services.membership_change_role(
                    membership=membership, actor=request.user, role=form.cleaned_data["role"]
                )
                messages.success(request, f"{membership.user.username} is now {membership.get_role_display()}.")
                return redirect("accounts:members", org_slug=org_slug)
        except ValidationError as exc:
            apply_validation_error(form, exc)
    return render(request, "accounts/member_edit.html", {"membership": membership, "form": form})
