from django import forms
from django.utils import timezone

from .constants import SERVICE_TIERS
from .models import AiModel, OrgModel, PriceUnit, Provider, ServiceTier

_DATE = {"widget": forms.DateInput(attrs={"type": "date"})}


class PriceBookFilterForm(forms.Form):
    provider = forms.ChoiceField(required=False)
    model = forms.CharField(required=False, max_length=100, help_text="Part of a model code, e.g. sonnet.")
    tier = forms.ChoiceField(required=False, choices=[("", "All tiers"), *ServiceTier.choices])
    on = forms.DateField(required=False, label="In force on", **_DATE)
    retired = forms.BooleanField(required=False, label="Include retired models")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [("", "All providers"), *Provider.objects.values_list("code", "name")]


class PriceOverrideForm(forms.Form):
    provider = forms.ModelChoiceField(queryset=Provider.objects.order_by("code"), to_field_name="code")
    model = forms.ModelChoiceField(
        queryset=AiModel.objects.select_related("provider").order_by("provider__code", "code"),
        required=False,
        empty_label="(every model of the provider)",
    )
    org_model = forms.ModelChoiceField(
        queryset=OrgModel.objects.none(),
        required=False,
        label="Or one of our model names",
        empty_label="—",
        help_text="A deployment or fine-tune name of yours that maps to no list model (priced only by overrides).",
    )
    usage_type = forms.CharField(
        required=False,
        max_length=40,
        help_text="input, output, cache_read, cache_write_5m, cache_write_1h or a tool such as web_search; "
        "empty for all usage types (discounts only).",
    )
    service_tier = forms.ChoiceField(required=False, choices=[("", "(every tier)"), *ServiceTier.choices])
    price = forms.DecimalField(
        required=False, max_digits=20, decimal_places=10, help_text="A negotiated price, e.g. 2.25, or leave empty."
    )
    unit = forms.ChoiceField(required=False, choices=[("", "—"), *PriceUnit.choices])
    currency = forms.CharField(
        required=False, max_length=3, help_text="The negotiated price's currency, e.g. EUR (default USD)."
    )
    discount_pct = forms.DecimalField(
        required=False, max_digits=5, decimal_places=2, label="Discount %", help_text="Or a discount off list, e.g. 8."
    )
    effective_from = forms.DateField(**_DATE)
    effective_to = forms.DateField(required=False, help_text="Exclusive: the first day it no longer applies.", **_DATE)
    note = forms.CharField(required=False, max_length=500, help_text="e.g. the contract reference.")

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].label_from_instance = lambda m: f"{m.provider.code} / {m.code}"
        if organization is not None:
            self.fields["org_model"].queryset = OrgModel.objects.filter(
                organization=organization, maps_to__isnull=True
            ).select_related("provider")
        self.fields["org_model"].label_from_instance = lambda m: f"{m.provider.code} / {m.name}"

    @staticmethod
    def initial_for(override) -> dict:
        return {
            "provider": override.provider.code,
            "model": override.model_id,
            "org_model": override.org_model_id,
            "currency": override.currency,
            "usage_type": override.usage_type,
            "service_tier": override.service_tier,
            "price": override.price,
            "unit": override.unit,
            "discount_pct": override.discount_pct,
            "effective_from": override.effective_from,
            "effective_to": override.effective_to,
            "note": override.note,
        }


class OrgModelForm(forms.Form):
    provider = forms.ModelChoiceField(queryset=Provider.objects.order_by("code"), to_field_name="code")
    name = forms.CharField(
        max_length=200, help_text="Exactly as usage reports it, e.g. globex-gpt4o-prod or ft:gpt-4o-mini:globex::x1."
    )
    maps_to = forms.ModelChoiceField(
        queryset=AiModel.objects.select_related("provider").order_by("provider__code", "code"),
        required=False,
        label="Priced as",
        empty_label="(no list model: only our negotiated prices for this name)",
    )
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["maps_to"].label_from_instance = lambda m: f"{m.provider.code} / {m.code}"

    @staticmethod
    def initial_for(org_model) -> dict:
        return {
            "provider": org_model.provider.code,
            "name": org_model.name,
            "maps_to": org_model.maps_to_id,
            "note": org_model.note,
        }


class EstimateForm(forms.Form):
    provider = forms.ChoiceField()
    model = forms.CharField(max_length=200, help_text="As your gateway reports it, e.g. claude-sonnet-4-5-20250929.")
    service_tier = forms.ChoiceField(choices=[(t, t) for t in SERVICE_TIERS], initial="standard")
    occurred_on = forms.DateField(label="Date", **_DATE)
    input_tokens = forms.IntegerField(min_value=0, initial=0, help_text="Uncached input tokens.")
    output_tokens = forms.IntegerField(min_value=0, initial=0)
    cache_read_tokens = forms.IntegerField(min_value=0, initial=0)
    cache_write_5m_tokens = forms.IntegerField(min_value=0, initial=0, label="Cache write (5 min) tokens")
    cache_write_1h_tokens = forms.IntegerField(min_value=0, initial=0, label="Cache write (1 hour) tokens")
    tool = forms.CharField(required=False, max_length=40, initial="web_search", label="Tool")
    tool_calls = forms.IntegerField(min_value=0, initial=0, required=False, label="Tool calls")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = list(Provider.objects.values_list("code", "name"))
        self.fields["occurred_on"].initial = timezone.localdate()

    def usage(self) -> dict[str, int]:
        keys = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")
        return {key: self.cleaned_data[key] or 0 for key in keys}

    def tools(self) -> dict[str, int]:
        tool = (self.cleaned_data.get("tool") or "").strip().lower()
        calls = self.cleaned_data.get("tool_calls") or 0
        return {tool: calls} if tool and calls else {}
