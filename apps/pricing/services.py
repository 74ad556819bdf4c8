"""Writes to the price book.

- ``price_book_load``: upserts the global list prices from the price book (upstream snapshot +
  corrections). They belong to no organisation, so no organisation's audit chain records them; the
  files under version control are their history, each load that changes what prices records a
  ``PriceBookVersion`` (with the diff), and the command prints what it created and changed.
- ``price_override_*``: an organisation's negotiated prices and discounts, each change in one
  transaction with exactly one audit event. Overrides are never deleted (past estimates used them):
  they are deactivated.
"""

import functools
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.audit.services import audit_record, audited_update, set_active
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .book_file import (
    BOOK_TOKEN_TYPES,
    PRICE_PLACES,
    USAGE_TYPE_PATTERN,
    content_sha256,
    file_sha256,
    read_price_book,
    read_upstream_snapshot,
)
from .constants import TOKEN_USAGE_TYPES, UNIT_DIVISORS
from .models import AiModel, ModelAlias, OrgModel, PriceBookVersion, PriceOverride, PriceRow, Provider, ServiceTier
from .snapshots import org_model_snapshot, override_snapshot
from .upstream import row_diff

# --- the global price book -------------------------------------------------------------------------

_ROW_VALUE_FIELDS = ("unit", "price", "currency", "effective_to", "source", "source_date", "origin", "reason")
DIFF_LINES_KEPT = 500


def _count(counts: dict, kind: str, outcome: str) -> None:
    counts.setdefault(kind, {"created": 0, "updated": 0, "unchanged": 0})[outcome] += 1


def _stored_rows() -> list:
    return list(PriceRow.objects.select_related("provider", "model"))


class _StoredRow:
    """A stored price row under the record's attribute names (for the fingerprint and the diff)."""

    def __init__(self, row: PriceRow):
        self.provider, self.model = row.provider.code, row.model.code
        self.region_scope, self.service_tier, self.usage_type = row.region_scope, row.service_tier, row.usage_type
        self.min_context_tokens, self.effective_from, self.effective_to = (
            row.min_context_tokens,
            row.effective_from,
            row.effective_to,
        )
        self.unit, self.price, self.currency = row.unit, row.price, row.currency


@transaction.atomic
def price_book_load(*, path: Path | str | None = None) -> dict[str, dict[str, int]]:
    """Create or update providers, models, aliases and price rows from the book (default: the shipped
    upstream snapshot with the reviewed corrections on top; or one file). Idempotent. Rows that are no
    longer in the book are left alone (past usage was priced with them). When what prices changed, a new
    ``PriceBookVersion`` is recorded with the diff. Returns counts per kind:
    {"price_rows": {"created": n, ...}, ..., "version": {"number": n, "created": bool}}."""
    book = read_price_book(path)
    counts: dict[str, dict[str, int]] = {}
    for kind in ("providers", "models", "aliases", "price_rows"):
        counts[kind] = {"created": 0, "updated": 0, "unchanged": 0}

    providers = {p.code: p for p in Provider.objects.all()}
    for record in book.providers:
        provider = providers.get(record.code)
        if provider is None:
            providers[record.code] = Provider.objects.create(
                code=record.code, name=record.name, pricing_url=record.pricing_url
            )
            _count(counts, "providers", "created")
        elif (provider.name, provider.pricing_url) != (record.name, record.pricing_url):
            provider.name, provider.pricing_url = record.name, record.pricing_url
            provider.save(update_fields=["name", "pricing_url"])
            _count(counts, "providers", "updated")
        else:
            _count(counts, "providers", "unchanged")

    models = {(m.provider.code, m.code): m for m in AiModel.objects.select_related("provider")}
    new_models = []
    for record in book.models:
        model = models.get((record.provider, record.code))
        if model is None:
            model = AiModel(
                provider=providers[record.provider],
                code=record.code,
                display_name=record.display_name,
                is_active=record.is_active,
            )
            models[(record.provider, record.code)] = model
            new_models.append(model)
            _count(counts, "models", "created")
        elif (model.display_name, model.is_active) != (record.display_name, record.is_active):
            model.display_name, model.is_active = record.display_name, record.is_active
            model.save(update_fields=["display_name", "is_active"])
            _count(counts, "models", "updated")
        else:
            _count(counts, "models", "unchanged")
    if new_models:
        AiModel.objects.bulk_create(new_models)
        # bulk_create returns ids on PostgreSQL and SQLite 3.35+; read them back to be sure on any backend
        created = {(m.provider.code, m.code): m for m in AiModel.objects.select_related("provider")}
        models.update(created)

    aliases = {(a.provider.code, a.alias): a for a in ModelAlias.objects.select_related("provider", "model")}
    for record in book.aliases:
        target = models[(record.provider, record.model)]
        alias = aliases.get((record.provider, record.alias))
        if alias is None:
            ModelAlias.objects.create(provider=providers[record.provider], alias=record.alias, model=target)
            _count(counts, "aliases", "created")
        elif alias.model_id != target.pk:
            alias.model = target
            alias.save(update_fields=["model"])
            _count(counts, "aliases", "updated")
        else:
            _count(counts, "aliases", "unchanged")

    stored = _stored_rows()
    before = [_StoredRow(row) for row in stored]
    existing = {
        (
            row.provider.code,
            row.model.code,
            row.region_scope,
            row.service_tier,
            row.usage_type,
            row.min_context_tokens,
            row.effective_from,
        ): row
        for row in stored
    }
    new_rows, changed_rows = [], []
    for record in book.rows:
        values = {field: getattr(record, field) for field in _ROW_VALUE_FIELDS}
        row = existing.get(record.natural_key)
        if row is None:
            new_rows.append(
                PriceRow(
                    provider=providers[record.provider],
                    model=models[(record.provider, record.model)],
                    region_scope=record.region_scope,
                    service_tier=record.service_tier,
                    usage_type=record.usage_type,
                    min_context_tokens=record.min_context_tokens,
                    effective_from=record.effective_from,
                    **values,
                )
            )
            _count(counts, "price_rows", "created")
        elif any(getattr(row, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(row, field, value)
            changed_rows.append(row)
            _count(counts, "price_rows", "updated")
        else:
            _count(counts, "price_rows", "unchanged")
    PriceRow.objects.bulk_create(new_rows, batch_size=1000)
    PriceRow.objects.bulk_update(changed_rows, list(_ROW_VALUE_FIELDS), batch_size=1000)
    version, created = _record_version(before=before, path=path)
    counts["version"] = {"number": version.number, "created": created}
    return counts


def _record_version(*, before: list, path) -> tuple[PriceBookVersion, bool]:
    """A new version when the stored rows now price differently from the latest version."""
    after = [_StoredRow(row) for row in _stored_rows()]
    content = content_sha256(after)
    latest = PriceBookVersion.objects.order_by("-number").first()
    if latest is not None and latest.content_sha256 == content:
        return latest, False
    header = {}
    if path is None:
        header, _rows = read_upstream_snapshot()
    lines = row_diff(before, after)
    diff = {
        "added": sum(line.startswith("+") for line in lines),
        "removed": sum(line.startswith("-") for line in lines),
        "changed": sum(line.startswith("~") for line in lines),
        "lines": lines[:DIFF_LINES_KEPT],
        "more": max(0, len(lines) - DIFF_LINES_KEPT),
    }
    version = PriceBookVersion.objects.create(
        number=(latest.number + 1) if latest else 1,
        upstream=f"{header['package']} {header['package_version']}" if header.get("package") else "",
        upstream_sha256=header.get("data_sha256") or "",
        content_sha256=content,
        corrections_sha256=file_sha256() if path is None else file_sha256(path),
        row_count=len(after),
        diff=diff,
    )
    return version, True


def price_book_load_default() -> dict[str, dict[str, int]]:
    """Load the shipped price book (for the demo, benchmarks and test fixtures)."""
    return price_book_load()


# --- organisation overrides --------------------------------------------------------------------------

OVERRIDE_FIELDS = (
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
)


def _known_usage_types(*, provider: Provider) -> list[str]:
    """The token usage types plus every tool the provider's list prices name."""
    types = set(PriceRow.objects.filter(provider=provider).values_list("usage_type", flat=True).distinct())
    return [*TOKEN_USAGE_TYPES, *sorted(types - set(TOKEN_USAGE_TYPES))]


def _decimal(value, field: str, errors: dict) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        errors[field] = 'Write the number as text (e.g. "2.50"), not as a floating-point number.'
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors[field] = f"{value!r} is not a number."
        return None
    if not number.is_finite():
        errors[field] = "This must be a number."
        return None
    return number


@tenant_scoped
def override_errors(
    *,
    organization: Organization,
    override: PriceOverride | None,
    provider: Provider | None,
    model: AiModel | None,
    usage_type: str,
    service_tier: str,
    price,
    unit: str,
    discount_pct,
    effective_from: date | None,
    effective_to: date | None,
    note: str,
    is_active: bool,
    org_model: OrgModel | None = None,
    currency: str = "",
    check_overlap: bool = True,
) -> dict[str, str]:
    """Every problem with an override as {field: message}; shared by the forms, API and catalog import.
    ``check_overlap=False`` leaves out the check against the stored overrides (the catalog import checks
    overlaps on the state after the whole file instead)."""
    errors: dict[str, str] = {}
    if provider is None:
        errors["provider"] = "Choose the provider the price applies to."
    if model is not None and provider is not None and model.provider_id != provider.pk:
        errors["model"] = f"{model.code} is not one of {provider.name}'s models."
    if org_model is not None:
        if model is not None:
            errors["org_model"] = "Choose a list model or one of your own model names, not both."
        elif org_model.organization_id != organization.pk:
            errors["org_model"] = "Choose one of this organisation's model names."
        elif provider is not None and org_model.provider_id != provider.pk:
            errors["org_model"] = f"{org_model.name} is not one of your {provider.name} model names."
        elif org_model.maps_to_id is not None:
            errors["org_model"] = (
                f"{org_model.name} is priced as {org_model.maps_to.code}: put the override on that model."
            )
    if currency and not re.fullmatch(r"[A-Z]{3}", currency):
        errors["currency"] = "Use a three-letter ISO 4217 code such as USD or EUR."
    if usage_type and not USAGE_TYPE_PATTERN.match(usage_type):
        errors["usage_type"] = "Use a usage type such as input, output, cache_read or web_search."
    elif usage_type and provider is not None and usage_type not in _known_usage_types(provider=provider):
        errors["usage_type"] = (
            f"{provider.name} list prices have no usage type {usage_type!r}; use one of "
            f"{', '.join(_known_usage_types(provider=provider))}, or leave it empty for all."
        )
    if service_tier and service_tier not in ServiceTier.values:
        errors["service_tier"] = f"Use one of {', '.join(ServiceTier.values)}, or leave it empty for all tiers."
    price_value = _decimal(price, "price", errors)
    discount_value = _decimal(discount_pct, "discount_pct", errors)
    both_or_neither = (price_value is None) == (discount_value is None)
    if "price" not in errors and "discount_pct" not in errors and both_or_neither:
        errors["price"] = "Give either a negotiated price or a discount percentage, not both and not neither."
    if price_value is not None:
        if price_value < 0:
            errors["price"] = "A price cannot be negative."
        elif price_value != price_value.quantize(Decimal(1).scaleb(-PRICE_PLACES)) or price_value >= 10**10:
            errors["price"] = "A price has at most 10 digits before and 10 after the decimal point."
        if unit not in UNIT_DIVISORS:
            errors["unit"] = "Say what the negotiated price is per: token, 1K or 1M tokens, call or 1K calls."
        elif usage_type:
            token_type = usage_type in BOOK_TOKEN_TYPES
            if token_type != unit.endswith("tokens"):
                errors["unit"] = f"{usage_type} is priced per {'tokens' if token_type else 'call'}, not {unit}."
        if not usage_type:
            errors["usage_type"] = (
                "A negotiated price is for one usage type (e.g. input or output); use a discount for all of them."
            )
    elif unit:
        errors["unit"] = "A discount has no unit: leave the unit empty."
    elif currency:
        errors["currency"] = "A discount has no currency (it keeps the list price's): leave the currency empty."
    if discount_value is not None:
        if not Decimal(0) <= discount_value <= Decimal(100):
            errors["discount_pct"] = "A discount is between 0 and 100 percent."
        elif discount_value != discount_value.quantize(Decimal("0.01")):
            errors["discount_pct"] = "A discount has at most 2 decimal places."
    if effective_from is None:
        errors["effective_from"] = "Give the first day the price applies."
    elif effective_to is not None and effective_to <= effective_from:
        errors["effective_to"] = "The end date must be after the start date (the end date itself is not included)."
    if len(note) > PriceOverride._meta.get_field("note").max_length:
        errors["note"] = "At most 500 characters."
    if not errors and is_active and check_overlap:
        clash = _overlapping(
            organization=organization,
            override=override,
            provider=provider,
            model=model,
            org_model=org_model,
            usage_type=usage_type,
            service_tier=service_tier,
            effective_from=effective_from,
            effective_to=effective_to,
        )
        if clash is not None:
            until = f"until {clash.effective_to:%Y-%m-%d}" if clash.effective_to else "with no end date"
            errors["effective_from"] = (
                f"Another active override for the same provider, model, usage type and tier applies from "
                f"{clash.effective_from:%Y-%m-%d} {until}: end or deactivate it first."
            )
    return errors


def _overlapping(
    *, organization, override, provider, model, usage_type, service_tier, effective_from, effective_to, org_model=None
):
    candidates = PriceOverride.objects.filter(
        organization=organization,
        provider=provider,
        model=model,
        org_model=org_model,
        usage_type=usage_type,
        service_tier=service_tier,
        is_active=True,
    )
    if override is not None and override.pk:
        candidates = candidates.exclude(pk=override.pk)
    for other in candidates.order_by("effective_from"):
        starts_before_other_ends = other.effective_to is None or effective_from < other.effective_to
        ends_after_other_starts = effective_to is None or other.effective_from < effective_to
        if starts_before_other_ends and ends_after_other_starts:
            return other
    return None


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    values["usage_type"] = (values.get("usage_type") or "").strip().lower()
    values["service_tier"] = (values.get("service_tier") or "").strip().lower()
    values["unit"] = (values.get("unit") or "").strip()
    values["currency"] = (values.get("currency") or "").strip().upper()
    values.setdefault("org_model", None)
    values["note"] = (values.get("note") or "").strip()
    return values


def _normalised_numbers(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    for field in ("price", "discount_pct"):
        if values.get(field) in ("", None):
            values[field] = None
        else:
            values[field] = Decimal(str(values[field]).strip())
    if values["price"] is None:
        values["unit"] = values["currency"] = ""
    elif not values["currency"]:
        values["currency"] = "USD"  # the list prices' currency, as before overrides had one
    return values


@tenant_scoped
@transaction.atomic
def price_override_create(
    *,
    organization: Organization,
    actor,
    provider: Provider,
    model: AiModel | None = None,
    org_model: OrgModel | None = None,
    usage_type: str = "",
    service_tier: str = "",
    price: Decimal | None = None,
    unit: str = "",
    currency: str = "",
    discount_pct: Decimal | None = None,
    effective_from: date,
    effective_to: date | None = None,
    note: str = "",
    is_active: bool = True,
) -> PriceOverride:
    values = _clean(
        {
            "provider": provider,
            "model": model,
            "org_model": org_model,
            "currency": currency,
            "usage_type": usage_type,
            "service_tier": service_tier,
            "price": price,
            "unit": unit,
            "discount_pct": discount_pct,
            "effective_from": effective_from,
            "effective_to": effective_to,
            "note": note,
            "is_active": is_active,
        }
    )
    errors = override_errors(organization=organization, override=None, **values)
    if errors:
        raise ValidationError(errors)
    override = PriceOverride.objects.create(organization=organization, **_normalised_numbers(values))
    audit_record(
        organization=organization,
        actor=actor,
        action="price_override.created",
        target=override,
        after=override_snapshot(override),
    )
    return override


@tenant_scoped(via="override")
@transaction.atomic
def price_override_update(
    *, override: PriceOverride, actor, data: dict[str, Any], action: str = "price_override.updated", reason: str = ""
) -> PriceOverride:
    """Change any of ``OVERRIDE_FIELDS``; fields not in ``data`` keep their value. Writes no event when
    nothing changes."""
    unknown = set(data) - set(OVERRIDE_FIELDS)
    if unknown:
        raise ValueError(f"price_override_update cannot change {sorted(unknown)}")

    def change(stored: PriceOverride) -> None:
        values = _clean({field: data.get(field, getattr(stored, field)) for field in OVERRIDE_FIELDS})
        if "price" in data and data["price"] not in (None, "") and "discount_pct" not in data:
            values["discount_pct"] = None  # switching a discount to a negotiated price
        if "discount_pct" in data and data["discount_pct"] not in (None, "") and "price" not in data:
            values["price"], values["unit"] = None, ""
        errors = override_errors(organization=stored.organization, override=stored, **values)
        if errors:
            raise ValidationError(errors)
        for field, value in _normalised_numbers(values).items():
            setattr(stored, field, value)

    return audited_update(
        instance=override,
        stored=PriceOverride.objects.select_for_update(of=("self",))
        .select_related("provider", "model", "org_model")
        .get(organization_id=override.organization_id, pk=override.pk),
        snapshot=override_snapshot,
        change=change,
        actor=actor,
        action=action,
        reason=reason,
    )


@tenant_scoped(via="override")
@transaction.atomic
def price_override_set_active(*, override: PriceOverride, active: bool, actor, reason: str = "") -> PriceOverride:
    """Deactivate or reactivate an override (overrides are never deleted: past estimates used them)."""
    return set_active(
        instance=override,
        active=active,
        update=functools.partial(price_override_update, override=override),
        label="This override",
        event="price_override",
        actor=actor,
        reason=reason,
    )


# --- organisation models ------------------------------------------------------------------------------

ORG_MODEL_FIELDS = ("provider", "name", "maps_to", "note", "is_active")


@tenant_scoped
def org_model_errors(
    *,
    organization: Organization,
    org_model: OrgModel | None,
    provider: Provider | None,
    name: str,
    maps_to: AiModel | None,
    note: str = "",
    is_active: bool = True,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if provider is None:
        errors["provider"] = "Choose the provider whose usage reports this name."
    if not name:
        errors["name"] = "Give the model name exactly as usage reports it (e.g. an Azure deployment name)."
    elif len(name) > OrgModel._meta.get_field("name").max_length:
        errors["name"] = "At most 200 characters."
    if maps_to is not None and provider is not None and maps_to.provider_id != provider.pk:
        errors["maps_to"] = f"{maps_to.code} is not one of {provider.name}'s models."
    if len(note) > 500:
        errors["note"] = "At most 500 characters."
    if not errors and provider is not None:
        if (
            AiModel.objects.filter(provider=provider, code=name).exists()
            or ModelAlias.objects.filter(provider=provider, alias=name).exists()
        ):
            errors["name"] = f"{name} is already a {provider.name} list model name; it needs no mapping."
        clash = OrgModel.objects.filter(organization=organization, provider=provider, name=name)
        if org_model is not None and org_model.pk:
            clash = clash.exclude(pk=org_model.pk)
        if clash.exists():
            errors["name"] = f"{name} is already one of your {provider.name} model names."
    return errors


def _clean_org_model(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    values["name"] = (values.get("name") or "").strip().lower()
    values["note"] = (values.get("note") or "").strip()
    return values


@tenant_scoped
@transaction.atomic
def org_model_create(
    *,
    organization: Organization,
    actor,
    provider: Provider,
    name: str,
    maps_to: AiModel | None = None,
    note: str = "",
    is_active: bool = True,
) -> OrgModel:
    values = _clean_org_model(
        {"provider": provider, "name": name, "maps_to": maps_to, "note": note, "is_active": is_active}
    )
    errors = org_model_errors(organization=organization, org_model=None, **values)
    if errors:
        raise ValidationError(errors)
    org_model = OrgModel.objects.create(organization=organization, **values)
    audit_record(
        organization=organization,
        actor=actor,
        action="org_model.created",
        target=org_model,
        after=org_model_snapshot(org_model),
    )
    return org_model


@tenant_scoped(via="org_model")
@transaction.atomic
def org_model_update(
    *, org_model: OrgModel, actor, data: dict[str, Any], action: str = "org_model.updated", reason: str = ""
) -> OrgModel:
    unknown = set(data) - set(ORG_MODEL_FIELDS)
    if unknown:
        raise ValueError(f"org_model_update cannot change {sorted(unknown)}")

    def change(stored: OrgModel) -> None:
        values = _clean_org_model({field: data.get(field, getattr(stored, field)) for field in ORG_MODEL_FIELDS})
        errors = org_model_errors(organization=stored.organization, org_model=stored, **values)
        if errors:
            raise ValidationError(errors)
        for field, value in values.items():
            setattr(stored, field, value)

    return audited_update(
        instance=org_model,
        stored=OrgModel.objects.select_for_update(of=("self",))
        .select_related("provider", "maps_to")
        .get(organization_id=org_model.organization_id, pk=org_model.pk),
        snapshot=org_model_snapshot,
        change=change,
        actor=actor,
        action=action,
        reason=reason,
    )


@tenant_scoped(via="org_model")
@transaction.atomic
def org_model_set_active(*, org_model: OrgModel, active: bool, actor, reason: str = "") -> OrgModel:
    """Deactivate or reactivate an organisation model name (never deleted: past usage names it)."""
    return set_active(
        instance=org_model,
        active=active,
        update=functools.partial(org_model_update, org_model=org_model),
        label="This model name",
        event="org_model",
        actor=actor,
        reason=reason,
    )
