"""Forms of the rules editor.

A rule is edited with one main form for its kind plus row formsets (conditions; targets of a shared
pool; value → owner rows of a tag map). The forms only turn HTML inputs into the document's shape
("in" values are comma-separated, is_retry is true/false); whether that shape is right is decided by
``document.normalise`` when ``services.draft_update`` saves the whole document, and its problems are
put back on the fields they concern with ``RuleEditor.show_problems``.
"""

from django import forms

from apps.tenancy.models import Organization

from ..models import TrueUpMode
from . import selectors
from .document import FIELDS, Problem
from .editor import INDEXED_FIELD, problems_in_words, rule_index_of

KIND_LABELS = {"direct": "Direct", "tag_map": "Tag map", "shared_pool": "Shared pool"}
FIELD_LABELS = {
    "provider": "provider",
    "model": "model",
    "service_tier": "service tier",
    "cost_source": "cost source",
    "is_retry": "is a retry",
}
OP_CHOICES = [
    ("equals", "equals"),
    ("in", "is one of (comma-separated)"),
    ("glob", "matches the pattern (* and ?)"),
    ("exists", "is present"),
    ("missing", "is missing"),
]
SOURCE_CHOICES = [
    ("conditions", "Requests that match the conditions"),
    ("unallocated", "The unallocated remainder (cost no earlier rule claims)"),
    ("true_up", "The invoice true-up (invoice minus estimate)"),
]
METHOD_CHOICES = [
    ("proportional", "In proportion to each owner's direct spend"),
    ("even", "Evenly"),
    ("fixed", "Fixed percentages (summing to 100)"),
    ("usage", "In proportion to each owner's usage"),
]
USAGE_BASIS_CHOICES = [("", "—"), ("requests", "requests"), ("tokens", "tokens")]
MAPPING_MODES = [
    ("taxonomy", "Use the taxonomy's owner links (each value's cost centre under Tagging)"),
    ("explicit", "Use the value → owner rows below"),
]


class RuleSetForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="e.g. Acme allocation. Unique in the organisation.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What the rule set is for; printed at the top of the documented allocation model.",
    )


def condition_field_choices(*, organization: Organization, keep: set[str]) -> list[tuple[str, str]]:
    dimensions = selectors.dimension_choices(
        organization=organization, keep={f[4:] for f in keep if f.startswith("tag:")}
    )
    choices = [("", "—")] + [(f"tag:{key}", f"tag {label}") for key, label in dimensions]
    choices += [(fld, FIELD_LABELS[fld]) for fld in FIELDS]
    known = {value for value, _ in choices}
    return choices + [(fld, fld) for fld in sorted(keep - known)]


class ConditionForm(forms.Form):
    field = forms.ChoiceField(required=False)
    op = forms.ChoiceField(choices=OP_CHOICES, initial="equals", label="Operator")
    value = forms.CharField(required=False, max_length=4000)

    def __init__(self, *args, field_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = field_choices

    @staticmethod
    def initial_for(condition: dict) -> dict:
        value = condition.get("value")
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        return {"field": condition["field"], "op": condition["op"], "value": value if value is not None else ""}

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not data.get("field") and not (data.get("value") or "").strip()

    def condition(self) -> dict:
        data = self.cleaned_data
        fld, op, text = data.get("field") or None, data.get("op"), (data.get("value") or "").strip()
        if op in ("exists", "missing"):
            return {"field": fld, "op": op, **({"value": text} if text else {})}
        if fld == "is_retry" and text.lower() in ("true", "false", "yes", "no"):
            return {"field": fld, "op": op, "value": text.lower() in ("true", "yes")}
        if op == "in":
            return {"field": fld, "op": op, "value": [part.strip() for part in text.split(",") if part.strip()]}
        return {"field": fld, "op": op, "value": text or None}


class TargetForm(forms.Form):
    owner = forms.ChoiceField(required=False)
    weight_pct = forms.CharField(
        required=False, max_length=20, label="Percentage", help_text="Fixed: the owner's share; others: a weight."
    )

    def __init__(self, *args, owner_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "—"), *owner_choices]

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("owner") and not (self.cleaned_data.get("weight_pct") or "").strip()

    def target(self) -> dict:
        weight = (self.cleaned_data.get("weight_pct") or "").strip().rstrip("%").strip()
        return {"owner": self.cleaned_data.get("owner") or None, "weight_pct": weight or None}


class MappingForm(forms.Form):
    value = forms.CharField(required=False, max_length=200)
    owner = forms.ChoiceField(required=False)

    def __init__(self, *args, owner_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "—"), *owner_choices]

    def clean(self):
        data = super().clean()
        value, owner = (data.get("value") or "").strip(), data.get("owner")
        if value and not owner:
            self.add_error("owner", f"Choose the budget owner that pays for {value}.")
        if owner and not value:
            self.add_error("value", "Give the tag value this owner pays for.")
        data["value"] = value
        return data

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("value") and not self.cleaned_data.get("owner")


class _RowFormSet(forms.BaseFormSet):
    def rows(self) -> list[forms.Form]:
        """The filled-in rows, in order, without the blank and the removed ones."""
        return [f for f in self.forms if not self._should_delete_form(f) and not f.is_blank()]


class _MappingFormSet(_RowFormSet):
    def clean(self):
        seen = set()
        for form in self.forms:
            if self._should_delete_form(form) or not hasattr(form, "cleaned_data"):
                continue
            value = form.cleaned_data.get("value")
            if value and value in seen:
                form.add_error("value", f"{value} is mapped twice; map each value once.")
            seen.add(value)


ConditionFormSet = forms.formset_factory(ConditionForm, formset=_RowFormSet, extra=2, can_delete=True)
TargetFormSet = forms.formset_factory(TargetForm, formset=_RowFormSet, extra=3, can_delete=True)
MappingFormSet = forms.formset_factory(MappingForm, formset=_MappingFormSet, extra=3, can_delete=True)


class _RuleForm(forms.Form):
    name = forms.CharField(required=False, max_length=200, help_text="Unique within the rule set, e.g. Search team.")

    def __init__(self, *args, owner_choices, dimension_choices, **kwargs):
        super().__init__(*args, **kwargs)

    def rule_fields(self) -> dict:
        return {}


class DirectRuleForm(_RuleForm):
    owner = forms.ChoiceField(required=False, help_text="The budget owner that pays for the matching requests.")

    def __init__(self, *args, owner_choices, dimension_choices, **kwargs):
        super().__init__(*args, owner_choices=owner_choices, dimension_choices=dimension_choices, **kwargs)
        self.fields["owner"].choices = [("", "—"), *owner_choices]

    def rule_fields(self) -> dict:
        return {"owner": self.cleaned_data.get("owner") or None}


class TagMapRuleForm(_RuleForm):
    dimension = forms.ChoiceField(required=False, help_text="The tag whose values decide the owner, e.g. team.")
    mapping_mode = forms.ChoiceField(
        choices=MAPPING_MODES, initial="taxonomy", widget=forms.RadioSelect, label="Owners"
    )

    def __init__(self, *args, owner_choices, dimension_choices, **kwargs):
        super().__init__(*args, owner_choices=owner_choices, dimension_choices=dimension_choices, **kwargs)
        self.fields["dimension"].choices = [("", "—"), *dimension_choices]

    def rule_fields(self) -> dict:
        return {"dimension": self.cleaned_data.get("dimension") or None}


class SharedPoolRuleForm(_RuleForm):
    source = forms.ChoiceField(choices=SOURCE_CHOICES, initial="conditions", label="Cost to share")
    method = forms.ChoiceField(choices=METHOD_CHOICES, initial="proportional", label="Split")
    usage_basis = forms.ChoiceField(
        choices=USAGE_BASIS_CHOICES, required=False, label="Usage basis", help_text="Only for a split by usage."
    )
    same_provider = forms.BooleanField(
        required=False,
        label="Count only direct spend with the same provider",
        help_text="Only for a proportional split: each provider's shared cost follows that provider's spend.",
    )

    def rule_fields(self) -> dict:
        method = self.cleaned_data.get("method")
        return {
            "source": self.cleaned_data.get("source"),
            "method": method,
            # Fields of another method are ignored rather than refused: without scripts the form cannot hide
            # them, and a basis left selected from an earlier choice is not a mistake worth a round trip.
            "usage_basis": (self.cleaned_data.get("usage_basis") or None) if method == "usage" else None,
            "same_provider": bool(self.cleaned_data.get("same_provider")) if method == "proportional" else False,
        }


RULE_FORMS = {"direct": DirectRuleForm, "tag_map": TagMapRuleForm, "shared_pool": SharedPoolRuleForm}


def _rule_codes(rule: dict | None) -> tuple[set[str], set[str], set[str]]:
    """Owner codes, dimension keys and condition fields a rule already uses."""
    if not rule:
        return set(), set(), set()
    owners = {rule.get("owner")} | {t.get("owner") for t in rule.get("targets") or []}
    owners |= set((rule.get("mapping") or {}).values())
    dimensions = {rule.get("dimension")}
    fields = {c.get("field") for c in rule.get("conditions") or []}
    return {o for o in owners if o}, {d for d in dimensions if d}, {f for f in fields if f}


class RuleEditor:
    """One rule's main form and row formsets; builds the rule and puts problems on its fields."""

    def __init__(self, kind: str, *, organization: Organization, data=None, rule: dict | None = None):
        self.kind = kind
        owners, dimensions, fields = _rule_codes(rule)
        owner_choices = selectors.owner_choices(organization=organization, keep=owners)
        dimension_choices = selectors.dimension_choices(organization=organization, keep=dimensions)
        self.form = RULE_FORMS[kind](
            data,
            initial=self._initial(rule),
            owner_choices=owner_choices,
            dimension_choices=dimension_choices,
        )
        self.conditions = ConditionFormSet(
            data,
            prefix="conditions",
            initial=[ConditionForm.initial_for(c) for c in (rule or {}).get("conditions") or []],
            form_kwargs={"field_choices": condition_field_choices(organization=organization, keep=fields)},
        )
        self.targets = self.mapping = None
        if kind == "shared_pool":
            self.targets = TargetFormSet(
                data,
                prefix="targets",
                initial=[
                    {"owner": t["owner"], "weight_pct": t.get("weight_pct") or ""}
                    for t in (rule or {}).get("targets") or []
                ],
                form_kwargs={"owner_choices": owner_choices},
            )
        if kind == "tag_map":
            self.mapping = MappingFormSet(
                data,
                prefix="mapping",
                initial=[{"value": v, "owner": o} for v, o in ((rule or {}).get("mapping") or {}).items()],
                form_kwargs={"owner_choices": owner_choices},
            )
        self._condition_rows: list[forms.Form] = []
        self._target_rows: list[forms.Form] = []

    @staticmethod
    def _initial(rule: dict | None) -> dict:
        if not rule:
            return {}
        initial = {k: v for k, v in rule.items() if k not in ("conditions", "targets", "mapping", "kind")}
        if rule["kind"] == "tag_map":
            initial["mapping_mode"] = "taxonomy" if rule.get("mapping") is None else "explicit"
        if initial.get("usage_basis") is None:
            initial.pop("usage_basis", None)
        return initial

    @property
    def formsets(self) -> list[forms.BaseFormSet]:
        return [fs for fs in (self.conditions, self.targets, self.mapping) if fs is not None]

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        for formset in self.formsets:
            valid = formset.is_valid() and valid
        uses_taxonomy = self.kind == "tag_map" and valid and self.form.cleaned_data["mapping_mode"] == "taxonomy"
        if uses_taxonomy and self.mapping.rows():
            self.form.add_error(
                "mapping_mode",
                "You filled in value → owner rows: choose “Use the value → owner rows below”, or clear them.",
            )
            valid = False
        return valid

    def rule(self) -> dict:
        """The rule as the document holds it (call after ``is_valid``)."""
        self._condition_rows = self.conditions.rows()
        rule = {
            "kind": self.kind,
            "name": (self.form.cleaned_data.get("name") or "").strip(),
            "conditions": [row.condition() for row in self._condition_rows],
            **self.form.rule_fields(),
        }
        if self.kind == "tag_map":
            rows = self.mapping.rows() if self.form.cleaned_data["mapping_mode"] == "explicit" else None
            rule["mapping"] = None if rows is None else {r.cleaned_data["value"]: r.cleaned_data["owner"] for r in rows}
        if self.kind == "shared_pool":
            self._target_rows = self.targets.rows()
            rule["targets"] = [row.target() for row in self._target_rows]
        return rule

    def show_problems(self, problems: list[Problem], index: int) -> None:
        """Put each problem of rule ``index`` on its field (the rest on top of the form)."""
        name = (self.form.cleaned_data.get("name") or "").strip()
        for (where, fld, message), words in zip(problems, problems_in_words(problems), strict=True):
            if rule_index_of(where) != index:
                if fld == "name" and where.endswith(f"({name})"):
                    self.form.add_error("name", "Another rule of this rule set already has this name.")
                else:
                    self.form.add_error(None, words.text)
                continue
            row_match = INDEXED_FIELD.match(fld)
            if row_match:
                rows = self._condition_rows if row_match.group(1) == "conditions" else self._target_rows
                position = int(row_match.group(2))
                if position < len(rows):
                    row, sub = rows[position], row_match.group(3)
                    row.add_error(sub if sub in row.fields else None, message)
                    continue
            if fld.startswith("mapping.") and self.mapping is not None:
                value = fld[len("mapping.") :]
                rows = [row for row in self.mapping.rows() if row.cleaned_data.get("value") == value]
                if rows:
                    rows[0].add_error("owner", message)
                    continue
            if fld in self.form.fields:
                self.form.add_error(fld, message)
            else:
                shown = words.field
                self.form.add_error(None, f"{shown[:1].upper()}{shown[1:]}: {message}" if shown else message)


class TrueUpForm(forms.Form):
    mode = forms.ChoiceField(choices=TrueUpMode.choices, widget=forms.RadioSelect, label="Invoice true-up")
    central_owner = forms.ChoiceField(
        required=False,
        help_text="Only when the true-up is booked to a central owner; usually a central / platform cost centre.",
    )

    def __init__(self, *args, organization: Organization, keep: set[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["central_owner"].choices = [
            ("", "—"),
            *selectors.owner_choices(organization=organization, keep=keep),
        ]

    def true_up(self) -> dict:
        mode = self.cleaned_data["mode"]
        owner = self.cleaned_data.get("central_owner") or None
        return {"mode": mode, "central_owner": owner if mode == TrueUpMode.USAGE_ONLY else None}


class RulesYamlForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 30, "spellcheck": "false", "style": "font-family: ui-monospace, monospace"}
        ),
        label="Rules as YAML",
        strip=False,
        help_text="The same format as manage.py import_rules. rule_set, description and version are shown for "
        "reference; saving here changes only the rules and the true-up of this draft.",
    )


class CompareForm(forms.Form):
    a = forms.TypedChoiceField(coerce=int, label="From version")
    b = forms.TypedChoiceField(coerce=int, label="To version")

    def __init__(self, *args, numbers: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("a", "b"):
            self.fields[name].choices = numbers

    def clean(self):
        data = super().clean()
        if data.get("a") is not None and data.get("a") == data.get("b"):
            raise forms.ValidationError("Choose two different versions.")
        return data
