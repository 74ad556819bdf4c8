"""Cost centres and budgets as catalog files (YAML/JSON sections and CSV), for ``import_catalog`` and
``export_catalog``.

Two sections, both in ``SECTIONS`` (registered with the catalog from ``OwnersConfig.ready()``):

- ``budget_owners`` (the module-level ``export_section`` / ``validate_section`` / ``apply_section`` /
  ``CSV_COLUMNS`` / ``rows_from_csv`` / ``rows_to_csv``): one row per cost centre, keyed by ``code``::

      - code: CC-1100
        name: Search & Discovery
        parent: CC-1000            # code of the parent, or null for a division
        gl_account: 6420-AI-Services
        department: ENG-SEARCH
        company_code: US01
        erp_class: R&D
        location: US-SFO
        owner_users: [acme-owner]  # usernames of members with the budget-owner role
        is_active: true
        is_central: false

  Keys left out of a row keep the cost centre's current value (or the default for a new one).
- ``budgets`` (``export_budgets`` / ``validate_budgets`` / ``apply_budgets`` / ``BUDGET_CSV_COLUMNS`` /
  ``budget_rows_from_csv`` / ``budget_rows_to_csv``): ``{owner: CC-1101, period: "2026-10",
  amount: "12500.00", currency: USD}``, keyed by owner and month. Amounts are strings (or integers):
  a YAML float is refused, because it may already have lost a cent.

Validation looks at the state after the whole import (existing rows overlaid with the file), so a file
may add a division and its teams, move subtrees or deactivate a branch bottom-up in any row order.
``validate_section`` puts ``context["owner_codes"]`` (every code that exists after the import) in the
context for the sections validated after it. Rows missing from a file are left alone: nothing is deleted.
"""

import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model

from apps.core.csv import CsvWriter, read_records
from apps.tenancy.catalog import CatalogSection
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Role
from apps.tenancy.scoping import tenant_scoped

from . import services, snapshots, validation
from .models import Budget, BudgetOwner

User = get_user_model()

SECTION = "budget_owners"
BUDGET_SECTION = "budgets"

TEXT_FIELDS = ["name", *validation.ERP_FIELDS]
BOOL_FIELDS = ["is_active", "is_central"]
CSV_COLUMNS = ["code", "name", "parent", *validation.ERP_FIELDS, "owner_users", "is_active", "is_central"]
BUDGET_CSV_COLUMNS = ["owner", "period", "amount", "currency"]

Error = tuple[str, str, str]

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}


def _fold(code) -> str:
    return str(code).strip().casefold()


def _label(section: str, index: int, key: str | None) -> str:
    return f"{section}[{key}]" if key else f"{section}[{index}]"


# --- budget owners -----------------------------------------------------------------------------------


@tenant_scoped
def export_section(*, organization: Organization) -> list[dict]:
    owners = (
        BudgetOwner.objects.filter(organization=organization)
        .select_related("parent")
        .prefetch_related("owner_users")
        .order_by("code")
    )
    return [
        {
            "code": owner.code,
            "name": owner.name,
            "parent": owner.parent.code if owner.parent_id else None,
            **{field: getattr(owner, field) for field in validation.ERP_FIELDS},
            "owner_users": sorted(user.username for user in owner.owner_users.all()),
            "is_active": owner.is_active,
            "is_central": owner.is_central,
        }
        for owner in owners
    ]


@tenant_scoped
def owner_codes_after_import(*, organization: Organization, rows: list[dict]) -> set[str]:
    existing = set(BudgetOwner.objects.filter(organization=organization).values_list("code", flat=True))
    in_file = {str(row["code"]).strip() for row in rows if isinstance(row, dict) and row.get("code")}
    folded = {_fold(code) for code in existing}
    return existing | {code for code in in_file if _fold(code) not in folded}


@dataclass
class _Node:
    code: str
    parent: str | None  # folded code
    is_active: bool
    row_label: str | None  # None when the cost centre is not in the file


def _final_state(*, existing: dict[str, BudgetOwner], rows: list[tuple[str, dict]]) -> dict[str, _Node]:
    nodes = {
        key: _Node(
            code=owner.code,
            parent=_fold(owner.parent.code) if owner.parent_id else None,
            is_active=owner.is_active,
            row_label=None,
        )
        for key, owner in existing.items()
    }
    for label, row in rows:
        key = _fold(row["code"])
        current = nodes.get(key)
        parent = row.get("parent", ...) if current else row.get("parent")
        nodes[key] = _Node(
            code=str(row["code"]).strip(),
            parent=(current.parent if parent is ... else (_fold(parent) if parent else None)),
            is_active=row.get("is_active", current.is_active if current else True),
            row_label=label,
        )
    return nodes


def _hierarchy_errors(nodes: dict[str, _Node]) -> list[Error]:
    errors: list[Error] = []
    for key, node in nodes.items():
        if node.row_label is None:
            continue
        seen = [key]
        current = node.parent
        while current is not None and current in nodes:
            if current in seen:
                path = " → ".join(nodes[k].code for k in [*seen, current])
                errors.append((node.row_label, "parent", f"This would make a loop: {path}."))
                break
            seen.append(current)
            current = nodes[current].parent
    for node in nodes.values():
        parent = nodes.get(node.parent) if node.parent else None
        if parent is None or not node.is_active or parent.is_active:
            continue
        if node.row_label is not None:
            errors.append(
                (node.row_label, "is_active", f"{node.code} is active but its parent {parent.code} would be inactive.")
            )
        else:
            errors.append(
                (
                    parent.row_label,
                    "is_active",
                    f"{parent.code} would be inactive while {node.code} below it stays active: "
                    f"deactivate {node.code} too or move it.",
                )
            )
    return errors


def _owner_row_errors(
    *, organization: Organization, index: int, row, final_codes: set[str], seen: set[str]
) -> tuple[str, list[Error]]:
    if not isinstance(row, dict):
        label = _label(SECTION, index, None)
        return label, [(label, "", "Each row must be a mapping of field names to values.")]
    code = row.get("code")
    code = code.strip() if isinstance(code, str) else ""
    label = _label(SECTION, index, code)
    errors: list[Error] = []
    for field in sorted(set(row) - set(CSV_COLUMNS)):
        errors.append((label, field, f"Unknown field; use {', '.join(CSV_COLUMNS)}."))
    problem = validation.code_error(code)
    if problem:
        errors.append((label, "code", problem))
    elif _fold(code) in seen:
        errors.append((label, "code", f"{code} appears more than once in the file."))
    seen.add(_fold(code))
    texts = {}
    for field in TEXT_FIELDS:
        value = row.get(field, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors.append((label, field, "Write this as text."))
        else:
            texts[field] = value.strip()
    if "name" not in row:
        texts["name"] = ""
    for field, message in validation.text_field_errors(texts).items():
        errors.append((label, field, message))
    parent = row.get("parent")
    if parent not in (None, ""):
        if not isinstance(parent, str):
            errors.append((label, "parent", "Give the parent's code as text."))
        elif _fold(parent) == _fold(code):
            errors.append((label, "parent", "A cost centre cannot be its own parent."))
        elif _fold(parent) not in final_codes:
            errors.append((label, "parent", f"No cost centre has the code {parent!r}, here or in the file."))
    for field in BOOL_FIELDS:
        if field in row and not isinstance(row[field], bool):
            errors.append((label, field, "Use true or false."))
    usernames = row.get("owner_users", [])
    if not isinstance(usernames, list) or not all(isinstance(name, str) for name in usernames):
        errors.append((label, "owner_users", "Give a list of usernames."))
    else:
        errors.extend((label, "owner_users", message) for message in _owner_user_errors(organization, usernames))
    return label, errors


def _owner_user_errors(organization: Organization, usernames: list[str]) -> list[str]:
    roles = dict(
        Membership.objects.filter(organization=organization, user__username__in=usernames).values_list(
            "user__username", "role"
        )
    )
    messages = []
    for name in usernames:
        if name not in roles:
            messages.append(f"{name} is not a member of {organization.name}.")
        elif roles[name] != Role.BUDGET_OWNER:
            messages.append(f"{name} is not a budget owner here: give them the Budget owner role first.")
    return messages


@tenant_scoped
def validate_section(*, organization: Organization, rows: list[dict], context: dict) -> list[Error]:
    """Every problem in the rows, as (row label, field, message). Writes nothing to the database; sets
    ``context["owner_codes"]`` for the sections validated after this one."""
    context["owner_codes"] = owner_codes_after_import(organization=organization, rows=rows)
    existing = {
        _fold(owner.code): owner
        for owner in BudgetOwner.objects.filter(organization=organization).select_related("parent")
    }
    final_codes = {_fold(code) for code in context["owner_codes"]}
    errors: list[Error] = []
    valid_rows: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        label, row_errors = _owner_row_errors(
            organization=organization, index=index, row=row, final_codes=final_codes, seen=seen
        )
        errors.extend(row_errors)
        if not row_errors:
            valid_rows.append((label, row))
    if not errors:
        errors.extend(_hierarchy_errors(_final_state(existing=existing, rows=valid_rows)))
    return errors


def _top_down(rows: list[dict], existing: dict[str, BudgetOwner]) -> list[dict]:
    """File rows ordered so that a parent in the file comes before its children."""
    by_key = {_fold(row["code"]): row for row in rows}

    def depth(key: str) -> int:
        level, seen = 0, set()
        while key and key not in seen:
            seen.add(key)
            row = by_key.get(key)
            if row is not None and "parent" in row:
                key = _fold(row["parent"]) if row["parent"] else None
            elif key in existing:
                parent = existing[key].parent
                key = _fold(parent.code) if parent else None
            else:
                key = None
            level += 1
        return level

    return sorted(rows, key=lambda row: (depth(_fold(row["code"])), _fold(row["code"])))


@tenant_scoped
def apply_section(*, organization: Organization, rows: list[dict], actor) -> dict:
    """Create or update cost centres by code, each through the audited services. The caller has
    validated the rows and wraps every section's apply in one transaction."""
    errors = validate_section(organization=organization, rows=rows, context={})
    if errors:
        raise ValueError(f"apply_section called with invalid rows: {errors[:3]}")
    existing = {_fold(o.code): o for o in BudgetOwner.objects.filter(organization=organization)}
    ordered = _top_down(rows, existing)
    users = {u.username: u for u in User.objects.filter(memberships__organization=organization)}
    created: set[str] = set()
    changed: set[str] = set()
    # Top-down: create, move, rename and reactivate; a parent is in place before its children.
    for row in ordered:
        key = _fold(row["code"])
        data = {"code": row["code"].strip()}
        for field in TEXT_FIELDS:
            if field in row:
                data[field] = row[field] or ""
        if "parent" in row:
            data["parent"] = (
                BudgetOwner.objects.get(organization=organization, code__iexact=row["parent"].strip())
                if row["parent"]
                else None
            )
        if "owner_users" in row:
            data["owner_users"] = [users[name] for name in row["owner_users"]]
        if "is_central" in row:
            data["is_central"] = row["is_central"]
        owner = existing.get(key)
        if owner is None:
            data.setdefault("name", "")
            owner = services.budget_owner_create(
                organization=organization, actor=actor, is_active=row.get("is_active", True), **data
            )
            existing[key] = owner
            created.add(key)
            continue
        if row.get("is_active") is True:
            data["is_active"] = True
        before = snapshots.budget_owner_snapshot(BudgetOwner.objects.select_related("parent").get(pk=owner.pk))
        existing[key] = services.budget_owner_update(owner=owner, actor=actor, data=data)
        if snapshots.budget_owner_snapshot(existing[key]) != before:
            changed.add(key)
    # Bottom-up: deactivate, children before their parents.
    for row in reversed(ordered):
        key = _fold(row["code"])
        owner = existing[key]
        if row.get("is_active") is False and owner.is_active:
            existing[key] = services.budget_owner_set_active(
                owner=owner, active=False, actor=actor, reason="catalog import"
            )
            changed.add(key)
    updated = len(changed - created)
    return {"created": len(created), "updated": updated, "unchanged": len(rows) - len(created) - updated}


def _bool_from_csv(value: str):
    text = value.strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return value  # left as text so that validation reports it with its row


def rows_from_csv(text: str) -> list[dict]:
    """CSV columns as ``CSV_COLUMNS``; owner_users separated by ';'. An empty cell in is_active or
    is_central keeps the current value."""
    rows = []
    for record in read_records(text):
        row: dict = {}
        for column, value in record.items():
            if column is None:
                continue
            value = (value or "").strip()
            if column == "parent":
                row[column] = value or None
            elif column == "owner_users":
                row[column] = [name.strip() for name in value.split(";") if name.strip()]
            elif column in BOOL_FIELDS:
                if value:
                    row[column] = _bool_from_csv(value)
            else:
                row[column] = value
        rows.append(row)
    return rows


def rows_to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = CsvWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        record = dict(row)
        record["parent"] = row.get("parent") or ""
        record["owner_users"] = ";".join(row.get("owner_users", []))
        for field in BOOL_FIELDS:
            if field in row:
                record[field] = "true" if row[field] else "false"
        writer.writerow(record)
    return out.getvalue()


# --- budgets ------------------------------------------------------------------------------------------


@tenant_scoped
def export_budgets(*, organization: Organization) -> list[dict]:
    budgets = Budget.objects.filter(organization=organization).select_related("owner").order_by("owner__code", "period")
    return [
        {"owner": b.owner.code, "period": f"{b.period:%Y-%m}", "amount": str(b.amount), "currency": b.currency}
        for b in budgets
    ]


def _parse_period(value) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value if value.day == 1 else None
    if isinstance(value, str) and _MONTH.match(value.strip()):
        return datetime.strptime(value.strip(), "%Y-%m").date()
    return None


def _parse_amount(value) -> Decimal | None:
    if isinstance(value, bool | float):
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


@tenant_scoped
def validate_budgets(*, organization: Organization, rows: list[dict], context: dict) -> list[Error]:
    if "owner_codes" in context:
        owner_codes = {_fold(code) for code in context["owner_codes"]}
    else:
        owner_codes = {
            _fold(c) for c in BudgetOwner.objects.filter(organization=organization).values_list("code", flat=True)
        }
    errors: list[Error] = []
    seen: set[tuple[str, str]] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            label = _label(BUDGET_SECTION, index, None)
            errors.append((label, "", "Each row must be a mapping of field names to values."))
            continue
        owner, period_text = row.get("owner"), row.get("period")
        key = f"{owner} {period_text}" if isinstance(owner, str) and owner and period_text else None
        label = _label(BUDGET_SECTION, index, key)
        for field in sorted(set(row) - set(BUDGET_CSV_COLUMNS)):
            errors.append((label, field, f"Unknown field; use {', '.join(BUDGET_CSV_COLUMNS)}."))
        if not isinstance(owner, str) or not owner.strip():
            errors.append((label, "owner", "Give the cost centre's code."))
        elif _fold(owner) not in owner_codes:
            errors.append((label, "owner", f"No cost centre has the code {owner!r}, here or in the file."))
        period = _parse_period(period_text)
        if period is None:
            errors.append((label, "period", "Give the month as YYYY-MM, e.g. 2026-10."))
        amount = _parse_amount(row.get("amount"))
        if "amount" not in row:
            errors.append((label, "amount", 'Give the amount, e.g. "12500.00".'))
        elif isinstance(row["amount"], float):
            errors.append((label, "amount", 'Write the amount as a string, e.g. "12500.00", so no cent is lost.'))
        elif amount is None:
            errors.append((label, "amount", f"{row['amount']!r} is not an amount: write it like 12500.00."))
        else:
            problem = validation.amount_error(amount)
            if problem:
                errors.append((label, "amount", problem))
        currency = row.get("currency", organization.base_currency)
        problem = validation.base_currency_error(
            currency.strip().upper() if isinstance(currency, str) else "", base_currency=organization.base_currency
        )
        if problem:
            errors.append((label, "currency", problem))
        if isinstance(owner, str) and period is not None:
            natural_key = (_fold(owner), f"{period:%Y-%m}")
            if natural_key in seen:
                errors.append((label, "period", f"{owner} has more than one budget for {period:%Y-%m} in the file."))
            seen.add(natural_key)
    return errors


@tenant_scoped
def apply_budgets(*, organization: Organization, rows: list[dict], actor) -> dict:
    """Set each row's budget (create or replace by owner and month) through ``budget_set``."""
    errors = validate_budgets(organization=organization, rows=rows, context={})
    if errors:
        raise ValueError(f"apply_budgets called with invalid rows: {errors[:3]}")
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    owners = {_fold(o.code): o for o in BudgetOwner.objects.filter(organization=organization)}
    for row in rows:
        period = _parse_period(row["period"])
        existing = Budget.objects.filter(organization=organization, owner=owners[_fold(row["owner"])], period=period)
        before = existing.values_list("amount", "currency").first()
        budget, created = services.budget_set(
            organization=organization,
            actor=actor,
            owner=owners[_fold(row["owner"])],
            period=period,
            amount=_parse_amount(row["amount"]),
            currency=row.get("currency", organization.base_currency),
        )
        if created:
            counts["created"] += 1
        elif before == (budget.amount, budget.currency):
            counts["unchanged"] += 1
        else:
            counts["updated"] += 1
    return counts


def budget_rows_from_csv(text: str) -> list[dict]:
    rows = []
    for record in read_records(text):
        row = {column: (value or "").strip() for column, value in record.items() if column is not None}
        if row.get("currency") == "":
            del row["currency"]
        rows.append(row)
    return rows


def budget_rows_to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = CsvWriter(out, fieldnames=BUDGET_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# In import order: budgets name the cost centres created or updated above them.
SECTIONS: dict[str, CatalogSection] = {
    SECTION: CatalogSection(
        name=SECTION,
        csv_columns=CSV_COLUMNS,
        export_section=export_section,
        validate_section=validate_section,
        apply_section=apply_section,
        rows_from_csv=rows_from_csv,
        rows_to_csv=rows_to_csv,
    ),
    BUDGET_SECTION: CatalogSection(
        name=BUDGET_SECTION,
        csv_columns=BUDGET_CSV_COLUMNS,
        export_section=export_budgets,
        validate_section=validate_budgets,
        apply_section=apply_budgets,
        rows_from_csv=budget_rows_from_csv,
        rows_to_csv=budget_rows_to_csv,
    ),
}
