from datetime import date
from decimal import Decimal

from django import forms

from .models import Dispute


class DisputeOpenForm(forms.Form):
    line = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # Made fresh for every empty form: the same form submitted twice (a double click, a resent POST) opens
    # one dispute.
    submission = forms.UUIDField(required=False, widget=forms.HiddenInput)
    amount = forms.DecimalField(
        max_digits=18, decimal_places=3, min_value=Decimal("0.001"), help_text="How much of the charge is wrong."
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=4000)
    evidence_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label="Evidence link",
        help_text="Optional: a ticket, log or document.",
    )


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, label="Comment")


class AcceptForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=18,
        decimal_places=3,
        min_value=Decimal("0.001"),
        label="Amount to credit",
        help_text="At most the amount disputed.",
    )
    recharge_owner = forms.ModelChoiceField(
        queryset=None,
        label="Charge it to",
        help_text="Another active cost centre, or a central one, pays the credited amount instead.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recharge_owner"].queryset = candidates
        self.fields["recharge_owner"].label_from_instance = lambda owner: (
            f"{owner.code} {owner.name}{' (central)' if owner.is_central else ''}"
        )


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=4000, help_text="The budget owner reads this."
    )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "any"), *Dispute.Status.choices])
    period = forms.RegexField(
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        error_messages={"invalid": "Use YYYY-MM, e.g. 2026-10."},
    )
    owner = forms.CharField(required=False, max_length=40, label="Cost centre")

    def filters(self, *, default_status: str = "") -> dict:
        if not self.is_bound:
            return {"status": default_status, "period": None, "owner_code": ""}
        if not self.is_valid():
            return {"status": "", "period": None, "owner_code": ""}
        data = self.cleaned_data
        period = None
        if data.get("period"):
            year, month = (int(part) for part in data["period"].split("-"))
            period = date(year, month, 1)
        return {"status": data.get("status", ""), "period": period, "owner_code": data.get("owner", "").strip()}
