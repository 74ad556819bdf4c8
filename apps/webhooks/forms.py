from django import forms

from .models import EventType


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://erp.example.com/hooks/chargeback"}),
        help_text="An https:// address on the internet; addresses inside private networks are refused.",
    )
    events = forms.MultipleChoiceField(label="Events", choices=EventType.choices, widget=forms.CheckboxSelectMultiple)
    description = forms.CharField(max_length=200, required=False, help_text="Which system receives it.")
