from datetime import date

from django import forms


class PeriodForm(forms.Form):
    period = forms.RegexField(
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        help_text="YYYY-MM",
        error_messages={"invalid": "Use YYYY-MM, e.g. 2026-10."},
    )

    def period_date(self) -> date | None:
        if not self.is_valid() or not self.cleaned_data.get("period"):
            return None
        year, month = (int(part) for part in self.cleaned_data["period"].split("-"))
        return date(year, month, 1)
