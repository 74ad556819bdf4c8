"""Form helpers every portal page uses; they know no domain."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from apps.core.calendar import PERIOD_PATTERN, parse_period


def apply_validation_error(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: field errors on their fields, the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class PeriodForm(forms.Form):
    """The month picker (``?period=YYYY-MM``) of the pages that show one period at a time."""

    period = forms.RegexField(
        regex=rf"^{PERIOD_PATTERN}$",
        required=False,
        help_text="YYYY-MM",
        error_messages={"invalid": "Use YYYY-MM, e.g. 2026-10."},
    )

    def period_date(self) -> date | None:
        if not self.is_valid() or not self.cleaned_data.get("period"):
            return None
        return parse_period(self.cleaned_data["period"])
