from django import forms
from django.db.models import Q

from apps.owners.models import BudgetOwner
from apps.tenancy.models import Organization

from .models import CaseRule, Granularity, TagDimension, TagValue


class TagDimensionForm(forms.Form):
    key = forms.CharField(
        max_length=64,
        help_text="The tag name as it arrives in usage, e.g. team or cost_center. It cannot change later.",
    )
    label = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    required = forms.BooleanField(
        required=False, help_text="Every request should carry it; requests without it count as tagging gaps."
    )
    case_rule = forms.ChoiceField(
        choices=CaseRule.choices, initial=CaseRule.LOWER, help_text="How values are normalised before matching."
    )
    granularity = forms.ChoiceField(
        choices=Granularity.choices,
        initial=Granularity.CUBE,
        required=False,
        help_text="Use per-value totals for dimensions with thousands of values, such as customer.",
    )
    position = forms.IntegerField(min_value=0, required=False, help_text="Order in lists; empty puts it last.")

    def __init__(self, *args, dimension: TagDimension | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if dimension is not None:
            self.fields["key"].disabled = True
            self.fields["key"].help_text = "Usage already recorded uses this key, so it cannot change."

    def clean_granularity(self) -> str:
        return self.cleaned_data.get("granularity") or Granularity.CUBE

    @staticmethod
    def initial_for(dimension: TagDimension) -> dict:
        return {
            "key": dimension.key,
            "label": dimension.label,
            "description": dimension.description,
            "required": dimension.required,
            "case_rule": dimension.case_rule,
            "granularity": dimension.granularity,
            "position": dimension.position,
        }


class TagValueForm(forms.Form):
    value = forms.CharField(max_length=200, help_text="The canonical spelling; the dimension's case rule applies.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    owner = forms.ModelChoiceField(
        queryset=BudgetOwner.objects.none(),
        required=False,
        label="Cost centre",
        empty_label="(none)",
        help_text="The cost centre this value belongs to; tag-map allocation charges it.",
    )
    aliases = forms.CharField(
        required=False,
        label="Other spellings",
        help_text="Comma-separated, e.g. prod, prd. Matched ignoring case and spacing.",
    )

    def __init__(self, *args, organization: Organization, tag_value: TagValue | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        owners = BudgetOwner.objects.filter(organization=organization)
        current = tag_value.owner_id if tag_value is not None else None
        self.fields["owner"].queryset = owners.filter(Q(is_active=True) | Q(pk=current)).order_by("code")

    def clean_aliases(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data["aliases"].split(",") if part.strip()]

    @staticmethod
    def initial_for(tag_value: TagValue) -> dict:
        return {
            "value": tag_value.value,
            "description": tag_value.description,
            "owner": tag_value.owner_id,
            "aliases": ", ".join(tag_value.aliases.order_by("alias").values_list("alias", flat=True)),
        }


class TagAliasForm(forms.Form):
    alias = forms.CharField(max_length=200, label="Other spelling")
