from datetime import date

from django import forms

STATUS_CHOICES = [
    ("", "any"),
    ("current", "current version"),
    ("superseded", "superseded"),
    ("draft", "draft (in review)"),
    ("final", "final"),
]


class StatementFilterForm(forms.Form):
    period = forms.RegexField(
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        help_text="YYYY-MM",
        error_messages={"invalid": "Use YYYY-MM, e.g. 2026-10."},
    )
    owner = forms.CharField(required=False, max_length=40, label="Cost centre")
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)

    def filters(self) -> dict:
        if not self.is_valid():
            return {"period": None, "owner_code": "", "status": ""}
        data = self.cleaned_data
        period = None
        if data.get("period"):
            year, month = (int(part) for part in data["period"].split("-"))
            period = date(year, month, 1)
        return {"period": period, "owner_code": data.get("owner", "").strip(), "status": data.get("status", "")}
