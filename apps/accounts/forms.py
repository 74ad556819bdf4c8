from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.tenancy.models import Organization
from apps.tenancy.roles import HUMAN_ONLY_MESSAGE, TOKEN_ROLES, Role, TokenScope

User = get_user_model()


class ApiClientForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which system uses it, e.g. 'NetSuite connector'.")
    role = forms.ChoiceField(
        choices=[(role, Role(role).label) for role in TOKEN_ROLES],
        initial=Role.VIEWER,
        help_text="The token acts as itself with this role, never as you. A finance analyst's token may prepare "
        "periods (with the periods:write scope); a viewer's only reads. " + HUMAN_ONLY_MESSAGE,
    )
    scopes = forms.MultipleChoiceField(choices=TokenScope.choices, widget=forms.CheckboxSelectMultiple)
    expires_at = forms.DateTimeField(
        label="Expires",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="At most a year from now.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("expires_at", (timezone.now() + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M"))


class OrganizationSettingsForm(forms.ModelForm):
    reason = forms.CharField(required=False, max_length=500, help_text="Optional: recorded in the history.")

    class Meta:
        model = Organization
        fields = [
            "name",
            "base_currency",
            "variance_tolerance_pct",
            "period_start_day",
            "require_second_factor",
            "usage_retention_months",
            "fx_policy",
            "fx_source",
            "dispute_response_days",
            "dispute_window_business_days",
        ]
        labels = {
            "fx_policy": "Exchange-rate policy",
            "fx_source": "Exchange rates from",
            "usage_retention_months": "Keep raw usage rows for (months)",
            "require_second_factor": "Require a second factor of every member",
            "variance_tolerance_pct": "Variance tolerance (%)",
            "period_start_day": "Billing periods start on day",
            "dispute_response_days": "Days to answer a dispute",
            "dispute_window_business_days": "Business days to dispute a statement",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out of a post (an older form, a script): the stored choice stays.
        for name in ("fx_policy", "fx_source", "dispute_response_days", "dispute_window_business_days"):
            self.fields[name].required = False

    def clean_fx_policy(self):
        return self.cleaned_data.get("fx_policy") or self.instance.fx_policy

    def clean_fx_source(self):
        return self.cleaned_data.get("fx_source") or self.instance.fx_source

    def clean_dispute_response_days(self):
        value = self.cleaned_data.get("dispute_response_days")
        return self.instance.dispute_response_days if value is None else value

    def clean_dispute_window_business_days(self):
        value = self.cleaned_data.get("dispute_window_business_days")
        return self.instance.dispute_window_business_days if value is None else value


class MembershipAddForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="An existing user's username or e-mail address.")
    role = forms.ChoiceField(choices=Role.choices)

    def clean_username(self):
        value = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=value).first() or User.objects.filter(email__iexact=value).first()
        if user is None or not user.is_active:
            raise forms.ValidationError(f"No active user called {value!r}.")
        return user


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ModeSwitchForm(forms.Form):
    mode = forms.ChoiceField(choices=Organization.Mode.choices)
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the organisation is ready (or no longer ready) for chargeback.",
    )
