from django import forms

from .models import MAX_REPULL_DAYS, Provider


class ConnectionCreateForm(forms.Form):
    provider = forms.ChoiceField(choices=Provider.choices)
    label = forms.CharField(label="Name", max_length=100, help_text="e.g. 'OpenAI production organisation'.")
    api_key = forms.CharField(
        label="Admin API key",
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="OpenAI: an admin key (Organization settings → Admin keys). Anthropic: an Admin API key "
        "(sk-ant-admin…). Stored encrypted; never shown again.",
    )
    repull_days = forms.IntegerField(
        label="Re-pull window (days)",
        min_value=1,
        max_value=MAX_REPULL_DAYS,
        initial=3,
        help_text="The last days read again on every pull: providers restate recent days.",
    )


class ConnectionUpdateForm(forms.Form):
    label = forms.CharField(label="Name", max_length=100)
    repull_days = forms.IntegerField(label="Re-pull window (days)", min_value=1, max_value=MAX_REPULL_DAYS)
    is_active = forms.BooleanField(label="Pull on the schedule", required=False)
    api_key = forms.CharField(
        label="Replace the admin API key",
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Leave empty to keep the stored key.",
    )
