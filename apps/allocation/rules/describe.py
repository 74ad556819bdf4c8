"""Plain-language rendering of a rule-set version: the documented allocation model."""

from ..models import RuleSetVersion
from .selectors import owner_names

FIELD_WORDS = {
    "provider": "provider",
    "model": "model",
    "service_tier": "service tier",
    "cost_source": "cost source",
}


def _condition_text(cond: dict) -> str:
    fld, op, value = cond["field"], cond["op"], cond.get("value")
    if fld == "is_retry":
        return "retries" if value else "first attempts (not retries)"
    name = fld[4:] if fld.startswith("tag:") else FIELD_WORDS[fld]
    if op == "equals":
        return f"{name}={value}"
    if op == "in":
        return f"{name} in {', '.join(value)}"
    if op == "glob":
        return f"{name} matching {value}"
    if op == "exists":
        return f"with a {name}"
    return f"without a {name}"


def _conditions_text(conditions: list[dict]) -> str:
    return " and ".join(_condition_text(c) for c in conditions)


def _requests(conditions: list[dict]) -> str:
    if not conditions:
        return "All remaining requests"
    tags = [c for c in conditions if c["field"].startswith("tag:") and c["op"] in ("equals", "in", "glob")]
    others = [c for c in conditions if c not in tags]
    text = "Requests"
    if tags:
        text += f" tagged {_conditions_text(tags)}"
    if others:
        text += f"{' and' if tags else ''} with {_conditions_text(others)}"
    return text


def _owner(code: str | None, names: dict) -> str:
    if not code:
        return "(no owner)"
    return f"{code} {names[code]}" if code in names else code


def _owner_list(codes: list[str], names: dict) -> str:
    shown = [_owner(c, names) for c in codes]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _pool_text(rule: dict, names: dict) -> str:
    source = rule["source"]
    if source == "unallocated":
        what = "Cost that no earlier rule claims"
    elif source == "true_up":
        what = "The invoice true-up (invoice minus estimate)"
    else:
        what = f"{rule['name']} cost ({_conditions_text(rule['conditions'])})" if rule["conditions"] else rule["name"]
    codes = [t["owner"] for t in rule["targets"]]
    method = rule["method"]
    if method == "fixed":
        parts = [f"{_owner(t['owner'], names)} {t['weight_pct']}%" for t in rule["targets"]]
        how = f"is split in fixed shares: {', '.join(parts)}"
    elif method == "even":
        how = f"is shared evenly among {_owner_list(codes, names)}"
    elif method == "proportional":
        basis = "direct spend with the same provider" if rule["same_provider"] else "direct spend"
        how = f"is shared among {_owner_list(codes, names)} in proportion to their {basis}"
    else:
        how = f"is shared among {_owner_list(codes, names)} in proportion to their {rule['usage_basis']}"
    weighted = [t for t in rule["targets"] if t["weight_pct"] is not None]
    if method != "fixed" and weighted:
        how += ", weighted " + ", ".join(f"{t['owner']} {t['weight_pct']}%" for t in weighted)
    return f"{what} {how}."


def rule_sentence(rule: dict, names: dict) -> str:
    kind = rule["kind"]
    if kind == "direct":
        return f"{_requests(rule['conditions'])} go to {_owner(rule['owner'], names)}."
    if kind == "tag_map":
        scope_text = f" among requests with {_conditions_text(rule['conditions'])}" if rule["conditions"] else ""
        if rule["mapping"] is None:
            return (
                f"Requests are charged by their {rule['dimension']} tag{scope_text}, to the budget owner linked "
                f"to each {rule['dimension']} value in the taxonomy."
            )
        pairs = "; ".join(f"{rule['dimension']}={v} → {_owner(c, names)}" for v, c in rule["mapping"].items())
        return f"Requests are charged by their {rule['dimension']} tag{scope_text}: {pairs}."
    return _pool_text(rule, names)


def true_up_sentence(true_up: dict, names: dict) -> str:
    mode = true_up["mode"]
    if mode == "full_cost":
        return (
            "Invoice true-up: each provider's difference between invoice and estimate is spread over the budget "
            "owners in proportion to their estimated cost with that provider, so charges tie to the invoice."
        )
    if mode == "usage_only":
        return (
            "Invoice true-up: each provider's difference between invoice and estimate is booked to "
            f"{_owner(true_up['central_owner'], names)}; the others pay their estimated usage only."
        )
    return "Invoice true-up: none; budget owners are charged their estimated usage and the difference is not allocated."


def describe_lines(version: RuleSetVersion) -> list[str]:
    names = owner_names(organization=version.organization)
    lines = [f"{i}. {rule_sentence(rule, names)}" for i, rule in enumerate(version.document["rules"], start=1)]
    lines.append("Whatever no rule claims stays Unallocated.")
    lines.append(true_up_sentence(version.document["true_up"], names))
    return lines


def describe_markdown(version: RuleSetVersion) -> str:
    rule_set = version.rule_set
    if version.is_published:
        who = version.published_by.get_username() if version.published_by_id else "system"
        status = f"published {version.published_at:%Y-%m-%d %H:%M} UTC by {who}"
    else:
        status = "draft, not yet published"
    out = [
        f"# Allocation model: {rule_set.name}, version {version.number}",
        "",
        f"Organisation: {version.organization.name}. Status: {status}. Rules fingerprint (SHA-256): "
        f"`{version.sha256}`.",
    ]
    if rule_set.description:
        out += ["", rule_set.description]
    out += ["", "## Rules, applied in order", "", "The first rule that matches a request claims its cost.", ""]
    lines = describe_lines(version)
    out += lines[:-2] or ["(No rules.)"]
    out += ["", "## Unallocated", "", lines[-2], "", "## Invoice true-up", "", lines[-1], ""]
    return "\n".join(out)
