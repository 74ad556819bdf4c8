from django import forms

from .workflow import TRANSITIONS


class TransitionForm(forms.Form):
    transition = forms.ChoiceField(choices=[(t.name, t.label) for t in TRANSITIONS.values()])
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    override = forms.BooleanField(required=False)
