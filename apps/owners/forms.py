from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from apps.tenancy.models import Organization

from .models import BudgetOwner, BudgetThreshold
from .selectors import budget_owner_candidates, owner_subtree_ids


class BudgetOwnerForm(forms.Form):
    code = forms.CharField(max_length=40, help_text="Unique in the organisation, e.g. CC-1101.")
    name = forms.CharField(max_length=200)
    parent = forms.ModelChoiceField(
        queryset=BudgetOwner.objects.none(),
        required=False,
        empty_label="(none: a top-level division)",
        help_text="Division → department → team.",
    )
    owner_users = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Owners",
        help_text="Members with the Budget owner role; they see this cost centre and everything below it.",
    )
    gl_account = forms.CharField(label="GL account", max_length=40, required=False)
    department = forms.CharField(max_length=80, required=False)
    company_code = forms.CharField(label="Company code / subsidiary", max_length=40, required=False)
    erp_class = forms.CharField(label="Class", max_length=80, required=False)
    location = forms.CharField(max_length=80, required=False)
    is_central = forms.BooleanField(
        label="Central / platform cost centre",
        required=False,
        help_text="May receive shared cost and the invoice true-up.",
    )

    def __init__(self, *args, organization: Organization, owner: BudgetOwner | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = BudgetOwner.objects.filter(organization=organization)
        if owner is None:
            parents = parents.filter(is_active=True)
        else:
            # Offer no parent that would make a loop; keep the current parent even if it is inactive.
            below = owner_subtree_ids(organization=organization, root_ids=[owner.pk])
            parents = parents.filter(Q(is_active=True) | Q(pk=owner.parent_id)).exclude(pk__in=below)
        self.fields["parent"].queryset = parents.order_by("code")
        self.fields["owner_users"].queryset = budget_owner_candidates(organization=organization)
        self.fields["owner_users"].label_from_instance = lambda u: f"{u.get_full_name() or u.username} ({u.username})"

    @staticmethod
    def initial_for(owner: BudgetOwner) -> dict:
        return {
            "code": owner.code,
            "name": owner.name,
            "parent": owner.parent_id,
            "owner_users": list(owner.owner_users.values_list("pk", flat=True)),
            "gl_account": owner.gl_account,
            "department": owner.department,
            "company_code": owner.company_code,
            "erp_class": owner.erp_class,
            "location": owner.location,
            "is_central": owner.is_central,
        }


class BudgetForm(forms.Form):
    period = forms.DateField(
        label="Month",
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month", "placeholder": "YYYY-MM"}, format="%Y-%m"),
        help_text="The budgeted calendar month, e.g. 2026-10.",
    )
    amount = forms.DecimalField(help_text="For the whole month, e.g. 12500.00.")
    currency = forms.CharField(
        max_length=3,
        help_text="The organisation's base currency (three-letter ISO code): budgets in another are refused.",
    )

    def __init__(self, *args, period_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if period_locked:
            self.fields["period"].disabled = True
            self.fields["period"].help_text = "To budget another month, add a budget for it."


class BudgetThresholdForm(forms.Form):
    pct = forms.DecimalField(
        label="Percent of budget",
        max_digits=7,
        decimal_places=2,
        help_text="Alert when the month's spend reaches this share of its budget, e.g. 80 or 100.",
    )
    basis = forms.ChoiceField(
        label="On",
        choices=BudgetThreshold.Basis.choices,
        help_text="Actual: the spend so far. Forecast: the month-to-date run-rate carried to the month's end.",
    )
