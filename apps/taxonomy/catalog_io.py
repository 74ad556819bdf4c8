"""The tag taxonomy as a catalog-file section (YAML/JSON) and as CSV, for ``import_catalog`` and
``export_catalog``.

Section ``taxonomy``: one row per dimension, keyed by ``key``, with its values keyed by ``value``::

    - key: environment
      label: Environment
      description: Where the request ran.
      required: true
      case_rule: lower            # lower | preserve | upper
      position: 40
      is_active: true
      values:
        - value: production
          description: ""
          owner: null             # cost-centre code, e.g. CC-9001
          is_active: true
          aliases: [prd, prod]    # the whole list: spellings not listed are removed from this value

Keys left out of a row keep the current value (or the default for a new dimension or value); values
and dimensions missing from a file are left alone: nothing is deleted. Values are matched ignoring
case and spacing. Validation looks at the state after the import (existing values and aliases
overlaid with the file), so an alias may move from one value to another in one file.

CSV: one line per value (a dimension without values gets one line with an empty ``value``), the
dimension's columns repeated on each of its lines, aliases separated by ``;``.
"""

import io
from typing import Any

from apps.core.csv import CsvWriter, read_records
from apps.owners.models import BudgetOwner
from apps.tenancy.catalog import CatalogSection
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from . import services, snapshots, validation
from .models import CaseRule, Granularity, TagAlias, TagDimension, TagValue
from .normalise import apply_case_rule, lookup_form, normalise_key, normalise_value_text

SECTION = "taxonomy"
CSV_COLUMNS = [
    "dimension",
    "label",
    "description",
    "required",
    "case_rule",
    "granularity",
    "position",
    "dimension_active",
    "value",
    "value_description",
    "owner",
    "value_active",
    "aliases",
]
DIMENSION_KEYS = {
    "key",
    "label",
    "description",
    "required",
    "case_rule",
    "granularity",
    "position",
    "is_active",
    "values",
}
VALUE_KEYS = {"value", "description", "owner", "is_active", "aliases"}

Error = tuple[str, str, str]

_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}


def _fold(code) -> str:
    return str(code).strip().casefold()


# --- export -----------------------------------------------------------------------------------------------


@tenant_scoped
def export_section(*, organization: Organization) -> list[dict]:
    values_by_dimension: dict[int, list[dict]] = {}
    values = (
        TagValue.objects.filter(organization=organization)
        .select_related("owner")
        .prefetch_related("aliases")
        .order_by("dimension_id", "value")
    )
    for tag_value in values:
        values_by_dimension.setdefault(tag_value.dimension_id, []).append(
            {
                "value": tag_value.value,
                "description": tag_value.description,
                "owner": tag_value.owner.code if tag_value.owner_id else None,
                "is_active": tag_value.is_active,
                "aliases": sorted(alias.alias for alias in tag_value.aliases.all()),
            }
        )
    return [
        {
            "key": dimension.key,
            "label": dimension.label,
            "description": dimension.description,
            "required": dimension.required,
            "case_rule": dimension.case_rule,
            "granularity": dimension.granularity,
            "position": dimension.position,
            "is_active": dimension.is_active,
            "values": values_by_dimension.get(dimension.pk, []),
        }
        for dimension in TagDimension.objects.filter(organization=organization).order_by("position", "key")
    ]


# --- validation -------------------------------------------------------------------------------------------


class _Owners:
    """Which owner codes a value may name: those that exist after the import (from the context the
    owners section filled in, else the database), and which of the existing ones are inactive."""

    def __init__(self, organization: Organization, context: dict):
        existing = dict(
            BudgetOwner.objects.filter(organization=organization).values_list("code", "is_active").iterator()
        )
        codes = context.get("owner_codes", existing.keys())
        self.known = {_fold(code) for code in codes}
        self.inactive = {_fold(code) for code, active in existing.items() if not active}

    def error(self, code) -> str | None:
        if code in (None, ""):
            return None
        if not isinstance(code, str):
            return "Give the cost-centre code as text, e.g. CC-1101."
        if _fold(code) not in self.known:
            return f"No cost centre has the code {code!r} (neither in this organisation nor in the file)."
        if _fold(code) in self.inactive:
            return f"{code} is inactive: reactivate it or name another cost centre."
        return None


def _check_bool(row: dict, name: str, errors: list, label: str, field: str) -> None:
    if name in row and not isinstance(row[name], bool):
        errors.append((label, field, "Use true or false."))


def _value_errors(
    *, label: str, dimension_key: str, case_rule: str, items: Any, owners: _Owners, errors: list[Error]
) -> list[tuple[str, dict]]:
    """Per-value checks; returns (field prefix, item) for the values that can be checked further."""
    if not isinstance(items, list):
        errors.append((label, "values", "Give the values as a list."))
        return []
    valid: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append((label, f"values[{index}]", "Each value is a mapping with at least `value`."))
            continue
        raw = item.get("value")
        prefix = f"values[{raw.strip()}]" if isinstance(raw, str) and raw.strip() else f"values[{index}]"
        count = len(errors)
        for unknown in sorted(set(item) - VALUE_KEYS):
            errors.append((label, f"{prefix}.{unknown}", f"Unknown column; use {', '.join(sorted(VALUE_KEYS))}."))
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            errors.append((label, f"{prefix}.value", "Give the value as text, e.g. search."))
            continue
        value = normalise_value_text(str(raw), case_rule)
        problem = validation.value_text_error(value)
        if problem:
            errors.append((label, f"{prefix}.value", problem))
        elif lookup_form(value) in seen:
            errors.append((label, f"{prefix}.value", f"{value} appears twice in {dimension_key}."))
        seen.add(lookup_form(value))
        if "description" in item and not isinstance(item["description"], str | None):
            errors.append((label, f"{prefix}.description", "Give the description as text."))
        _check_bool(item, "is_active", errors, label, f"{prefix}.is_active")
        problem = owners.error(item.get("owner"))
        if problem:
            errors.append((label, f"{prefix}.owner", problem))
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            errors.append((label, f"{prefix}.aliases", "Give the aliases as a list of spellings."))
        if len(errors) == count:
            valid.append((prefix, {**item, "value": value}))
    return valid


def _final_state_errors(
    *, label: str, dimension: TagDimension | None, items: list[tuple[str, dict]], errors: list[Error]
) -> None:
    """Aliases and values as they will be after the import: no alias equals a value or its own
    value, and no alias belongs to two values."""
    canonical: dict[str, str] = {}
    alias_owner: dict[str, str] = {}
    file_values = {lookup_form(item["value"]): (prefix, item) for prefix, item in items}
    if dimension is not None:
        for value in TagValue.objects.filter(dimension=dimension).values_list("value", flat=True):
            canonical[lookup_form(value)] = value
        for alias, value in TagAlias.objects.filter(dimension=dimension).values_list("alias", "value__value"):
            in_file = file_values.get(lookup_form(value))
            if in_file is None or "aliases" not in in_file[1]:
                alias_owner[alias] = value
    for folded, (_prefix, item) in file_values.items():
        canonical[folded] = canonical.get(folded, item["value"])
    for prefix, item in items:
        if lookup_form(item["value"]) in alias_owner:
            errors.append(
                (label, f"{prefix}.value", f"{item['value']} is an alias of {alias_owner[lookup_form(item['value'])]}.")
            )
    for prefix, item in items:
        for raw in item.get("aliases", []):
            alias = lookup_form(raw)
            if not alias:
                continue
            if alias == lookup_form(item["value"]):
                errors.append((label, f"{prefix}.aliases", f"“{raw}” already matches {item['value']}; drop it."))
            elif alias in canonical:
                errors.append((label, f"{prefix}.aliases", f"“{raw}” is a value of its own; it cannot be an alias."))
            elif alias in alias_owner and lookup_form(alias_owner[alias]) != lookup_form(item["value"]):
                errors.append((label, f"{prefix}.aliases", f"“{raw}” is already an alias of {alias_owner[alias]}."))
            else:
                alias_owner[alias] = item["value"]


def _dimension_errors(row: dict, dimension: TagDimension | None, label: str, errors: list[Error]) -> None:
    for unknown in sorted(set(row) - DIMENSION_KEYS):
        errors.append((label, unknown, f"Unknown column; use {', '.join(sorted(DIMENSION_KEYS))}."))
    if "label" in row or dimension is None:
        text = row.get("label")
        if not isinstance(text, str) or not text.strip():
            errors.append((label, "label", "Give the dimension a label, e.g. Team."))
        elif len(text.strip()) > TagDimension._meta.get_field("label").max_length:
            errors.append((label, "label", "At most 100 characters."))
    if "description" in row and not isinstance(row["description"], str | None):
        errors.append((label, "description", "Give the description as text."))
    for name in ("required", "is_active"):
        _check_bool(row, name, errors, label, name)
    if "granularity" in row and row["granularity"] not in Granularity.values:
        errors.append((label, "granularity", f"Choose one of: {', '.join(Granularity.values)}."))
    if "position" in row and (not isinstance(row["position"], int) or isinstance(row["position"], bool)):
        errors.append((label, "position", "Give the position as a whole number, e.g. 10."))
    elif "position" in row and row["position"] < 0:
        errors.append((label, "position", "The position cannot be negative."))
    if "case_rule" in row:
        problem = validation.case_rule_error(row["case_rule"])
        if problem:
            errors.append((label, "case_rule", problem))
        elif dimension is not None and row["case_rule"] != dimension.case_rule:
            stored = TagValue.objects.filter(dimension=dimension).values_list("value", flat=True)
            offending = sorted(v for v in stored if apply_case_rule(v, row["case_rule"]) != v)
            if offending:
                errors.append(
                    (
                        label,
                        "case_rule",
                        f"Values {', '.join(offending[:5])} do not follow the {row['case_rule']} rule: "
                        "import the change in two steps, through preserve, correcting the values in between.",
                    )
                )


@tenant_scoped
def validate_section(*, organization: Organization, rows: list[dict], context: dict) -> list[Error]:
    """Every problem in the rows, as (row label, field, message). Writes nothing."""
    errors: list[Error] = []
    owners = _Owners(organization, context)
    existing = {d.key: d for d in TagDimension.objects.filter(organization=organization)}
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append((f"{SECTION}[{index}]", "", "Each dimension is a mapping with at least `key`."))
            continue
        raw_key = row.get("key")
        key = normalise_key(raw_key) if isinstance(raw_key, str) else ""
        label = f"{SECTION}[{key}]" if key else f"{SECTION}[{index}]"
        problem = validation.key_error(key)
        if problem:
            errors.append((label, "key", problem))
            continue
        if key in seen:
            errors.append((label, "key", f"{key} appears twice in the file."))
            continue
        seen.add(key)
        dimension = existing.get(key)
        _dimension_errors(row, dimension, label, errors)
        case_rule = row.get("case_rule", dimension.case_rule if dimension else CaseRule.LOWER)
        if case_rule not in CaseRule.values:
            case_rule = CaseRule.PRESERVE  # already reported; check the values without guessing a case
        items = _value_errors(
            label=label,
            dimension_key=key,
            case_rule=case_rule,
            items=row.get("values", []),
            owners=owners,
            errors=errors,
        )
        _final_state_errors(label=label, dimension=dimension, items=items, errors=errors)
    return errors


# --- apply ------------------------------------------------------------------------------------------------


def _owner(organization: Organization, code) -> BudgetOwner | None:
    if not code:
        return None
    return BudgetOwner.objects.get(organization=organization, code__iexact=code.strip())


def _apply_values(*, organization: Organization, dimension: TagDimension, items: list[dict], actor) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = {lookup_form(v.value): v for v in TagValue.objects.filter(dimension=dimension)}
    wanted = [(item, normalise_value_text(str(item["value"]), dimension.case_rule)) for item in items]
    changed: set[int] = set()
    # First drop the aliases that leave a value, so another value in the file may take them.
    for item, value in wanted:
        current = existing.get(lookup_form(value))
        if current is None or "aliases" not in item:
            continue
        keep = {lookup_form(a) for a in item["aliases"]}
        for alias in TagAlias.objects.filter(value=current).exclude(alias__in=keep):
            services.tag_alias_remove(alias=alias, actor=actor)
            changed.add(current.pk)
    for item, value in wanted:
        current = existing.get(lookup_form(value))
        data: dict[str, Any] = {"value": value}
        if "description" in item:
            data["description"] = item["description"] or ""
        if "owner" in item:
            data["owner"] = _owner(organization, item["owner"])
        if "is_active" in item:
            data["is_active"] = item["is_active"]
        if "aliases" in item:
            data["aliases"] = item["aliases"]
        if current is None:
            services.tag_value_create(organization=organization, actor=actor, dimension=dimension, **data)
            counts["created"] += 1
            continue
        before = snapshots.value_snapshot(TagValue.objects.select_related("dimension", "owner").get(pk=current.pk))
        updated = services.tag_value_update(tag_value=current, actor=actor, data=data)
        if current.pk in changed or snapshots.value_snapshot(updated) != before:
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts


@tenant_scoped
def apply_section(*, organization: Organization, rows: list[dict], actor) -> dict:
    """Create or update dimensions by key and values by value, through the audited services. The
    caller has validated the rows and wraps every section's apply in one transaction. Counts
    dimensions and values together."""
    errors = validate_section(organization=organization, rows=rows, context={})
    if errors:
        raise ValueError(f"apply_section called with invalid rows: {errors[:3]}")
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        key = normalise_key(row["key"])
        data = {
            name: row[name]
            for name in ("label", "description", "required", "case_rule", "granularity", "position", "is_active")
            if name in row
        }
        if "description" in data:
            data["description"] = data["description"] or ""
        dimension = TagDimension.objects.filter(organization=organization, key=key).first()
        if dimension is None:
            dimension = services.tag_dimension_create(organization=organization, actor=actor, key=key, **data)
            counts["created"] += 1
        else:
            before = snapshots.dimension_snapshot(dimension)
            dimension = services.tag_dimension_update(dimension=dimension, actor=actor, data=data)
            counts["updated" if snapshots.dimension_snapshot(dimension) != before else "unchanged"] += 1
        for name, number in _apply_values(
            organization=organization, dimension=dimension, items=row.get("values", []), actor=actor
        ).items():
            counts[name] += number
    return counts


# --- CSV --------------------------------------------------------------------------------------------------


def _bool_from_csv(value: str):
    text = value.strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return value  # left as text so that validation reports it with its row


def _position_from_csv(value: str):
    return int(value) if value.isdigit() else value


def rows_from_csv(text: str) -> list[dict]:
    """Lines grouped into one row per dimension (in order of first appearance). An empty cell in a
    flag or the position keeps the current value; an empty ``aliases`` cell means no aliases."""
    rows: dict[str, dict] = {}
    for record in read_records(text):
        cell = {column: (value or "").strip() for column, value in record.items() if column is not None}
        key = cell.get("dimension", "")
        row = rows.get(key)
        if row is None:
            row = rows[key] = {"key": key, "values": []}
            for column, name in (
                ("label", "label"),
                ("description", "description"),
                ("case_rule", "case_rule"),
                ("granularity", "granularity"),
            ):
                if column in cell and (cell[column] or name == "description"):
                    row[name] = cell[column]
            for column, name in (("required", "required"), ("dimension_active", "is_active")):
                if cell.get(column):
                    row[name] = _bool_from_csv(cell[column])
            if cell.get("position"):
                row["position"] = _position_from_csv(cell["position"])
        if not cell.get("value"):
            continue
        item: dict = {"value": cell["value"]}
        if "value_description" in cell:
            item["description"] = cell["value_description"]
        if "owner" in cell:
            item["owner"] = cell["owner"] or None
        if cell.get("value_active"):
            item["is_active"] = _bool_from_csv(cell["value_active"])
        if "aliases" in cell:
            item["aliases"] = [alias.strip() for alias in cell["aliases"].split(";") if alias.strip()]
        row["values"].append(item)
    return list(rows.values())


def _csv_bool(row: dict, name: str) -> str:
    return ("true" if row[name] else "false") if name in row else ""


def rows_to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = CsvWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        dimension = {
            "dimension": row["key"],
            "label": row.get("label", ""),
            "description": row.get("description") or "",
            "required": _csv_bool(row, "required"),
            "case_rule": row.get("case_rule", ""),
            "granularity": row.get("granularity", ""),
            "position": row.get("position", ""),
            "dimension_active": _csv_bool(row, "is_active"),
        }
        values = row.get("values") or []
        if not values:
            writer.writerow(dimension)
        for item in values:
            writer.writerow(
                {
                    **dimension,
                    "value": item["value"],
                    "value_description": item.get("description") or "",
                    "owner": item.get("owner") or "",
                    "value_active": _csv_bool(item, "is_active"),
                    "aliases": ";".join(item.get("aliases", [])),
                }
            )
    return out.getvalue()


# Registered with the catalog from ``TaxonomyConfig.ready()``.
CATALOG_SECTION = CatalogSection(
    name=SECTION,
    csv_columns=CSV_COLUMNS,
    export_section=export_section,
    validate_section=validate_section,
    apply_section=apply_section,
    rows_from_csv=rows_from_csv,
    rows_to_csv=rows_to_csv,
)
