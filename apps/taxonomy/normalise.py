"""Tag normalisation: the one function every tag goes through (ingest, rules, imports). Pure, no ORM.

Keys: trimmed, lower-cased, runs of spaces and dashes become one underscore ("Cost Center" →
"cost_center"). Values: ``str()``, trimmed, inner whitespace collapsed, the dimension's case rule,
then the dimension's aliases and canonical values looked up case-insensitively ("Prod " →
"production"). Empty values are dropped, never defaulted: a request without a team stays without
a team and shows up as a tagging gap.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

LOWER, PRESERVE, UPPER = "lower", "preserve", "upper"
MAX_VALUE_LENGTH = 200

_KEY_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_key(raw: str) -> str:
    return _KEY_SEPARATORS.sub("_", str(raw).strip().lower())


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


def lookup_form(text: str) -> str:
    """How aliases are stored and compared: trimmed, whitespace collapsed, lower case."""
    return collapse_whitespace(text).lower()


def apply_case_rule(text: str, case_rule: str) -> str:
    if case_rule == LOWER:
        return text.lower()
    if case_rule == UPPER:
        return text.upper()
    return text


def normalise_value_text(raw: str, case_rule: str) -> str:
    """Trim, collapse whitespace and apply the case rule (no alias lookup)."""
    return apply_case_rule(collapse_whitespace(raw), case_rule)


@dataclass(frozen=True)
class DimensionRule:
    key: str
    required: bool = False
    case_rule: str = LOWER


@dataclass(frozen=True)
class NormalisedTags:
    tags: dict[str, str]
    missing_required: tuple[str, ...] = ()
    unknown: tuple[tuple[str, str], ...] = ()


@dataclass
class TagNormaliser:
    """Built once per ingest job from plain data.

    ``dimensions``: the active dimensions. ``values``: dimension key → its accepted canonical
    values; a dimension absent from this mapping has no value list and accepts anything (e.g.
    customer). ``aliases``: dimension key → {alias or canonical value in any case: canonical}.
    Keys that are not a dimension are kept (normalised key, value trimmed, case kept).
    """

    dimensions: list[DimensionRule]
    values: dict[str, set[str]] = field(default_factory=dict)
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rules = {rule.key: rule for rule in self.dimensions}
        self._required = sorted(rule.key for rule in self.dimensions if rule.required)
        # Canonical values match case-insensitively too ("Search" → "search" on a preserve dimension
        # whose value is "search"); an explicit alias never overrides a canonical value.
        self._lookup: dict[str, dict[str, str]] = {}
        for key in set(self.values) | set(self.aliases):
            table = {lookup_form(alias): canonical for alias, canonical in self.aliases.get(key, {}).items()}
            table.update({lookup_form(value): value for value in self.values.get(key, ())})
            self._lookup[key] = table

    def normalise_value(self, key: str, raw: object) -> str | None:
        """The canonical value for one tag, or None when it is empty. Raises ValueError for a value
        that is not a single scalar."""
        if raw is None:
            return None
        if isinstance(raw, Mapping | list | tuple | set | frozenset):
            raise ValueError(f"Tag {key!r} must be a single value, not a list or an object.")
        text = collapse_whitespace(str(raw))
        if not text:
            return None
        if len(text) > MAX_VALUE_LENGTH:
            raise ValueError(f"Tag {key!r} is longer than {MAX_VALUE_LENGTH} characters.")
        if storage_problem(text) or storage_problem(key):
            raise ValueError(f"Tag {key!r} contains a NUL character or invalid Unicode.")
        rule = self._rules.get(key)
        if rule is not None:
            text = apply_case_rule(text, rule.case_rule)
        return self._lookup.get(key, {}).get(lookup_form(text), text)

    def normalise(self, raw: Mapping[str, object]) -> NormalisedTags:
        tags: dict[str, str] = {}
        for raw_key, raw_value in raw.items():
            key = normalise_key(raw_key)
            if not key:
                if raw_value in (None, ""):
                    continue
                raise ValueError(f"A tag with the value {str(raw_value)[:50]!r} has no name.")
            value = self.normalise_value(key, raw_value)
            if value is None:
                continue
            if key in tags and tags[key] != value:
                raise ValueError(f"Tag {key!r} is given twice with different values ({tags[key]!r}, {value!r}).")
            tags[key] = value
        missing = tuple(key for key in self._required if key not in tags)
        unknown = tuple(
            (key, value)
            for key, value in sorted(tags.items())
            if key in self._rules and key in self.values and value not in self.values[key]
        )
        return NormalisedTags(tags=dict(sorted(tags.items())), missing_required=missing, unknown=unknown)


def storage_problem(text: str) -> str:
    """What makes a string unstorable in PostgreSQL text or jsonb (NUL, a lone surrogate), or ""."""
    if "\x00" in text:
        return "must not contain a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid Unicode text (a lone surrogate)"
    return ""


def tagset_hash(tags: Mapping[str, str]) -> str:
    """sha256 of the canonical JSON of the tags: the same tags in any order give the same hash."""
    canonical = json.dumps(dict(tags), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
