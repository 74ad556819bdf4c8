"""The exchange-rates settings page: the policy and source (org admins, through the audited organisation
update), what rates are loaded and where they are missing, and the upload of the organisation's own rates
(finance admins)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.services import organization_update
from apps.core.forms import apply_validation_error
from apps.core.tables import Column, Table
from apps.tenancy.permissions import org_any_perm_required, org_perm_required
from apps.tenancy.roles import Perm

from . import selectors
from .convert import FX_MAX_RATE_AGE_DAYS
from .forms import FxSettingsForm, OwnRatesUploadForm
from .own_file import OwnRatesError, read_own_rates
from .services import org_rates_load

OWN_RATES_SHOWN = 50

OWN_RATES_TABLE = Table(
    "own-exchange-rates",
    (
        Column("day", "Day", value="day", order="day"),
        Column("from", "From", value="from_currency", order="from_currency"),
        Column("to", "To", value="to_currency", order="to_currency"),
        Column("rate", "Rate", value=lambda r: r.rate.normalize(), order="rate_e10"),
        Column("source", "Source", value="source", order="source"),
        Column("by", "Loaded by", value="created_by_label", order="created_by_label"),
        Column("note", "Note", value="note", order="note"),
    ),
    note=f"The page shows the first {OWN_RATES_SHOWN} rates in this order; the download has all of them.",
)


def _page(request, *, settings_form=None, upload_form=None, status=200):
    organization = request.organization
    membership = request.membership
    table = OWN_RATES_TABLE.bind(request)
    own_rates = table.sort(selectors.own_rates_list(organization=organization))
    if response := table.export(own_rates):
        return response
    coverage = selectors.coverage(organization=organization)
    return render(
        request,
        "fx/exchange_rates.html",
        {
            "coverage": coverage,
            "settings_form": settings_form
            or FxSettingsForm(initial={"fx_policy": organization.fx_policy, "fx_source": organization.fx_source}),
            "upload_form": upload_form or OwnRatesUploadForm(),
            "can_manage_settings": membership.has_perm(Perm.MANAGE_SETTINGS),
            "can_load_rates": membership.has_perm(Perm.MANAGE_FX_RATES),
            "own_rates": own_rates[:OWN_RATES_SHOWN],
            "table": table,
            "loads": selectors.own_rate_loads(organization=organization)[:10],
            "max_age_days": FX_MAX_RATE_AGE_DAYS,
        },
        status=status,
    )


@org_any_perm_required(Perm.VIEW_ALL_COST, Perm.MANAGE_SETTINGS, what="exchange rates")
def exchange_rates(request, org_slug: str):
    return _page(request)


@require_POST
@org_perm_required(Perm.MANAGE_SETTINGS)
def exchange_rates_settings(request, org_slug: str):
    organization = request.organization
    form = FxSettingsForm(request.POST)
    if form.is_valid():
        try:
            organization_update(
                organization=organization,
                actor=request.user,
                name=organization.name,
                base_currency=organization.base_currency,
                variance_tolerance_pct=organization.variance_tolerance_pct,
                fx_policy=form.cleaned_data["fx_policy"],
                fx_source=form.cleaned_data["fx_source"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Exchange-rate settings saved.")
            return redirect("fx:exchange_rates", org_slug=org_slug)
    organization.refresh_from_db()
    return _page(request, settings_form=form, status=400)


@require_POST
@org_perm_required(Perm.MANAGE_FX_RATES)
def exchange_rates_upload(request, org_slug: str):
    form = OwnRatesUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        body = upload.read()
        try:
            rates = read_own_rates(body.decode("utf-8-sig"))
        except UnicodeDecodeError:
            form.add_error("file", "The file is not UTF-8 text.")
        except OwnRatesError as exc:
            for error in exc.errors:
                form.add_error("file", error)
        else:
            load = org_rates_load(
                organization=request.organization,
                rates=rates,
                actor=request.user,
                channel="upload",
                file_name=upload.name,
                body=body,
            )
            messages.success(
                request,
                f"Loaded {upload.name}: {load.created} created, {load.updated} updated, {load.unchanged} unchanged.",
            )
            return redirect("fx:exchange_rates", org_slug=org_slug)
    return _page(request, upload_form=form, status=400)
