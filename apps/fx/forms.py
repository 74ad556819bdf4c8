from django import forms

from apps.core.uploads import check_upload_size
from apps.tenancy.models import Organization


class FxSettingsForm(forms.Form):
    fx_policy = forms.ChoiceField(choices=Organization.FxPolicy.choices, label="Exchange-rate policy")
    fx_source = forms.ChoiceField(choices=Organization.FxSource.choices, label="Exchange rates from")
    reason = forms.CharField(required=False, max_length=500, help_text="Optional: recorded in the history.")


class OwnRatesUploadForm(forms.Form):
    file = forms.FileField(
        label="Rates file (CSV)",
        help_text="Columns day, from, to, rate (units of 'to' per one 'from'), optional source and note. "
        "Example row: 2026-11-02,USD,EUR,0.8712,Treasury EOD.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem = check_upload_size(upload)
        if problem:
            raise forms.ValidationError(problem)
        return upload
