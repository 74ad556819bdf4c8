"""Checks of what a tag dimension or value is written with, shared by the services and the catalog import.

Each returns the message for one value (or None): pure, reading no table.
"""

import re

from .models import CaseRule
from .normalise import MAX_VALUE_LENGTH

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
KEY_MAX_LENGTH = 64


def key_error(key: str) -> str | None:
    if not key:
        return "Give the dimension a key, e.g. team or cost_center."
    if len(key) > KEY_MAX_LENGTH:
        return f"A key has at most {KEY_MAX_LENGTH} characters."
    if not KEY_PATTERN.match(key):
        return "Use lower-case letters, digits and underscores, starting with a letter (e.g. cost_center)."
    return None


def case_rule_error(case_rule: str) -> str | None:
    if case_rule not in CaseRule.values:
        return f"Choose one of: {', '.join(CaseRule.values)}."
    return None


def value_text_error(value: str) -> str | None:
    if not value:
        return "Give the value, e.g. search."
    if len(value) > MAX_VALUE_LENGTH:
        return f"A value has at most {MAX_VALUE_LENGTH} characters."
    return None
