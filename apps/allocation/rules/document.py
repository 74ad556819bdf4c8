"""The rule document: its shape, canonical form and hash. Pure Python, no ORM.

A document is ``{"rules": [...], "true_up": {"mode": ..., "central_owner": ...}}``; the same form is
stored in ``RuleSetVersion.document`` and written to YAML/JSON files. ``normalise`` checks the shape
(keys, kinds, operators, value types) and returns the canonical document plus every shape problem as
``(where, field, message)``; meaning (owners, tags, providers, shadowing) is checked in ``checks``.
"""

import hashlib
import json
from decimal import Decimal, InvalidOperation

KINDS = ("direct", "tag_map", "shared_pool")
FIELDS = ("provider", "model", "service_tier", "cost_source", "is_retry")
OPS = ("equals", "in", "exists", "missing", "glob")
SOURCES = ("conditions", "unallocated", "true_up")
METHODS = ("even", "fixed", "proportional", "usage")
USAGE_BASES = ("requests", "tokens")
TRUE_UP_MODES = ("full_cost", "usage_only", "none")

COMMON_KEYS = {"kind", "name", "conditions"}
KIND_KEYS = {
    "direct": {"owner"},
    "tag_map": {"dimension", "mapping"},
    "shared_pool": {"source", "method", "targets", "usage_basis", "same_provider"},
}

Problem = tuple[str, str, str]


def rule_label(index: int, rule) -> str:
    name = rule.get("name") if isinstance(rule, dict) else None
    return f"rules[{index}] ({name})" if name else f"rules[{index}]"


def canonical_json(document: dict) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def document_sha256(document: dict) -> str:
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def empty_document() -> dict:
    return {"rules": [], "true_up": {"mode": "full_cost", "central_owner": None}}


def _text(value) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, str)):
        text = str(value).strip()
        return text or None
    return None


def _condition(where: str, index: int, raw, problems: list[Problem]) -> dict | None:
    label = f"conditions[{index}]"
    if not isinstance(raw, dict):
        problems.append((where, label, "Each condition needs a field, an op and (usually) a value."))
        return None
    unknown = set(raw) - {"field", "op", "value"}
    if unknown:
        problems.append((where, label, f"Unknown keys: {', '.join(sorted(unknown))}."))
    field = _text(raw.get("field"))
    if field is None or not (field in FIELDS or (field.startswith("tag:") and len(field) > 4)):
        problems.append(
            (where, f"{label}.field", f"Use tag:<dimension> or one of {', '.join(FIELDS)}; got {raw.get('field')!r}.")
        )
        return None
    op = raw.get("op")
    if op not in OPS:
        problems.append((where, f"{label}.op", f"Use one of {', '.join(OPS)}; got {op!r}."))
        return None
    value = raw.get("value")
    if op in ("exists", "missing"):
        if value is not None:
            problems.append((where, f"{label}.value", f"'{op}' takes no value."))
            return None
        return {"field": field, "op": op}
    if field == "is_retry":
        if op != "equals" or not isinstance(value, bool):
            problems.append((where, f"{label}.value", "is_retry takes 'equals' with true or false."))
            return None
        return {"field": field, "op": op, "value": value}
    if op == "in":
        items = [_text(v) for v in value] if isinstance(value, list) else [None]
        if not items or None in items:
            problems.append((where, f"{label}.value", "'in' takes a non-empty list of values."))
            return None
        return {"field": field, "op": op, "value": sorted(set(items))}
    text = _text(value)
    if text is None:
        problems.append((where, f"{label}.value", f"'{op}' needs a value."))
        return None
    return {"field": field, "op": op, "value": text}


def _weight(where: str, label: str, raw, problems: list[Problem], *, fixed: bool) -> str | None:
    if raw is None:
        return None
    try:
        weight = Decimal(str(raw))
    except InvalidOperation:
        weight = None
    if weight is None or not weight.is_finite():
        problems.append((where, label, f"Give the percentage as a number such as 12.5; got {raw!r}."))
        return None
    if weight <= 0:
        problems.append((where, label, "A weight or percentage must be more than 0."))
        return None
    if fixed and weight > 100:
        problems.append((where, label, "A fixed percentage must be more than 0 and at most 100."))
        return None
    return format(weight.normalize(), "f")


def _rule(index: int, raw, problems: list[Problem]) -> dict | None:
    where = rule_label(index, raw)
    if not isinstance(raw, dict):
        problems.append((where, "rule", "Each rule is a mapping with kind, name and conditions."))
        return None
    kind = raw.get("kind")
    if kind not in KINDS:
        problems.append((where, "kind", f"Use one of {', '.join(KINDS)}; got {kind!r}."))
        return None
    unknown = set(raw) - COMMON_KEYS - KIND_KEYS[kind]
    if unknown:
        problems.append((where, "rule", f"Keys not used by a {kind} rule: {', '.join(sorted(unknown))}."))
    name = _text(raw.get("name"))
    if name is None:
        problems.append((where, "name", "Every rule needs a name."))
    rule: dict = {"kind": kind, "name": name or ""}
    raw_conditions = raw.get("conditions") or []
    if not isinstance(raw_conditions, list):
        problems.append((where, "conditions", "Conditions are a list."))
        raw_conditions = []
    conditions = [_condition(where, i, c, problems) for i, c in enumerate(raw_conditions)]
    rule["conditions"] = [c for c in conditions if c is not None]
    if kind == "direct":
        owner = _text(raw.get("owner"))
        if owner is None:
            problems.append((where, "owner", "A direct rule names one budget owner (cost-centre code)."))
        rule["owner"] = owner
    elif kind == "tag_map":
        dimension = _text(raw.get("dimension"))
        if dimension is None:
            problems.append((where, "dimension", "A tag map names the tag dimension it maps, e.g. team."))
        rule["dimension"] = dimension
        mapping = raw.get("mapping")
        if mapping is None:
            rule["mapping"] = None
        elif not isinstance(mapping, dict) or not all(_text(k) and _text(v) for k, v in mapping.items()):
            problems.append((where, "mapping", "The mapping is value: owner code pairs, e.g. search: CC-1101."))
            rule["mapping"] = None
        else:
            rule["mapping"] = {_text(k): _text(v) for k, v in sorted(mapping.items(), key=lambda kv: str(kv[0]))}
    else:
        source = raw.get("source", "conditions")
        if source not in SOURCES:
            problems.append((where, "source", f"Use one of {', '.join(SOURCES)}; got {source!r}."))
        method = raw.get("method")
        if method not in METHODS:
            problems.append((where, "method", f"Use one of {', '.join(METHODS)}; got {method!r}."))
        usage_basis = raw.get("usage_basis")
        if method == "usage" and usage_basis not in USAGE_BASES:
            problems.append((where, "usage_basis", "A usage split is by requests or by tokens."))
        elif method != "usage" and usage_basis is not None:
            problems.append((where, "usage_basis", "usage_basis only applies to the usage method."))
        same_provider = raw.get("same_provider", False)
        if not isinstance(same_provider, bool):
            problems.append((where, "same_provider", "same_provider is true or false."))
        elif same_provider and method != "proportional":
            problems.append((where, "same_provider", "same_provider only applies to the proportional method."))
        targets = []
        raw_targets = raw.get("targets") or []
        if not isinstance(raw_targets, list):
            problems.append((where, "targets", "Targets are a list of {owner, weight_pct}."))
            raw_targets = []
        for i, target in enumerate(raw_targets):
            label = f"targets[{i}]"
            if isinstance(target, str):
                target = {"owner": target}
            if not isinstance(target, dict) or _text(target.get("owner")) is None:
                problems.append((where, label, "Each target names a budget owner."))
                continue
            # fixed: the target's percentage; other methods: an optional weight on the target's basis.
            weight = _weight(where, f"{label}.weight_pct", target.get("weight_pct"), problems, fixed=method == "fixed")
            if method == "fixed" and weight is None and target.get("weight_pct") is None:
                problems.append((where, f"{label}.weight_pct", "A fixed split needs a percentage for every target."))
            targets.append({"owner": _text(target["owner"]), "weight_pct": weight})
        rule.update(
            {
                "source": source,
                "method": method,
                "targets": targets,
                "usage_basis": usage_basis if method == "usage" else None,
                "same_provider": bool(same_provider) if isinstance(same_provider, bool) else False,
            }
        )
    return rule


def normalise(raw) -> tuple[dict, list[Problem]]:
    """The canonical document and every shape problem (an empty list means the shape is right)."""
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        return empty_document(), [("document", "document", "The file must be a mapping with rules and true_up.")]
    unknown = set(raw) - {"rules", "true_up", "rule_set", "description", "version"}
    if unknown:
        problems.append(("document", "document", f"Unknown top-level keys: {', '.join(sorted(unknown))}."))
    raw_rules = raw.get("rules") or []
    if not isinstance(raw_rules, list):
        problems.append(("document", "rules", "rules is a list."))
        raw_rules = []
    rules = [r for r in (_rule(i, raw, problems) for i, raw in enumerate(raw_rules)) if r is not None]
    seen: dict[str, int] = {}
    for i, rule in enumerate(raw_rules):
        name = _text(rule.get("name")) if isinstance(rule, dict) else None
        if name and name in seen:
            problems.append((rule_label(i, rule), "name", f"The name is already used by rules[{seen[name]}]."))
        elif name:
            seen[name] = i
    raw_true_up = raw.get("true_up") or {}
    if not isinstance(raw_true_up, dict):
        problems.append(("true_up", "true_up", "true_up is a mapping with mode and central_owner."))
        raw_true_up = {}
    mode = raw_true_up.get("mode", "full_cost")
    if mode not in TRUE_UP_MODES:
        problems.append(("true_up", "mode", f"Use one of {', '.join(TRUE_UP_MODES)}; got {mode!r}."))
        mode = "full_cost"
    true_up = {"mode": mode, "central_owner": _text(raw_true_up.get("central_owner"))}
    return {"rules": rules, "true_up": true_up}, problems
