"""An organisation's negotiated prices and discounts as a catalog section, ``price_overrides``::

    - provider: anthropic
      model: ""                 # a model code, or empty for every model of the provider
      org_model: ""             # or one of the organisation's own model names (section org_models)
      usage_type: ""            # input, output, cache_read, cache_write_5m, cache_write_1h, a tool; empty = all
      service_tier: ""          # standard, batch, priority, flex; empty = all
      price: null               # a negotiated price as a string ("2.25") with its unit ...
      unit: ""                  # token, 1k_tokens, 1m_tokens, call, 1k_calls
      currency: ""              # the negotiated price's currency (default USD); empty for a discount
      discount_pct: "8"         # ... or a discount off list, in percent
      effective_from: 2025-01-01
      effective_to: null        # exclusive
      note: Enterprise agreement EA-2025-114
      is_active: true

And the organisation's own model names as the section ``org_models`` (applied before the overrides)::

    - provider: azure-openai
      name: globex-gpt4o-prod   # as usage reports it (any case)
      maps_to: gpt-4o           # a list model code of the provider, or empty: priced only by overrides
      note: West Europe deployment
      is_active: true

An override row is keyed by (provider, model, org_model, usage_type, service_tier, effective_from), a
model name by (provider, name): importing it again
updates that override. Prices and discounts are strings (or integers); a YAML float is refused,
because it may already have lost a digit. Rows missing from the file are left alone.
"""

import io
from datetime import date
from decimal import Decimal, InvalidOperation

from apps.core.csv import CsvWriter, read_records
from apps.tenancy.catalog import CatalogSection
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from . import services, snapshots
from .models import AiModel, OrgModel, PriceOverride, Provider

SECTION = "price_overrides"
CSV_COLUMNS = [
    "provider",
    "model",
    "org_model",
    "usage_type",
    "service_tier",
    "price",
    "unit",
    "currency",
    "discount_pct",
    "effective_from",
    "effective_to",
    "note",
    "is_active",
]
TEXT_FIELDS = ("model", "org_model", "usage_type", "service_tier", "unit", "currency", "note")

Error = tuple[str, str, str]


def _plain(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


@tenant_scoped
def export_section(*, organization: Organization) -> list[dict]:
    overrides = PriceOverride.objects.filter(organization=organization).select_related("provider", "model", "org_model")
    rows = [
        {
            "provider": o.provider.code,
            "model": o.model.code if o.model_id else "",
            "org_model": o.org_model.name if o.org_model_id else "",
            "usage_type": o.usage_type,
            "service_tier": o.service_tier,
            "price": _plain(o.price),
            "unit": o.unit,
            "currency": o.currency,
            "discount_pct": _plain(o.discount_pct),
            "effective_from": o.effective_from.isoformat(),
            "effective_to": o.effective_to.isoformat() if o.effective_to else None,
            "note": o.note,
            "is_active": o.is_active,
        }
        for o in overrides
    ]
    return sorted(
        rows,
        key=lambda r: (
            r["provider"],
            r["model"],
            r["org_model"],
            r["usage_type"],
            r["service_tier"],
            r["effective_from"],
        ),
    )


def _parse_date(value) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _parse_number(value):
    """Decimal, None for empty, or the string "float" / "invalid" for what cannot be taken."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return "float"
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return "invalid"
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return "invalid"
    return number if number.is_finite() else "invalid"


def _key(row: dict) -> tuple:
    return (
        str(row.get("provider") or "").strip().lower(),
        str(row.get("model") or "").strip().lower(),
        str(row.get("org_model") or "").strip().lower(),
        str(row.get("usage_type") or "").strip().lower(),
        str(row.get("service_tier") or "").strip().lower(),
        _parse_date(row.get("effective_from")),
    )


def _label(index: int, row) -> str:
    if not isinstance(row, dict) or not row.get("provider") or _parse_date(row.get("effective_from")) is None:
        return f"{SECTION}[{index}]"
    provider, model, org_model, usage_type, tier, start = _key(row)
    target = model or (f"{org_model} (ours)" if org_model else "*")
    return f"{SECTION}[{provider}/{target} {usage_type or '*'} {tier or '*'} {start.isoformat()}]"


def _org_model(organization, provider, name: str, context: dict | None) -> OrgModel | None:
    """A stored model name of the organisation, or one the same file's org_models section creates."""
    found = OrgModel.objects.filter(organization=organization, provider=provider, name=name.lower()).first()
    if found is None and context is not None:
        found = context.get("org_models", {}).get((provider.code, name.lower()))
    return found


def _resolve(row: dict, label: str, errors: list[Error], organization=None, context: dict | None = None) -> dict | None:
    """Row → keyword arguments for the services, or None (with errors added)."""
    found = len(errors)
    for field in sorted(set(row) - set(CSV_COLUMNS)):
        errors.append((label, field, f"Unknown field; use {', '.join(CSV_COLUMNS)}."))
    provider = Provider.objects.filter(code__iexact=str(row.get("provider") or "").strip()).first()
    if provider is None:
        errors.append((label, "provider", f"No provider has the code {row.get('provider')!r}."))
    texts = {}
    for field in TEXT_FIELDS:
        value = row.get(field) or ""
        if not isinstance(value, str):
            errors.append((label, field, "Write this as text."))
        texts[field] = str(value).strip()
    model = None
    if provider is not None and texts["model"]:
        model = AiModel.objects.filter(provider=provider, code__iexact=texts["model"]).first()
        if model is None:
            errors.append((label, "model", f"{provider.name} has no model {texts['model']!r}."))
    org_model = None
    if provider is not None and texts["org_model"] and organization is not None:
        org_model = _org_model(organization, provider, texts["org_model"], context)
        if org_model is None:
            errors.append((label, "org_model", f"No model name {texts['org_model']!r} of {provider.name} is ours."))
    numbers = {}
    for field in ("price", "discount_pct"):
        number = _parse_number(row.get(field))
        if number == "float":
            errors.append((label, field, f'Write the number as a string, e.g. "{row[field]}", so no digit is lost.'))
        elif number == "invalid":
            errors.append((label, field, f"{row.get(field)!r} is not a number."))
        numbers[field] = number if isinstance(number, Decimal) else None
    dates = {}
    for field in ("effective_from", "effective_to"):
        value = row.get(field)
        dates[field] = _parse_date(value)
        if value not in (None, "") and dates[field] is None:
            errors.append((label, field, "Give the date as YYYY-MM-DD."))
    if "is_active" in row and not isinstance(row["is_active"], bool):
        errors.append((label, "is_active", "Use true or false."))
    if len(errors) > found:
        return None
    return {
        "provider": provider,
        "model": model,
        "org_model": org_model,
        "usage_type": texts["usage_type"].lower(),
        "service_tier": texts["service_tier"].lower(),
        "price": numbers["price"],
        "unit": texts["unit"],
        "currency": texts["currency"].upper(),
        "discount_pct": numbers["discount_pct"],
        "effective_from": dates["effective_from"],
        "effective_to": dates["effective_to"],
        "note": texts["note"],
        "is_active": row.get("is_active", True),
    }


def _existing(organization: Organization) -> dict[tuple, PriceOverride]:
    return {
        (
            o.provider.code.lower(),
            o.model.code.lower() if o.model_id else "",
            o.org_model.name if o.org_model_id else "",
            o.usage_type,
            o.service_tier,
            o.effective_from,
        ): o
        for o in PriceOverride.objects.filter(organization=organization).select_related(
            "provider", "model", "org_model"
        )
    }


def _overlaps(a: dict, b: dict) -> bool:
    a_end, b_end = a["effective_to"], b["effective_to"]
    return (b_end is None or a["effective_from"] < b_end) and (a_end is None or b["effective_from"] < a_end)


def _stored_values(override: PriceOverride) -> dict:
    return {
        "provider": override.provider,
        "model": override.model,
        "org_model": override.org_model,
        "usage_type": override.usage_type,
        "service_tier": override.service_tier,
        "effective_from": override.effective_from,
        "effective_to": override.effective_to,
        "is_active": override.is_active,
    }


@tenant_scoped
def validate_section(*, organization: Organization, rows: list[dict], context: dict) -> list[Error]:
    """Every problem in the rows as (row label, field, message). Writes nothing. Overlaps are checked on
    the state after the whole file (stored overrides overlaid with the rows), so one file may end a
    term and start the next."""
    errors: list[Error] = []
    existing = _existing(organization)
    final: dict[tuple, tuple[str | None, dict]] = {key: (None, _stored_values(o)) for key, o in existing.items()}
    seen: dict[tuple, str] = {}
    for index, row in enumerate(rows):
        label = _label(index, row)
        if not isinstance(row, dict):
            errors.append((label, "", "Each row must be a mapping of field names to values."))
            continue
        values = _resolve(row, label, errors, organization, context)
        if values is None:
            continue
        key = _key(row)
        if key in seen:
            errors.append((label, "effective_from", f"The same override appears twice in the file ({seen[key]})."))
            continue
        seen[key] = label
        problems = services.override_errors(
            organization=organization, override=existing.get(key), check_overlap=False, **values
        )
        if problems:
            errors.extend((label, field, message) for field, message in problems.items())
            continue
        final[key] = (label, values)
    errors.extend(_overlap_errors(list(final.values())))
    return errors


def _overlap_errors(entries: list[tuple[str | None, dict]]) -> list[Error]:
    """Two active overrides for the same provider, model, usage type and tier must not overlap in time."""
    errors: list[Error] = []
    active = [(label, values) for label, values in entries if values["is_active"]]
    for position, (label, values) in enumerate(active):
        if label is None:
            continue
        # each pair of file rows is reported once, on the later row; stored overrides are checked against all
        others = active[:position] + [(lbl, val) for lbl, val in active[position + 1 :] if lbl is None]
        for other_label, other in others:
            fields = ("provider", "model", "org_model", "usage_type", "service_tier")
            same_target = all(other[f] == values[f] for f in fields)
            if not same_target or not _overlaps(values, other):
                continue
            if other_label is None:
                until = f"until {other['effective_to']:%Y-%m-%d}" if other["effective_to"] else "with no end date"
                message = (
                    f"Overlaps the stored override from {other['effective_from']:%Y-%m-%d} {until} for the same "
                    "provider, model, usage type and tier: end or deactivate it in the file too."
                )
            else:
                message = f"Overlaps {other_label} for the same provider, model, usage type and tier."
            errors.append((label, "effective_from", message))
            break
    return errors


@tenant_scoped
def apply_section(*, organization: Organization, rows: list[dict], actor) -> dict:
    """Create or update each override by its natural key through the audited services."""
    errors = validate_section(organization=organization, rows=rows, context={})
    if errors:
        raise ValueError(f"apply_section called with invalid rows: {errors[:3]}")
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = _existing(organization)
    # Stored overrides first (deactivations and new end dates), then new ones: no step overlaps.
    ordered = sorted(
        rows,
        key=lambda r: (_key(r) not in existing, r.get("is_active", True), r.get("effective_to") is None),
    )
    for row in ordered:
        values = _resolve(row, "", [], organization)
        override = existing.get(_key(row))
        if override is None:
            services.price_override_create(organization=organization, actor=actor, **values)
            counts["created"] += 1
            continue
        before = snapshots.override_snapshot(override)
        updated = services.price_override_update(override=override, actor=actor, data=values)
        existing[_key(row)] = updated
        counts["updated" if snapshots.override_snapshot(updated) != before else "unchanged"] += 1
    return counts


def rows_from_csv(text: str) -> list[dict]:
    """Columns as ``CSV_COLUMNS``; empty price, discount_pct and effective_to cells are empty values, an
    empty is_active keeps the default (true)."""
    rows = []
    for record in read_records(text):
        row: dict = {}
        for column, value in record.items():
            if column is None:
                continue
            value = (value or "").strip()
            if column in ("price", "discount_pct", "effective_to"):
                row[column] = value or None
            elif column == "is_active":
                if value:
                    lowered = value.casefold()
                    row[column] = (
                        True if lowered in {"true", "yes", "1"} else False if lowered in {"false", "no", "0"} else value
                    )
            else:
                row[column] = value
        rows.append(row)
    return rows


def rows_to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = CsvWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                column: (
                    ""
                    if row.get(column) is None
                    else str(row[column]).lower()
                    if column == "is_active"
                    else row[column]
                )
                for column in CSV_COLUMNS
            }
        )
    return out.getvalue()


# --- org_models ----------------------------------------------------------------------------------------

ORG_MODEL_SECTION = "org_models"
ORG_MODEL_COLUMNS = ["provider", "name", "maps_to", "note", "is_active"]


@tenant_scoped
def export_org_models(*, organization: Organization) -> list[dict]:
    rows = OrgModel.objects.filter(organization=organization).select_related("provider", "maps_to")
    return sorted(
        (
            {
                "provider": m.provider.code,
                "name": m.name,
                "maps_to": m.maps_to.code if m.maps_to_id else "",
                "note": m.note,
                "is_active": m.is_active,
            }
            for m in rows
        ),
        key=lambda r: (r["provider"], r["name"]),
    )


def _org_model_key(row: dict) -> tuple[str, str]:
    return (str(row.get("provider") or "").strip().lower(), str(row.get("name") or "").strip().lower())


def _resolve_org_model(row, label: str, errors: list[Error]) -> dict | None:
    found = len(errors)
    if not isinstance(row, dict):
        errors.append((label, "", "Each row must be a mapping of field names to values."))
        return None
    for field in sorted(set(row) - set(ORG_MODEL_COLUMNS)):
        errors.append((label, field, f"Unknown field; use {', '.join(ORG_MODEL_COLUMNS)}."))
    provider = Provider.objects.filter(code__iexact=str(row.get("provider") or "").strip()).first()
    if provider is None:
        errors.append((label, "provider", f"No provider has the code {row.get('provider')!r}."))
    for field in ("name", "maps_to", "note"):
        if not isinstance(row.get(field) or "", str):
            errors.append((label, field, "Write this as text."))
    maps_to = None
    code = str(row.get("maps_to") or "").strip()
    if provider is not None and code:
        maps_to = AiModel.objects.filter(provider=provider, code__iexact=code).first()
        if maps_to is None:
            errors.append((label, "maps_to", f"{provider.name} has no model {code!r}."))
    if "is_active" in row and not isinstance(row["is_active"], bool):
        errors.append((label, "is_active", "Use true or false."))
    if len(errors) > found:
        return None
    return {
        "provider": provider,
        "name": str(row.get("name") or "").strip().lower(),
        "maps_to": maps_to,
        "note": str(row.get("note") or "").strip(),
        "is_active": row.get("is_active", True),
    }


@tenant_scoped
def validate_org_models(*, organization: Organization, rows: list[dict], context: dict) -> list[Error]:
    errors: list[Error] = []
    existing = {(m.provider.code, m.name): m for m in OrgModel.objects.filter(organization=organization)}
    seen: set[tuple[str, str]] = set()
    planned = context.setdefault("org_models", {})
    for index, row in enumerate(rows):
        label = f"{ORG_MODEL_SECTION}[{index}]"
        values = _resolve_org_model(row, label, errors)
        if values is None:
            continue
        key = _org_model_key(row)
        label = f"{ORG_MODEL_SECTION}[{key[0]}/{key[1]}]"
        if key in seen:
            errors.append((label, "name", "The same model name appears twice in the file."))
            continue
        seen.add(key)
        problems = services.org_model_errors(organization=organization, org_model=existing.get(key), **values)
        if problems:
            errors.extend((label, field, message) for field, message in problems.items())
            continue
        planned[key] = existing.get(key) or OrgModel(organization=organization, **values)
    return errors


@tenant_scoped
def apply_org_models(*, organization: Organization, rows: list[dict], actor) -> dict:
    errors = validate_org_models(organization=organization, rows=rows, context={})
    if errors:
        raise ValueError(f"apply_section called with invalid rows: {errors[:3]}")
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = {(m.provider.code, m.name): m for m in OrgModel.objects.filter(organization=organization)}
    for row in rows:
        values = _resolve_org_model(row, "", [])
        stored = existing.get(_org_model_key(row))
        if stored is None:
            services.org_model_create(organization=organization, actor=actor, **values)
            counts["created"] += 1
            continue
        before = snapshots.org_model_snapshot(stored)
        updated = services.org_model_update(org_model=stored, actor=actor, data=values)
        counts["updated" if snapshots.org_model_snapshot(updated) != before else "unchanged"] += 1
    return counts


def org_models_from_csv(text: str) -> list[dict]:
    rows = []
    for record in read_records(text):
        row: dict = {}
        for column, value in record.items():
            if column is None:
                continue
            value = (value or "").strip()
            if column == "is_active":
                if value:
                    lowered = value.casefold()
                    row[column] = (
                        True if lowered in {"true", "yes", "1"} else False if lowered in {"false", "no", "0"} else value
                    )
            else:
                row[column] = value
        rows.append(row)
    return rows


def org_models_to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = CsvWriter(out, fieldnames=ORG_MODEL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                column: ""
                if row.get(column) is None
                else str(row[column]).lower()
                if column == "is_active"
                else row[column]
                for column in ORG_MODEL_COLUMNS
            }
        )
    return out.getvalue()


ORG_MODEL_CATALOG_SECTION = CatalogSection(
    name=ORG_MODEL_SECTION,
    csv_columns=ORG_MODEL_COLUMNS,
    export_section=export_org_models,
    validate_section=validate_org_models,
    apply_section=apply_org_models,
    rows_from_csv=org_models_from_csv,
    rows_to_csv=org_models_to_csv,
)

# Registered with the catalog from ``PricingConfig.ready()``.
CATALOG_SECTION = CatalogSection(
    name=SECTION,
    csv_columns=CSV_COLUMNS,
    export_section=export_section,
    validate_section=validate_section,
    apply_section=apply_section,
    rows_from_csv=rows_from_csv,
    rows_to_csv=rows_to_csv,
)
