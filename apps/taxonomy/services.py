"""Writes to the taxonomy, and the two services ingestion calls.

Catalog writes run in one transaction with exactly one audit event each. Dimensions and values
are never deleted (tag sets and rules refer to them by name): they are deactivated. Aliases are
plain spellings and may be removed.

``tag_normaliser_for`` and ``tagsets_get_or_create`` are for ingestion: a handful of queries,
then pure code; tag sets are derived data and are not audited.
"""

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.audit.services import audit_record, audited_update, set_active
from apps.owners.models import BudgetOwner
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import CaseRule, Granularity, TagAlias, TagDimension, TagSet, TagValue
from .normalise import (
    MAX_VALUE_LENGTH,
    DimensionRule,
    TagNormaliser,
    apply_case_rule,
    lookup_form,
    normalise_key,
    normalise_value_text,
    tagset_hash,
)
from .snapshots import DIMENSION_FIELDS, dimension_snapshot, value_snapshot
from .validation import case_rule_error, key_error, value_text_error

TAGSET_CHUNK = 500
VALUE_FIELDS = ("value", "description", "owner", "is_active", "aliases")


# --- ingestion ----------------------------------------------------------------------------------------


@tenant_scoped
def tag_normaliser_for(*, organization: Organization) -> TagNormaliser:
    """The organisation's active dimensions, their active values and every alias, as plain data."""
    dimensions = list(
        TagDimension.objects.filter(organization=organization, is_active=True).values_list(
            "id", "key", "required", "case_rule"
        )
    )
    key_by_id = {dim_id: key for dim_id, key, _required, _case in dimensions}
    values: dict[str, set[str]] = {}
    for dim_id, value, is_active in TagValue.objects.filter(
        organization=organization, dimension_id__in=key_by_id
    ).values_list("dimension_id", "value", "is_active"):
        # A dimension with any value defined (even only inactive ones) has a value list.
        known = values.setdefault(key_by_id[dim_id], set())
        if is_active:
            known.add(value)
    aliases: dict[str, dict[str, str]] = {}
    for dim_id, alias, canonical in TagAlias.objects.filter(
        organization=organization, dimension_id__in=key_by_id
    ).values_list("dimension_id", "alias", "value__value"):
        aliases.setdefault(key_by_id[dim_id], {})[alias] = canonical
    rules = [DimensionRule(key=key, required=required, case_rule=case) for _id, key, required, case in dimensions]
    return TagNormaliser(dimensions=rules, values=values, aliases=aliases)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing_tagset_ids(organization: Organization, hashes: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(hashes, TAGSET_CHUNK):
        found.update(TagSet.objects.filter(organization=organization, hash__in=chunk).values_list("hash", "id"))
    return found


@tenant_scoped
def tagsets_get_or_create(*, organization: Organization, tag_dicts: Iterable[Mapping[str, str]]) -> dict[str, int]:
    """hash → TagSet id for every given (already normalised) tag dict, creating the missing ones.

    Safe under concurrent ingests: the (organization, hash) unique constraint decides who inserts,
    ``ignore_conflicts`` makes the loser's insert a no-op, and the missing hashes are read back.
    """
    wanted: dict[str, dict[str, str]] = {}
    for tags in tag_dicts:
        clean = dict(sorted(tags.items()))
        for key, value in clean.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"Tag sets hold normalised strings only; got {key!r}: {value!r}.")
        wanted.setdefault(tagset_hash(clean), clean)
    if not wanted:
        return {}
    ids = _existing_tagset_ids(organization, list(wanted))
    missing = [tag_hash for tag_hash in wanted if tag_hash not in ids]
    if missing:
        TagSet.objects.bulk_create(
            [TagSet(organization=organization, hash=tag_hash, tags=wanted[tag_hash]) for tag_hash in missing],
            batch_size=TAGSET_CHUNK,
            ignore_conflicts=True,
        )
        ids.update(_existing_tagset_ids(organization, missing))
    lost = [tag_hash for tag_hash in wanted if tag_hash not in ids]
    if lost:  # only if a concurrent transaction inserted and then rolled back between our insert and read
        raise RuntimeError(f"{len(lost)} tag set(s) could not be created; retry the chunk.")
    return ids


# --- validation ---------------------------------------------------------------------------------------


def _raise_if(errors: dict[str, Any]) -> None:
    if errors:
        raise ValidationError(errors)


@tenant_scoped
def owner_error(*, organization: Organization, owner: BudgetOwner | None, current: BudgetOwner | None = None) -> str:
    if owner is None:
        return ""
    if owner.organization_id != organization.pk:
        return "The cost centre must belong to this organisation."
    if not owner.is_active and (current is None or owner.pk != current.pk):
        return f"{owner.code} is inactive: pick an active cost centre."
    return ""


@tenant_scoped(via="dimension")
def alias_problems(
    *, dimension: TagDimension, aliases: Iterable[str], tag_value: TagValue | None, value: str
) -> tuple[list[str], list[str]]:
    """Normalised aliases for a value, and the reasons any of them cannot be used."""
    cleaned, problems = [], []
    values = {
        lookup_form(v): v
        for v in TagValue.objects.filter(dimension=dimension)
        .exclude(pk=tag_value.pk if tag_value else None)
        .values_list("value", flat=True)
    }
    taken = TagAlias.objects.filter(dimension=dimension).select_related("value")
    if tag_value is not None:
        taken = taken.exclude(value=tag_value)
    taken_by = {a.alias: a.value.value for a in taken}
    for raw in aliases:
        alias = lookup_form(str(raw))
        if not alias or alias in cleaned:
            continue
        if len(alias) > MAX_VALUE_LENGTH:
            problems.append(f"“{alias[:40]}…” is longer than {MAX_VALUE_LENGTH} characters.")
        elif alias == lookup_form(value):
            problems.append(f"“{raw}” already matches {value} (case and spacing are ignored), so it needs no alias.")
        elif alias in values:
            problems.append(f"“{raw}” is a value of its own in {dimension.key}; it cannot also be an alias.")
        elif alias in taken_by:
            problems.append(f"“{raw}” is already an alias of {taken_by[alias]}.")
        else:
            cleaned.append(alias)
    return cleaned, problems


# --- dimensions -------------------------------------------------------------------------------------------


def _validate_dimension(
    *, organization: Organization, dimension: TagDimension | None, key: str, label: str, case_rule: str
) -> None:
    errors: dict[str, Any] = {}
    problem = key_error(key)
    if problem:
        errors["key"] = problem
    else:
        clash = TagDimension.objects.filter(organization=organization, key=key)
        if dimension is not None:
            clash = clash.exclude(pk=dimension.pk)
        if clash.exists():
            errors["key"] = f"There is already a dimension called {key}."
    if not label:
        errors["label"] = "Give the dimension a label, e.g. Team."
    elif len(label) > TagDimension._meta.get_field("label").max_length:
        errors["label"] = "At most 100 characters."
    problem = case_rule_error(case_rule)
    if problem:
        errors["case_rule"] = problem
    elif dimension is not None and case_rule != dimension.case_rule:
        stored = list(TagValue.objects.filter(dimension=dimension).values_list("value", flat=True))
        offending = sorted(v for v in stored if apply_case_rule(v, case_rule) != v)
        if offending:
            errors["case_rule"] = (
                f"{len(offending)} value(s) do not follow the new rule ({', '.join(offending[:5])}): "
                "switch to “keep as written”, correct the values, then switch again."
            )
    _raise_if(errors)


@tenant_scoped
@transaction.atomic
def tag_dimension_create(
    *,
    organization: Organization,
    actor,
    key: str,
    label: str,
    description: str = "",
    required: bool = False,
    case_rule: str = CaseRule.LOWER,
    granularity: str = Granularity.CUBE,
    position: int | None = None,
    is_active: bool = True,
) -> TagDimension:
    key, label = normalise_key(key), label.strip()
    _validate_dimension(organization=organization, dimension=None, key=key, label=label, case_rule=case_rule)
    if position is None:
        last = TagDimension.objects.filter(organization=organization).order_by("-position").first()
        position = (last.position + 10) if last else 10
    dimension = TagDimension.objects.create(
        organization=organization,
        key=key,
        label=label,
        description=description.strip(),
        required=required,
        case_rule=case_rule,
        granularity=granularity,
        position=position,
        is_active=is_active,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="tag_dimension.created",
        target=dimension,
        after=dimension_snapshot(dimension),
    )
    return dimension


@tenant_scoped(via="dimension")
@transaction.atomic
def tag_dimension_update(
    *,
    dimension: TagDimension,
    actor,
    data: dict[str, Any],
    action: str = "tag_dimension.updated",
    reason: str = "",
) -> TagDimension:
    """Change any of ``DIMENSION_FIELDS``. The key never changes: recorded tag sets use it."""
    if "key" in data and normalise_key(data["key"]) != dimension.key:
        raise ValidationError({"key": "The key cannot change: usage already recorded uses it. Add a new dimension."})
    data = {name: value for name, value in data.items() if name != "key"}
    unknown = set(data) - set(DIMENSION_FIELDS)
    if unknown:
        raise ValueError(f"tag_dimension_update cannot change {sorted(unknown)}")

    def change(stored: TagDimension) -> None:
        label = data.get("label", stored.label).strip()
        case_rule = data.get("case_rule", stored.case_rule)
        _validate_dimension(
            organization=stored.organization, dimension=stored, key=stored.key, label=label, case_rule=case_rule
        )
        stored.label = label
        stored.case_rule = case_rule
        stored.description = data.get("description", stored.description).strip()
        if data.get("granularity") is not None and data["granularity"] not in Granularity.values:
            raise ValidationError({"granularity": f"Choose one of: {', '.join(Granularity.values)}."})
        for name in ("required", "granularity", "is_active", "position"):
            if data.get(name) is not None:
                setattr(stored, name, data[name])

    return audited_update(
        instance=dimension,
        stored=TagDimension.objects.select_for_update().get(organization_id=dimension.organization_id, pk=dimension.pk),
        snapshot=dimension_snapshot,
        change=change,
        actor=actor,
        action=action,
        reason=reason,
    )


@tenant_scoped(via="dimension")
@transaction.atomic
def tag_dimension_set_active(*, dimension: TagDimension, active: bool, actor, reason: str = "") -> TagDimension:
    """Deactivate or reactivate a dimension (never deleted: tag sets and rules name it)."""
    return set_active(
        instance=dimension,
        active=active,
        update=functools.partial(tag_dimension_update, dimension=dimension),
        label=dimension.key,
        event="tag_dimension",
        actor=actor,
        reason=reason,
    )


# --- values and aliases -----------------------------------------------------------------------------------


def _validate_value(
    *,
    organization: Organization,
    dimension: TagDimension,
    tag_value: TagValue | None,
    value: str,
    owner: BudgetOwner | None,
    aliases: Iterable[str] | None,
) -> list[str]:
    """Raises for every problem at once; returns the normalised aliases (empty when not given)."""
    errors: dict[str, Any] = {}
    if dimension.organization_id != organization.pk:
        errors["dimension"] = "The dimension must belong to this organisation."
        _raise_if(errors)
    problem = value_text_error(value)
    if problem:
        errors["value"] = problem
    else:
        others = TagValue.objects.filter(dimension=dimension)
        if tag_value is not None:
            others = others.exclude(pk=tag_value.pk)
        clash = next((v for v in others.values_list("value", flat=True) if lookup_form(v) == lookup_form(value)), None)
        if clash is not None:
            errors["value"] = f"{dimension.key} already has the value {clash}."
        else:
            alias = TagAlias.objects.filter(dimension=dimension, alias=lookup_form(value)).select_related("value")
            if tag_value is not None:
                alias = alias.exclude(value=tag_value)
            existing = alias.first()
            if existing is not None:
                errors["value"] = (
                    f"“{value}” is an alias of {existing.value.value}: remove the alias first to make it a value."
                )
    problem = owner_error(organization=organization, owner=owner, current=tag_value.owner if tag_value else None)
    if problem:
        errors["owner"] = problem
    cleaned: list[str] = []
    if aliases is not None:
        cleaned, problems = alias_problems(dimension=dimension, aliases=aliases, tag_value=tag_value, value=value)
        if problems:
            errors["aliases"] = problems
    _raise_if(errors)
    return cleaned


@tenant_scoped
@transaction.atomic
def tag_value_create(
    *,
    organization: Organization,
    actor,
    dimension: TagDimension,
    value: str,
    description: str = "",
    owner: BudgetOwner | None = None,
    aliases: Iterable[str] = (),
    is_active: bool = True,
) -> TagValue:
    value = normalise_value_text(str(value), dimension.case_rule)
    cleaned = _validate_value(
        organization=organization, dimension=dimension, tag_value=None, value=value, owner=owner, aliases=aliases
    )
    tag_value = TagValue.objects.create(
        organization=organization,
        dimension=dimension,
        value=value,
        description=description.strip(),
        owner=owner,
        is_active=is_active,
    )
    TagAlias.objects.bulk_create(
        [TagAlias(organization=organization, dimension=dimension, alias=a, value=tag_value) for a in cleaned]
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="tag_value.created",
        target=tag_value,
        after=value_snapshot(tag_value),
    )
    return tag_value


@tenant_scoped(via="tag_value")
@transaction.atomic
def tag_value_update(
    *, tag_value: TagValue, actor, data: dict[str, Any], action: str = "tag_value.updated", reason: str = ""
) -> TagValue:
    """Change any of ``VALUE_FIELDS``; ``aliases`` replaces the whole list. Renaming a value keeps
    the old spelling as an alias, so usage sent with it keeps resolving to the value."""
    unknown = set(data) - set(VALUE_FIELDS)
    if unknown:
        raise ValueError(f"tag_value_update cannot change {sorted(unknown)}")

    def change(stored: TagValue) -> None:
        organization, dimension = stored.organization, stored.dimension
        value = normalise_value_text(str(data.get("value", stored.value)), dimension.case_rule)
        owner = data.get("owner", stored.owner)
        aliases = list(data["aliases"]) if "aliases" in data else sorted(stored.aliases.values_list("alias", flat=True))
        if lookup_form(value) != lookup_form(stored.value):
            aliases.append(stored.value)
        # Renaming a value to one of its own aliases turns that alias into the value.
        aliases = [alias for alias in aliases if lookup_form(str(alias)) != lookup_form(value)]
        cleaned = _validate_value(
            organization=organization, dimension=dimension, tag_value=stored, value=value, owner=owner, aliases=aliases
        )
        stored.value = value
        stored.owner = owner
        stored.description = data.get("description", stored.description).strip()
        if data.get("is_active") is not None:
            stored.is_active = data["is_active"]
        TagAlias.objects.filter(value=stored).exclude(alias__in=cleaned).delete()
        have = set(TagAlias.objects.filter(value=stored).values_list("alias", flat=True))
        TagAlias.objects.bulk_create(
            [
                TagAlias(organization=organization, dimension=dimension, alias=a, value=stored)
                for a in cleaned
                if a not in have
            ]
        )

    return audited_update(
        instance=tag_value,
        stored=TagValue.objects.select_for_update(of=("self",))
        .select_related("dimension", "owner")
        .get(organization_id=tag_value.organization_id, pk=tag_value.pk),
        snapshot=value_snapshot,
        change=change,
        actor=actor,
        action=action,
        reason=reason,
    )


@tenant_scoped(via="tag_value")
@transaction.atomic
def tag_value_set_active(*, tag_value: TagValue, active: bool, actor, reason: str = "") -> TagValue:
    """Deactivate or reactivate a value (never deleted: tag sets and rules name it)."""
    return set_active(
        instance=tag_value,
        active=active,
        update=functools.partial(tag_value_update, tag_value=tag_value),
        label=tag_value.value,
        event="tag_value",
        actor=actor,
        reason=reason,
    )


@tenant_scoped(via="tag_value")
@transaction.atomic
def tag_alias_add(*, tag_value: TagValue, actor, alias: str) -> TagAlias:
    stored = (
        TagValue.objects.select_for_update(of=("self",))
        .select_related("dimension")
        .get(organization_id=tag_value.organization_id, pk=tag_value.pk)
    )
    if lookup_form(alias) in set(stored.aliases.values_list("alias", flat=True)):
        raise ValidationError({"alias": f"“{alias}” is already an alias of {stored.value}."})
    cleaned, problems = alias_problems(
        dimension=stored.dimension, aliases=[alias], tag_value=stored, value=stored.value
    )
    if not cleaned and not problems:
        problems = ["Give the other spelling, e.g. prod."]
    if problems:
        raise ValidationError({"alias": problems})
    before = value_snapshot(stored)
    created = TagAlias.objects.create(
        organization=stored.organization, dimension=stored.dimension, alias=cleaned[0], value=stored
    )
    audit_record(
        organization=stored.organization,
        actor=actor,
        action="tag_alias.added",
        target=stored,
        before=before,
        after=value_snapshot(stored),
    )
    return created


@tenant_scoped(via="alias")
@transaction.atomic
def tag_alias_remove(*, alias: TagAlias, actor) -> None:
    stored = (
        TagValue.objects.select_for_update(of=("self",))
        .select_related("dimension")
        .get(organization_id=alias.organization_id, pk=alias.value_id)
    )
    before = value_snapshot(stored)
    TagAlias.objects.filter(pk=alias.pk).delete()
    audit_record(
        organization=stored.organization,
        actor=actor,
        action="tag_alias.removed",
        target=stored,
        before=before,
        after=value_snapshot(stored),
    )
