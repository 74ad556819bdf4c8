"""The dashboard's pickers: a range, a grain, a breakdown and filters, every one a <select> of real values."""

from datetime import date

from django import forms

from apps.core.calendar import month_after, month_before, parse_period

from .dashboard import BREAKDOWNS, DashboardQuery, month_end, months_back

RANGES = [
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("last_3", "Last 3 months"),
    ("last_6", "Last 6 months"),
    ("last_13", "Last 13 months"),
    ("custom", "Custom months"),
]
RANGE_MONTHS = {"this_month": 1, "last_3": 3, "last_6": 6, "last_13": 13}
GRAINS = [("day", "By day"), ("month", "By month")]
PICKABLE_MONTHS = 37  # the custom range offers this many months back from the anchor month


class DashboardForm(forms.Form):
    range = forms.ChoiceField(choices=RANGES, required=False, initial="this_month")
    from_month = forms.ChoiceField(required=False, label="From")
    to_month = forms.ChoiceField(required=False, label="To")
    grain = forms.ChoiceField(choices=GRAINS, required=False)
    by = forms.ChoiceField(choices=BREAKDOWNS, required=False, initial="team", label="Break down by")

    def __init__(self, data=None, *, anchor: date, options: dict[str, list[str]], labels: dict[str, str]):
        super().__init__(data)
        self.anchor = anchor  # the month "this month" means
        months = [months_back(anchor, offset) for offset in range(PICKABLE_MONTHS)]
        month_choices = [("", "—")] + [(m.strftime("%Y-%m"), m.strftime("%B %Y")) for m in months]
        self.fields["from_month"].choices = month_choices
        self.fields["to_month"].choices = month_choices
        self.filter_keys = []
        for key, values in options.items():
            self.fields[f"f_{key}"] = forms.ChoiceField(
                required=False, label=labels.get(key, key), choices=[("", "all")] + [(v, v) for v in values]
            )
            self.filter_keys.append(key)

    def clean(self):
        data = super().clean()
        if data.get("range") == "custom":
            if not data.get("from_month") or not data.get("to_month"):
                self.add_error("from_month", "Choose the first and the last month of the range.")
            elif data["from_month"] > data["to_month"]:
                self.add_error("to_month", "The last month is before the first.")
        return data

    def query(self) -> DashboardQuery:
        data = self.cleaned_data if self.is_valid() else {}
        chosen = data.get("range") or "this_month"
        if chosen == "custom":
            first_month, last_month = parse_period(data["from_month"]), parse_period(data["to_month"])
        elif chosen == "last_month":
            first_month = last_month = month_before(self.anchor)
        else:
            last_month = self.anchor
            first_month = months_back(self.anchor, RANGE_MONTHS[chosen] - 1)
        months = 0
        month = first_month
        while month <= last_month:
            months += 1
            month = month_after(month)
        grain = data.get("grain") or ("day" if months == 1 else "month")
        filters = {key: data[f"f_{key}"] for key in self.filter_keys if data.get(f"f_{key}")}
        return DashboardQuery(
            first=first_month, last=month_end(last_month), grain=grain, by=data.get("by") or "team", filters=filters
        )
