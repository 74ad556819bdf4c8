"""Reads for the rules pages: rule sets with their latest published version and draft, versions,
and the catalog the editor offers (active owners, active tag dimensions)."""

from dataclasses import dataclass

from django.db.models import QuerySet

from apps.owners.models import BudgetOwner
from apps.taxonomy.models import TagDimension
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from ..models import RuleSet, RuleSetVersion
from .checks import RuleSetCheck, rule_set_check


@dataclass
class RuleSetRow:
    rule_set: RuleSet
    latest_published: RuleSetVersion | None
    draft: RuleSetVersion | None
    draft_check: RuleSetCheck | None


@tenant_scoped
def rule_sets(*, organization: Organization) -> QuerySet[RuleSet]:
    return RuleSet.objects.filter(organization=organization).order_by("-is_primary", "name")


@tenant_scoped
def rule_set_rows(*, organization: Organization, rule_sets_page) -> list[RuleSetRow]:
    """One row per rule set of the page, with its latest published version and its checked draft."""
    ids = [rule_set.pk for rule_set in rule_sets_page]
    latest: dict[int, RuleSetVersion] = {}
    drafts: dict[int, RuleSetVersion] = {}
    versions = RuleSetVersion.objects.filter(organization=organization, rule_set_id__in=ids).select_related(
        "published_by"
    )
    for version in versions.order_by("rule_set_id", "-number"):
        if version.is_published:
            latest.setdefault(version.rule_set_id, version)
        else:
            drafts[version.rule_set_id] = version
    return [
        RuleSetRow(
            rule_set=rule_set,
            latest_published=latest.get(rule_set.pk),
            draft=drafts.get(rule_set.pk),
            draft_check=(
                rule_set_check(organization=organization, document=drafts[rule_set.pk].document)
                if rule_set.pk in drafts
                else None
            ),
        )
        for rule_set in rule_sets_page
    ]


@tenant_scoped(via="rule_set")
def versions(*, rule_set: RuleSet) -> QuerySet[RuleSetVersion]:
    return (
        RuleSetVersion.objects.filter(organization=rule_set.organization, rule_set=rule_set)
        .select_related("published_by", "created_by")
        .order_by("-number")
    )


@tenant_scoped(via="rule_set")
def draft_of(*, rule_set: RuleSet) -> RuleSetVersion | None:
    return versions(rule_set=rule_set).filter(status=RuleSetVersion.Status.DRAFT).first()


@tenant_scoped
def owner_names(*, organization: Organization) -> dict[str, str]:
    return dict(BudgetOwner.objects.filter(organization=organization).values_list("code", "name"))


@tenant_scoped
def owner_choices(*, organization: Organization, keep: set[str] = frozenset()) -> list[tuple[str, str]]:
    """The active budget owners as (code, "code name"); codes in ``keep`` (already in a rule) stay
    selectable even when inactive or unknown, so editing a rule never drops them silently."""
    owners = BudgetOwner.objects.filter(organization=organization).order_by("code")
    choices = []
    known = set()
    for code, name, is_active in owners.values_list("code", "name", "is_active"):
        known.add(code)
        if is_active:
            choices.append((code, f"{code} {name}"))
        elif code in keep:
            choices.append((code, f"{code} {name} (inactive)"))
    choices += [(code, f"{code} (no such budget owner)") for code in sorted(keep - known)]
    return choices


@tenant_scoped
def dimension_choices(*, organization: Organization, keep: set[str] = frozenset()) -> list[tuple[str, str]]:
    """The active tag dimensions as (key, "key: label"); keys in ``keep`` stay selectable."""
    dimensions = TagDimension.objects.filter(organization=organization).order_by("key")
    choices = []
    known = set()
    for key, label, is_active in dimensions.values_list("key", "label", "is_active"):
        known.add(key)
        shown = f"{key}: {label}" if label and label != key else key
        if is_active:
            choices.append((key, shown))
        elif key in keep:
            choices.append((key, f"{shown} (inactive)"))
    choices += [(key, f"{key} (no such dimension)") for key in sorted(keep - known)]
    return choices


@tenant_scoped
def primary_version(*, organization: Organization) -> RuleSetVersion | None:
    """The latest published version of the organisation's primary rule set."""
    rule_set = RuleSet.objects.filter(organization=organization, is_primary=True).first()
    if rule_set is None:
        return None
    return (
        RuleSetVersion.objects.filter(rule_set=rule_set, status=RuleSetVersion.Status.PUBLISHED)
        .order_by("-number")
        .first()
    )
