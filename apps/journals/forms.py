from django import forms


class RecoveryAccountForm(forms.Form):
    company_code = forms.CharField(
        label="Company code / subsidiary",
        max_length=40,
        required=False,
        help_text="Blank: the default account, for every company code without one of its own.",
    )
    account = forms.CharField(label="Recovery (clearing) account", max_length=40)
    description = forms.CharField(max_length=200, required=False)
