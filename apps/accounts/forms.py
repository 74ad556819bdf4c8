from datetime import timedelta

from django import forms
from django.utils import timezone

from apps.tenancy.roles import TokenScope


class ApiClientForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which system uses it, e.g. 'NetSuite connector'.")
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
