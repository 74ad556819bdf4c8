"""Rule sets as YAML or JSON files: parse, import as a draft (optionally publish), export."""

import json
from dataclasses import dataclass, field

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from ..models import RuleSet, RuleSetVersion
from .checks import rule_set_check
from .document import Problem, normalise
from .services import draft_from_version, draft_publish, draft_update, rule_set_create

DEFAULT_RULE_SET = "Allocation rules"
RULE_KEY_ORDER = ["kind", "name", "conditions", "owner", "dimension", "mapping", "source", "method", "targets"]


class RulesFileError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{w}: {f}: {m}" for w, f, m in problems))
        self.problems = problems


def parse_text(text: str, *, file_name: str = "") -> dict:
    """A JSON or YAML text as a raw document (JSON when the name ends in .json or the text starts with {)."""
    try:
        if file_name.lower().endswith(".json") or text.lstrip().startswith("{"):
            raw = json.loads(text)
        else:
            raw = yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise RulesFileError([("document", "document", f"The file cannot be read: {exc}")]) from exc
    return raw if raw is not None else {}


@dataclass
class ImportResult:
    version: RuleSetVersion
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    published: bool = False


@tenant_scoped
def import_rules(*, organization: Organization, raw: dict, actor, publish: bool = False) -> ImportResult:
    """Write the document as the draft of its rule set; publish it too when asked and it is valid.

    Shape errors raise ``RulesFileError`` and write nothing. With ``publish`` and validation
    errors, nothing is written either (the whole import is one transaction) and the errors are
    raised; without ``publish`` the draft is saved and its errors are returned.
    """
    doc, shape = normalise(raw)
    if shape:
        raise RulesFileError(shape)
    check = rule_set_check(organization=organization, document=doc)
    if publish and check.errors:
        raise RulesFileError(check.errors)
    name = str(raw.get("rule_set") or DEFAULT_RULE_SET).strip()
    with transaction.atomic():
        rule_set = RuleSet.objects.filter(organization=organization, name=name).first()
        if rule_set is None:
            rule_set = rule_set_create(
                organization=organization, actor=actor, name=name, description=str(raw.get("description") or "")
            )
        draft = RuleSetVersion.objects.filter(rule_set=rule_set, status="draft").first()
        if draft is None:
            latest = RuleSetVersion.objects.filter(rule_set=rule_set).order_by("-number").first()
            draft = draft_from_version(version=latest, actor=actor)
        draft, check = draft_update(draft=draft, document=doc, actor=actor)
        if publish:
            draft = draft_publish(draft=draft, actor=actor)
    return ImportResult(version=draft, errors=check.errors, warnings=check.warnings, published=publish)


@tenant_scoped
def version_for_export(*, organization: Organization, number: int | None = None, name: str | None = None):
    """The requested version, else the latest published one, else the draft."""
    sets = RuleSet.objects.filter(organization=organization)
    rule_set = sets.filter(name=name).first() if name else sets.order_by("pk").first()
    if rule_set is None:
        raise ValidationError("This organisation has no allocation rule set yet.")
    versions = RuleSetVersion.objects.filter(rule_set=rule_set).select_related("rule_set", "published_by")
    if number is not None:
        version = versions.filter(number=number).first()
        if version is None:
            top = versions.aggregate(n=Max("number"))["n"]
            raise ValidationError(f"{rule_set.name} has no version {number} (latest is {top}).")
        return version
    return versions.filter(status="published").order_by("-number").first() or versions.first()


def export_document(version: RuleSetVersion) -> dict:
    return {
        "rule_set": version.rule_set.name,
        "description": version.rule_set.description,
        "version": version.number,
        "true_up": {
            "mode": version.document["true_up"]["mode"],
            "central_owner": version.document["true_up"]["central_owner"],
        },
        "rules": version.document["rules"],
    }


def _drop_empty(rule: dict) -> dict:
    """The file form omits keys with default values, so files stay short and readable."""
    defaults = {"conditions": [], "usage_basis": None, "same_provider": False, "mapping": None}
    # A fixed key order (PostgreSQL's jsonb does not keep the stored one).
    keys = sorted(rule, key=lambda k: (RULE_KEY_ORDER.index(k) if k in RULE_KEY_ORDER else 99, k))
    out = {k: rule[k] for k in keys if defaults.get(k, object()) != rule[k]}
    if "conditions" in out:
        out["conditions"] = [
            {k: condition[k] for k in ("field", "op", "value") if k in condition} for condition in out["conditions"]
        ]
    if "targets" in out:
        out["targets"] = [
            {k: target[k] for k in ("owner", "weight_pct") if target.get(k) is not None} for target in out["targets"]
        ]
    return out


def export_yaml(version: RuleSetVersion) -> str:
    doc = export_document(version)
    doc["rules"] = [_drop_empty(r) for r in doc["rules"]]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False)


def export_json(version: RuleSetVersion) -> str:
    return json.dumps(export_document(version), indent=2, ensure_ascii=False) + "\n"
