"""Billing periods in the admin: read-only rows, and the workflow as admin actions that call the same
service as the portal and the API, so every guard (maker-checker included) and the audit hold here too.
A staff user acts with their role in the period's organisation; being a superuser grants nothing."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from apps.audit.admin_kit import TenantAdmin

from .models import BillingPeriod, LateArrival
from .services import PeriodTransitionError, period_transition
from .workflow import TRANSITIONS


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=2000)


def _run(modeladmin, request, queryset, transition: str, reason: str = "") -> None:
    for billing_period in queryset.select_related("organization").order_by("organization_id", "period"):
        name = f"{billing_period.organization.slug} {billing_period.label}"
        try:
            period_transition(
                organization=billing_period.organization,
                period=billing_period.period,
                transition=transition,
                actor=request.user,
                reason=reason,
            )
        except PeriodTransitionError as exc:
            modeladmin.message_user(request, f"{name}: {' '.join(exc.messages)}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{name}: {TRANSITIONS[transition].label} done.")


def _action(name: str):
    def action(modeladmin, request, queryset):
        _run(modeladmin, request, queryset, name)

    action.__name__ = name
    return admin.action(description=f"{TRANSITIONS[name].label} (selected periods)")(action)


@admin.register(BillingPeriod)
class BillingPeriodAdmin(TenantAdmin):
    list_display = ["period", "organization", "state", "version", "prepared_by_label", "approved_by_label", "closed_at"]
    list_filter = ["state", "organization"]
    ordering = ["organization", "-period"]
    actions = [_action(name) for name in ("start_reconciliation", "submit_for_review", "approve", "close")] + ["reopen"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False  # a period is created by its first transition or allocation

    def has_change_permission(self, request, obj=None):
        return False  # the state moves through the actions only

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Reopen (selected periods), with a reason")
    def reopen(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            _run(self, request, queryset, "reopen", form.cleaned_data["reason"])
            return None
        return TemplateResponse(
            request,
            "admin/periods/billingperiod/reopen.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reopen billing periods",
                "opts": self.model._meta,
                "periods": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(LateArrival)
class LateArrivalAdmin(TenantAdmin):
    list_display = ["billing_period", "organization", "kind", "job_id", "rows", "state_at_arrival", "first_at"]
    list_filter = ["kind", "organization"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
