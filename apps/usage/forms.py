from calendar import monthrange
from datetime import date

from django import forms

from apps.core.uploads import check_upload_size
from apps.pricing.constants import COST_SOURCES
from apps.usage.parsers.base import SERVICE_TIERS
from apps.usage.services.ingest import FORMAT_CHOICES

from .models import SourceMapping
from .selectors import UsageFilter

TRISTATE = [("", "any"), ("yes", "yes"), ("no", "no")]
GROUP_BY = [
    ("team", "Team"),
    ("feature", "Feature"),
    ("customer", "Customer"),
    ("workspace", "Workspace"),
    ("environment", "Environment"),
    ("provider", "Provider"),
    ("model", "Model"),
    ("service_tier", "Service tier"),
    ("day", "Day"),
]


class UploadForm(forms.Form):
    file = forms.FileField(help_text="NDJSON, CSV, OpenAI/Anthropic usage export or LiteLLM spend logs; .gz is fine.")
    format = forms.ChoiceField(choices=[(f, f) for f in FORMAT_CHOICES], initial="auto")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem = check_upload_size(upload)
        if problem:
            raise forms.ValidationError(problem)
        return upload


class UsageFilterForm(forms.Form):
    month = forms.RegexField(
        regex=r"^\d{4}-\d{2}$", required=False, help_text="YYYY-MM", error_messages={"invalid": "Use YYYY-MM."}
    )
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    provider = forms.CharField(required=False)
    model = forms.CharField(required=False)
    service_tier = forms.ChoiceField(required=False, choices=[("", "any")] + [(t, t) for t in SERVICE_TIERS])
    cost_source = forms.ChoiceField(required=False, choices=[("", "all")] + [(c, c) for c in COST_SOURCES])
    retry = forms.ChoiceField(required=False, choices=TRISTATE)
    batch = forms.ChoiceField(required=False, choices=TRISTATE)
    group_by = forms.ChoiceField(required=False, choices=GROUP_BY, initial="team")

    def __init__(self, *args, dimensions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.dimension_keys = []
        for key in dimensions:
            self.fields[f"tag_{key}"] = forms.CharField(
                required=False, label=key, help_text="(missing) finds untagged usage"
            )
            self.dimension_keys.append(key)

    def clean(self):
        data = super().clean()
        month = data.get("month")
        if month:
            year, number = (int(part) for part in month.split("-"))
            if not 1 <= number <= 12:
                self.add_error("month", "Use a month from 01 to 12.")
            else:
                data["date_from"] = date(year, number, 1)
                data["date_to"] = date(year, number, monthrange(year, number)[1])
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def usage_filter(self) -> UsageFilter:
        data = self.cleaned_data if self.is_valid() else {}
        tri = {"yes": True, "no": False}
        return UsageFilter(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            provider=(data.get("provider") or "").strip().lower(),
            model=(data.get("model") or "").strip(),
            service_tier=data.get("service_tier") or "",
            cost_source=data.get("cost_source") or "",
            is_retry=tri.get(data.get("retry") or ""),
            is_batch=tri.get(data.get("batch") or ""),
            tags={k: data[f"tag_{k}"].strip() for k in self.dimension_keys if (data.get(f"tag_{k}") or "").strip()},
        )


class SourceMappingForm(forms.ModelForm):
    class Meta:
        model = SourceMapping
        fields = ["kind", "external_id", "tags", "note"]
        help_texts = {"tags": 'JSON object, e.g. {"team": "search", "workspace": "acme-prod"}'}

    def clean_tags(self):
        tags = self.cleaned_data["tags"]
        if not isinstance(tags, dict) or not tags or not all(isinstance(v, str) for v in tags.values()):
            raise forms.ValidationError('Give a JSON object of tag names to text values, e.g. {"team": "search"}.')
        return tags
