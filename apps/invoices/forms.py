from datetime import date

from django import forms

from apps.core.uploads import check_upload_size

from .models import CostView
from .parsers import FORMAT_CHOICES


class InvoiceUploadForm(forms.Form):
    file = forms.FileField(
        help_text="FOCUS CSV, OpenAI Costs pages, Anthropic cost report, AWS CUR 2.0 or the generic invoice CSV; "
        ".gz is fine."
    )
    format = forms.ChoiceField(choices=[(f, f) for f in FORMAT_CHOICES], initial="auto")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem = check_upload_size(upload)
        if problem:
            raise forms.ValidationError(problem)
        return upload


class InvoiceSettingsForm(forms.Form):
    focus_cost_view = forms.ChoiceField(
        label="FOCUS amount", choices=CostView.choices, help_text="Applies to FOCUS files ingested from now on."
    )


class InvoiceFilterForm(forms.Form):
    period = forms.RegexField(
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        help_text="YYYY-MM",
        error_messages={"invalid": "Use YYYY-MM, e.g. 2026-10."},
    )
    provider = forms.CharField(required=False)

    def period_date(self) -> date | None:
        if not self.is_valid() or not self.cleaned_data.get("period"):
            return None
        year, month = (int(part) for part in self.cleaned_data["period"].split("-"))
        return date(year, month, 1)

    def provider_code(self) -> str:
        return (self.cleaned_data.get("provider") or "").strip().lower() if self.is_valid() else ""


class LineFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False, choices=[("", "All lines"), ("ai", "AI only"), ("other", "Other cloud cost")]
    )
