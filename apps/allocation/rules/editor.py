"""What the portal's rules editor does to a document, in pure Python (no ORM).

The editor changes one rule or the true-up at a time, but always saves the *whole* document through
``services.draft_update`` so validation and audit stay in one place. The functions here build that
whole document from the stored one, and put validation problems into words a finance user reads
("Rule 2 “Teams”, condition 1, value: …") next to the rule they concern.
"""

import copy
import re
from dataclasses import dataclass

from .compare import VersionDiff
from .describe import rule_sentence, true_up_sentence
from .document import Problem

# --- document edits -----------------------------------------------------------------------------


def document_with_rule(document: dict, index: int, rule: dict) -> dict:
    """The document with rule ``index`` replaced (``index == len(rules)`` appends)."""
    out = copy.deepcopy(document)
    rules = out.setdefault("rules", [])
    if index == len(rules):
        rules.append(rule)
    else:
        rules[index] = rule
    return out


def document_with_rule_moved(document: dict, index: int, offset: int) -> dict:
    """The document with rule ``index`` moved ``offset`` places (-1 up, +1 down), clamped to the list."""
    out = copy.deepcopy(document)
    rules = out["rules"]
    target = min(max(index + offset, 0), len(rules) - 1)
    rules.insert(target, rules.pop(index))
    return out


def document_without_rule(document: dict, index: int) -> dict:
    out = copy.deepcopy(document)
    del out["rules"][index]
    return out


def document_with_true_up(document: dict, true_up: dict) -> dict:
    out = copy.deepcopy(document)
    out["true_up"] = dict(true_up)
    return out


# --- problems in words --------------------------------------------------------------------------

_WHERE_RULE = re.compile(r"^rules\[(\d+)\]")
INDEXED_FIELD = re.compile(r"^(conditions|targets)\[(\d+)\](?:\.(\w+))?$")
FIELD_WORDS = {
    "name": "name",
    "kind": "kind",
    "owner": "owner",
    "dimension": "dimension",
    "mapping": "mapping",
    "conditions": "conditions",
    "targets": "targets",
    "source": "source",
    "method": "method",
    "usage_basis": "usage basis",
    "same_provider": "same provider",
    "mode": "true-up policy",
    "central_owner": "central owner",
    "field": "field",
    "op": "operator",
    "value": "value",
    "weight_pct": "percentage",
}
_SINGULAR = {"conditions": "condition", "targets": "target"}


def rule_index_of(where: str) -> int | None:
    """The rule a problem concerns ("rules[2] (Teams)" → 2), or None for the true-up or the document."""
    match = _WHERE_RULE.match(where)
    return int(match.group(1)) if match else None


def field_words(fld: str) -> str:
    """ "conditions[0].value" → "condition 1, value"; "mapping.search" → "mapping of search"."""
    match = INDEXED_FIELD.match(fld)
    if match:
        words = f"{_SINGULAR[match.group(1)]} {int(match.group(2)) + 1}"
        return f"{words}, {FIELD_WORDS.get(match.group(3), match.group(3))}" if match.group(3) else words
    if fld.startswith("mapping."):
        return f"mapping of {fld[len('mapping.') :]}"
    if fld in ("rule", "document", "rules", "true_up"):
        return ""
    return FIELD_WORDS.get(fld, fld.replace("_", " "))


@dataclass(frozen=True)
class ProblemInWords:
    rule_index: int | None  # 0-based; None: the true-up or the whole document
    subject: str  # "Rule 2 “Teams”", "Invoice true-up", "The document"
    field: str  # "condition 1, value", or "" when the problem is about the whole rule
    message: str

    @property
    def text(self) -> str:
        return f"{self.subject}, {self.field}: {self.message}" if self.field else f"{self.subject}: {self.message}"


def problems_in_words(problems: list[Problem], document: dict | None = None) -> list[ProblemInWords]:
    rules = (document or {}).get("rules") or []
    out = []
    for where, fld, message in problems:
        index = rule_index_of(where)
        if index is not None:
            name = rules[index].get("name") if index < len(rules) and isinstance(rules[index], dict) else None
            if name is None:
                name_match = re.match(r"^rules\[\d+\] \((.*)\)$", where)
                name = name_match.group(1) if name_match else ""
            subject = f"Rule {index + 1} “{name}”" if name else f"Rule {index + 1}"
        elif where == "true_up":
            subject = "Invoice true-up"
        else:
            subject = "The document"
        out.append(ProblemInWords(index, subject, field_words(fld), message))
    return out


# --- compare in words ---------------------------------------------------------------------------

KEY_WORDS = {
    "kind": "kind",
    "conditions": "conditions",
    "owner": "owner",
    "dimension": "dimension",
    "mapping": "mapping",
    "source": "source",
    "method": "method",
    "targets": "targets and shares",
    "usage_basis": "usage basis",
    "same_provider": "same-provider basis",
}


@dataclass(frozen=True)
class RuleChange:
    name: str
    what: list[str]  # the parts that changed, in words
    before: str
    after: str


@dataclass(frozen=True)
class DiffInWords:
    added: list[tuple[str, str]]  # (name, sentence in the newer version)
    removed: list[tuple[str, str]]  # (name, sentence in the older version)
    changed: list[RuleChange]
    moved: list[tuple[str, int, int]]
    true_up: tuple[str, str] | None  # (before, after) sentences

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.moved or self.true_up)


def diff_in_words(diff: VersionDiff, document_a: dict, document_b: dict, owner_names: dict) -> DiffInWords:
    rules_a = {r["name"]: r for r in document_a.get("rules", [])}
    rules_b = {r["name"]: r for r in document_b.get("rules", [])}
    changed = [
        RuleChange(
            name=name,
            what=[KEY_WORDS.get(key, key.replace("_", " ")) for key in keys],
            before=rule_sentence(rules_a[name], owner_names),
            after=rule_sentence(rules_b[name], owner_names),
        )
        for name, keys in diff.changed.items()
    ]
    true_up = None
    if diff.true_up:
        before, after = diff.true_up
        true_up = (
            true_up_sentence(before or {"mode": "none"}, owner_names),
            true_up_sentence(after or {"mode": "none"}, owner_names),
        )
    return DiffInWords(
        added=[(name, rule_sentence(rules_b[name], owner_names)) for name in diff.added],
        removed=[(name, rule_sentence(rules_a[name], owner_names)) for name in diff.removed],
        changed=changed,
        moved=list(diff.moved),
        true_up=true_up,
    )
