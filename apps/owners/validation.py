"""Checks of what a cost centre or a budget is written with, shared by the services and the catalog import.

Each returns the message for one value (or None): pure, reading no table.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from apps.core.ceilings import MAX_DECIMAL_MONEY

from .models import BudgetOwner

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
ERP_FIELDS = ("gl_account", "department", "company_code", "erp_class", "location")
BUDGET_DECIMAL_PLACES = 2


def code_error(code: str) -> str | None:
    max_length = BudgetOwner._meta.get_field("code").max_length
    if not code:
        return "Give the cost centre a code, e.g. CC-1001."
    if len(code) > max_length:
        return f"A code has at most {max_length} characters."
    if not CODE_PATTERN.match(code):
        return "Use letters, digits, '.', '_' or '-' in a code, starting with a letter or digit (no spaces)."
    return None


def text_field_errors(values: dict[str, str]) -> dict[str, str]:
    """Length and presence checks for name and the ERP references."""
    errors = {}
    if "name" in values and not values["name"]:
        errors["name"] = "Give the cost centre a name."
    for field, value in values.items():
        max_length = BudgetOwner._meta.get_field(field).max_length
        if value and len(value) > max_length:
            errors[field] = f"At most {max_length} characters."
    return errors


def currency_error(currency: str) -> str | None:
    if not CURRENCY_PATTERN.match(currency or ""):
        return "Use a three-letter ISO 4217 currency code in capitals, such as USD or EUR."
    return None


def base_currency_error(currency: str, *, base_currency: str) -> str | None:
    """A budget is compared with statements, which are in the organisation's base currency: a budget in
    another currency could only be compared through an exchange rate nobody chose, so it is refused."""
    problem = currency_error(currency)
    if problem:
        return problem
    if currency != base_currency:
        return (
            f"Budgets are kept in the organisation's base currency, {base_currency}: "
            f"write this budget in {base_currency}, not {currency}."
        )
    return None


def amount_error(amount) -> str | None:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return f"{amount!r} is not an amount: write it like 12500.00."
    if not value.is_finite():
        return "The amount must be a number."
    if value < 0:
        return "A budget cannot be negative."
    if value != value.quantize(Decimal(1).scaleb(-BUDGET_DECIMAL_PLACES)):
        return f"Budgets are kept to {BUDGET_DECIMAL_PLACES} decimal places."
    if value >= MAX_DECIMAL_MONEY:
        # A DecimalField is a REAL on SQLite: beyond ~15 significant digits it would lose cents.
        largest = MAX_DECIMAL_MONEY - Decimal(1).scaleb(-BUDGET_DECIMAL_PLACES)
        return f"That amount is too large: budgets go up to {largest:,}."
    return None


def period_error(period) -> str | None:
    if not isinstance(period, date):
        return "Give the month as YYYY-MM."
    if period.day != 1:
        return "A budget covers a calendar month: use the first day of the month."
    return None


# A threshold is a percentage of the month's budget with two decimals: above 0, at most 10 times the budget.
THRESHOLD_MAX_PCT = Decimal("1000.00")


def threshold_pct_error(pct) -> str | None:
    try:
        value = Decimal(str(pct))
    except (InvalidOperation, ValueError):
        return f"{pct!r} is not a percentage: write it like 80 or 100.00."
    if not value.is_finite():
        return "The percentage must be a number."
    if value <= 0:
        return "A threshold is a percentage of the budget above 0, e.g. 80."
    if value != value.quantize(Decimal("0.01")):
        return "Thresholds are kept to 2 decimal places."
    if value > THRESHOLD_MAX_PCT:
        return f"A threshold goes up to {THRESHOLD_MAX_PCT}% of the budget."
    return None
