"""Checks of a rule document against the organisation's catalog: every error (blocks publishing) and
warning, in finance-readable words, as ``(where, field, message)``. One check per rule kind
(``_check_direct``, ``_check_tag_map``, ``_check_shared_pool``) plus the checks every rule gets
(conditions that never match, rules shadowed by an earlier one) and the true-up policy's."""

import fnmatch
from dataclasses import dataclass, field
from decimal import Decimal

from apps.owners.models import BudgetOwner
from apps.pricing.constants import COST_SOURCES
from apps.pricing.models import AiModel, Provider, ServiceTier
from apps.taxonomy.models import TagDimension, TagValue
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .document import Problem, normalise, rule_label


@dataclass
class RuleSetCheck:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class RuleCatalog:
    owners: dict  # code -> BudgetOwner
    dimensions: dict  # key -> TagDimension (active)
    values: dict  # key -> {value: owner code or None} (active values)
    providers: set
    models: dict  # code -> set of provider codes


@tenant_scoped
def rule_catalog(*, organization: Organization) -> RuleCatalog:
    owners = {o.code: o for o in BudgetOwner.objects.filter(organization=organization)}
    dimensions = {d.key: d for d in TagDimension.objects.filter(organization=organization, is_active=True)}
    values: dict = {key: {} for key in dimensions}
    rows = TagValue.objects.filter(organization=organization, is_active=True, dimension__is_active=True)
    for value in rows.select_related("dimension", "owner"):
        values[value.dimension.key][value.value] = value.owner.code if value.owner_id else None
    models: dict = {}
    for code, provider in AiModel.objects.values_list("code", "provider__code"):
        models.setdefault(code, set()).add(provider)
    return RuleCatalog(owners, dimensions, values, set(Provider.objects.values_list("code", flat=True)), models)


def _owner_problems(where: str, fld: str, code: str | None, cat: RuleCatalog, errors: list[Problem]) -> None:
    if not code:
        return
    owner = cat.owners.get(code)
    if owner is None:
        errors.append((where, fld, f"There is no budget owner {code}."))
    elif not owner.is_active:
        errors.append((where, fld, f"Budget owner {code} ({owner.name}) is inactive; it cannot receive cost."))


def _known_values(fld: str, cat: RuleCatalog) -> set | None:
    """The values a field can take, or None when any value is possible."""
    if fld.startswith("tag:"):
        return set(cat.values.get(fld[4:], {}))
    return {
        "provider": cat.providers,
        "model": set(cat.models),
        "service_tier": set(ServiceTier.values),
        "cost_source": set(COST_SOURCES),
    }.get(fld)


def _field_label(fld: str) -> str:
    return f"tag {fld[4:]}" if fld.startswith("tag:") else fld.replace("_", " ")


def _never_matches(rule: dict, cat: RuleCatalog) -> list[tuple[str, str]]:
    """(field, message) for each reason the rule's conditions can never all hold."""
    reasons = []
    by_field: dict[str, list[dict]] = {}
    for i, cond in enumerate(rule["conditions"]):
        fld, op = cond["field"], cond["op"]
        by_field.setdefault(fld, []).append(cond)
        label = f"conditions[{i}]"
        if fld.startswith("tag:") and fld[4:] not in cat.dimensions:
            reasons.append((label, f"There is no active tag dimension '{fld[4:]}', so this rule never matches."))
            continue
        if op == "missing" and not fld.startswith("tag:"):
            reasons.append((label, f"Every request has a {_field_label(fld)}, so 'missing' never matches."))
            continue
        known = _known_values(fld, cat)
        if known is None or op not in ("equals", "in"):
            if op == "glob" and known is not None and not any(fnmatch.fnmatchcase(v, cond["value"]) for v in known):
                reasons.append((label, f"No known {_field_label(fld)} matches the pattern {cond['value']}."))
            continue
        wanted = [cond["value"]] if op == "equals" else cond["value"]
        unknown = [v for v in wanted if v not in known]
        if len(unknown) == len(wanted):
            shown = ", ".join(unknown)
            reasons.append((label, f"{shown} is not a known {_field_label(fld)}, so this rule never matches."))
    providers = {c["value"] for c in by_field.get("provider", []) if c["op"] == "equals"}
    for cond in by_field.get("model", []):
        wanted = [cond["value"]] if cond["op"] == "equals" else cond["value"] if cond["op"] == "in" else []
        known = [v for v in wanted if v in cat.models]
        if len(providers) == 1 and known and not any(providers & cat.models[v] for v in known):
            (provider,) = providers
            reasons.append(
                ("conditions", f"{', '.join(known)} is not a model of {provider}, so this rule never matches.")
            )
    for fld, conds in by_field.items():
        ops = {c["op"] for c in conds}
        allowed: set | None = None
        for cond in conds:
            if cond["op"] == "equals":
                allowed = {cond["value"]} if allowed is None else allowed & {cond["value"]}
            elif cond["op"] == "in":
                allowed = set(cond["value"]) if allowed is None else allowed & set(cond["value"])
        if "missing" in ops and ops & {"equals", "in", "exists", "glob"}:
            reasons.append(("conditions", f"{_field_label(fld)} cannot be both missing and present."))
        elif allowed is not None and not allowed:
            reasons.append(("conditions", f"No {_field_label(fld)} satisfies all the conditions at once."))
    return reasons


def _implies(later: dict, earlier: dict) -> bool:
    """Whether the later condition, when true, makes the earlier one true (conservative)."""
    if later["field"] != earlier["field"]:
        return False
    if later == earlier:
        return True
    lop, eop = later["op"], earlier["op"]
    if eop == "exists":
        return lop in ("equals", "in", "glob", "exists")
    later_values = [later["value"]] if lop == "equals" else later["value"] if lop == "in" else None
    if later_values is None:
        return False
    if eop == "equals":
        return later_values == [earlier["value"]]
    if eop == "in":
        return set(later_values) <= set(earlier["value"])
    if eop == "glob":
        return all(fnmatch.fnmatchcase(str(v), earlier["value"]) for v in later_values)
    return False


def _conditions_imply(later: list[dict], earlier: list[dict]) -> bool:
    return all(any(_implies(lc, ec) for lc in later) for ec in earlier)


def effective_mapping(rule: dict, cat: RuleCatalog) -> dict:
    if rule.get("mapping") is not None:
        return rule["mapping"]
    return {v: o for v, o in cat.values.get(rule.get("dimension") or "", {}).items() if o}


def _claims(rule: dict) -> bool:
    return rule["kind"] != "shared_pool" or rule.get("source") == "conditions"


def _shadowed_by(rule: dict, earlier: dict, cat: RuleCatalog) -> bool:
    if not _claims(earlier) or not _conditions_imply(rule["conditions"], earlier["conditions"]):
        return False
    if earlier["kind"] != "tag_map":
        return True
    # A tag map claims only requests whose dimension value it maps.
    mapped = set(effective_mapping(earlier, cat))
    dim = f"tag:{earlier['dimension']}"
    probe = {"field": dim, "op": "in", "value": sorted(mapped)}
    return bool(mapped) and any(_implies(c, probe) for c in rule["conditions"] if c["field"] == dim)


def _owner_of_condition(cond: dict, rules: list[dict], cat: RuleCatalog) -> str | None:
    """The owner whose direct cost a tag condition ``tag:d equals v`` selects, if the rules say so."""
    if cond["op"] != "equals" or not cond["field"].startswith("tag:"):
        return None
    for rule in rules:
        if rule["kind"] == "tag_map" and f"tag:{rule['dimension']}" == cond["field"] and not rule["conditions"]:
            owner = effective_mapping(rule, cat).get(cond["value"])
            if owner:
                return owner
        if rule["kind"] == "direct" and rule["conditions"] == [cond]:
            return rule["owner"]
    # Otherwise the taxonomy's owner link of the value says whose cost it is.
    return cat.values.get(cond["field"][4:], {}).get(cond["value"])


def _pool_problems(where: str, rule: dict, rules: list[dict], cat: RuleCatalog, errors: list[Problem]) -> None:
    targets = rule["targets"]
    if not targets:
        errors.append((where, "targets", "A shared pool needs at least one budget owner to share the cost among."))
        return
    codes = [t["owner"] for t in targets]
    for i, code in enumerate(codes):
        _owner_problems(where, f"targets[{i}].owner", code, cat, errors)
        if code in codes[:i]:
            errors.append((where, f"targets[{i}].owner", f"{code} is listed twice; list each owner once."))
    if rule["method"] == "fixed":
        weights = [Decimal(t["weight_pct"]) for t in targets if t["weight_pct"] is not None]
        if len(weights) == len(targets) and sum(weights) != Decimal("100"):
            total = sum(weights)
            errors.append((where, "targets", f"The fixed percentages add up to {total}%, not 100%."))
    for cond in rule["conditions"]:
        owner = _owner_of_condition(cond, rules, cat)
        if owner and owner in codes:
            errors.append(
                (
                    where,
                    "conditions",
                    f"The pool selects {owner}'s own cost ({cond['field'][4:]}={cond['value']}) and shares it "
                    f"back to {owner}: the pool would feed itself. Narrow the conditions or drop {owner} "
                    "from the targets.",
                )
            )


def _remainder_pool_problems(where: str, index: int, rule: dict, rules: list[dict], check: RuleSetCheck) -> None:
    """Pools of the unallocated remainder or of the true-up: what they can select, and earlier pools first."""
    source = rule["source"]
    if source == "true_up":
        for i, cond in enumerate(rule["conditions"]):
            if cond["field"] != "provider":
                check.errors.append(
                    (
                        where,
                        f"conditions[{i}]",
                        "The invoice true-up has no tags, model, tier or cost source; a true-up pool can only "
                        "select by provider.",
                    )
                )
    if source not in ("unallocated", "true_up"):
        return
    for earlier_index, earlier in enumerate(rules[:index]):
        if earlier["kind"] != "shared_pool" or earlier["source"] != source:
            continue
        if not _conditions_imply(rule["conditions"], earlier["conditions"]):
            continue
        label = rule_label(earlier_index, earlier)
        if source == "true_up":
            check.errors.append(
                (where, "source", f"{label} takes this true-up first, so this pool never receives anything.")
            )
        else:
            check.warnings.append(
                (
                    where,
                    "source",
                    f"{label} takes this unallocated cost first; this pool only receives what that pool cannot "
                    "share (when none of its targets has any spend or usage).",
                )
            )
        return


def _check_conditions(where: str, rule: dict, cat: RuleCatalog, check: RuleSetCheck) -> None:
    """Every rule: conditions that can never all hold (errors), values of an "in" not in the catalog (warnings)."""
    for fld, message in _never_matches(rule, cat):
        check.errors.append((where, fld, message))
    for i, cond in enumerate(rule["conditions"]):
        known = _known_values(cond["field"], cat) if cond["op"] == "in" else None
        unknown = [v for v in cond["value"] if v not in known] if known else []
        if known and unknown and len(unknown) < len(cond["value"]):
            check.warnings.append(
                (where, f"conditions[{i}]", f"{', '.join(unknown)}: not a known {_field_label(cond['field'])}.")
            )


def _check_direct(where: str, index: int, rule: dict, rules: list[dict], cat: RuleCatalog, check: RuleSetCheck) -> None:
    _owner_problems(where, "owner", rule["owner"], cat, check.errors)


def _check_tag_map(
    where: str, index: int, rule: dict, rules: list[dict], cat: RuleCatalog, check: RuleSetCheck
) -> None:
    if not rule["dimension"]:
        return
    known = cat.values.get(rule["dimension"])
    if known is None:
        check.errors.append((where, "dimension", f"There is no active tag dimension '{rule['dimension']}'."))
    elif rule["mapping"] is None:
        if not effective_mapping(rule, cat):
            check.errors.append(
                (
                    where,
                    "mapping",
                    f"No value of {rule['dimension']} is linked to a budget owner in the taxonomy, "
                    "so this rule never assigns anything. Add a mapping or link the values.",
                )
            )
    elif not rule["mapping"]:
        check.errors.append(
            (
                where,
                "mapping",
                "The mapping is empty, so this rule never assigns anything. Map at least one value to a "
                "budget owner, or use the taxonomy's owner links.",
            )
        )
    else:
        for value, code in rule["mapping"].items():
            if value not in known:
                check.errors.append((where, f"mapping.{value}", f"{value} is not a value of {rule['dimension']}."))
            _owner_problems(where, f"mapping.{value}", code, cat, check.errors)


def _check_shared_pool(
    where: str, index: int, rule: dict, rules: list[dict], cat: RuleCatalog, check: RuleSetCheck
) -> None:
    _pool_problems(where, rule, rules, cat, check.errors)
    _remainder_pool_problems(where, index, rule, rules, check)


KIND_CHECKS = {"direct": _check_direct, "tag_map": _check_tag_map, "shared_pool": _check_shared_pool}


def _check_shadowing(
    where: str, index: int, rule: dict, rules: list[dict], cat: RuleCatalog, check: RuleSetCheck
) -> None:
    """A claiming rule whose every request an earlier rule already claims never applies."""
    for earlier_index, earlier in enumerate(rules[:index]):
        if _claims(rule) and _shadowed_by(rule, earlier, cat):
            check.errors.append(
                (
                    where,
                    "conditions",
                    f"Every request this rule matches is already claimed by {rule_label(earlier_index, earlier)}, "
                    "so it never applies. Move it above that rule or remove it.",
                )
            )
            return


def _check_true_up(true_up: dict, rules: list[dict], cat: RuleCatalog, check: RuleSetCheck) -> None:
    """The true-up policy: its central owner, and whether a pool of every provider's true-up leaves it idle."""
    central = true_up["central_owner"]
    if true_up["mode"] == "usage_only" and not central:
        check.errors.append(("true_up", "central_owner", "Booking the true-up to a central owner needs that owner."))
    _owner_problems("true_up", "central_owner", central, cat, check.errors)
    owner = cat.owners.get(central or "")
    if owner is not None and not owner.is_central:
        check.warnings.append(
            ("true_up", "central_owner", f"{central} ({owner.name}) is not marked as a central cost centre.")
        )
    catch_all = next(
        (
            rule_label(index, rule)
            for index, rule in enumerate(rules)
            if rule["kind"] == "shared_pool" and rule["source"] == "true_up" and not rule["conditions"]
        ),
        None,
    )
    if true_up["mode"] != "none" and catch_all is not None:
        check.warnings.append(
            ("true_up", "mode", f"{catch_all} takes every provider's true-up, so this true-up policy never applies.")
        )


def rule_set_check(*, organization: Organization, document: dict) -> RuleSetCheck:
    """Every error (blocks publishing) and warning of a document, in finance-readable words."""
    doc, shape = normalise(document)
    check = RuleSetCheck(errors=list(shape))
    cat = rule_catalog(organization=organization)
    rules = doc["rules"]
    for index, rule in enumerate(rules):
        where = rule_label(index, rule)
        _check_conditions(where, rule, cat, check)
        KIND_CHECKS[rule["kind"]](where, index, rule, rules, cat, check)
        _check_shadowing(where, index, rule, rules, cat, check)
    _check_true_up(doc["true_up"], rules, cat, check)
    return check


def rule_set_validate(*, organization: Organization, document: dict) -> list[Problem]:
    """Every error that blocks publishing, as (rule index/name, field, message)."""
    return rule_set_check(organization=organization, document=document).errors
