"""Reads of the taxonomy and the tagging-health figures."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import TagAlias, TagDimension, TagSet, TagValue

HEALTH_CHUNK = 2000


@tenant_scoped
def dimensions_with_counts(*, organization: Organization) -> QuerySet[TagDimension]:
    return (
        TagDimension.objects.filter(organization=organization)
        .annotate(
            value_count=Count("values", filter=Q(values__is_active=True), distinct=True),
            inactive_value_count=Count("values", filter=Q(values__is_active=False), distinct=True),
            alias_count=Count("aliases", distinct=True),
        )
        .order_by("position", "key")
    )


@tenant_scoped(via="dimension")
def values_of_dimension(*, dimension: TagDimension) -> QuerySet[TagValue]:
    return (
        TagValue.objects.filter(organization_id=dimension.organization_id, dimension=dimension)
        .select_related("owner")
        .prefetch_related(Prefetch("aliases", queryset=TagAlias.objects.order_by("alias")))
        .order_by("-is_active", "value")
    )


@tenant_scoped
def tagsets_of(*, organization: Organization) -> QuerySet[TagSet]:
    return TagSet.objects.filter(organization=organization)


@dataclass
class DimensionHealth:
    key: str
    label: str
    required: bool
    has_value_list: bool
    counted: int = 0  # tag sets, or requests when request counts were given
    missing: int = 0
    unknown_values: list[tuple[str, int]] = field(default_factory=list)  # (value, how often), most frequent first

    @property
    def unknown_total(self) -> int:
        return sum(count for _value, count in self.unknown_values)

    @property
    def missing_pct(self) -> str:
        return _pct(self.missing, self.counted)

    @property
    def unknown_pct(self) -> str:
        return _pct(self.unknown_total, self.counted)


def _pct(part: int, whole: int) -> str:
    if not whole:
        return "0.0"
    tenths = (part * 1000 * 2 + whole) // (whole * 2)  # round half up, integers only
    return f"{tenths // 10}.{tenths % 10}"


@tenant_scoped
def tagging_health(
    *, organization: Organization, request_counts: Mapping[int, int] | None = None
) -> list[DimensionHealth]:
    """Per active dimension: how many tag sets (or, given ``request_counts`` {tagset_id: requests},
    how many requests) lack it, and which values outside its value list were seen and how often.

    Values were alias-normalised at ingest, so an unknown value here is one the taxonomy does not
    know (or a value since deactivated). A dimension without a value list has no unknown values.
    """
    dimensions = list(
        TagDimension.objects.filter(organization=organization, is_active=True).order_by("position", "key")
    )
    known: dict[int, set[str]] = {}
    for dimension_id, value, is_active in TagValue.objects.filter(
        organization=organization, dimension__in=dimensions
    ).values_list("dimension_id", "value", "is_active"):
        values = known.setdefault(dimension_id, set())
        if is_active:
            values.add(value)
    health = [
        DimensionHealth(key=d.key, label=d.label, required=d.required, has_value_list=d.pk in known) for d in dimensions
    ]
    unknown: list[Counter] = [Counter() for _ in dimensions]
    tagsets = TagSet.objects.filter(organization=organization).values_list("id", "tags")
    for tagset_id, tags in tagsets.iterator(chunk_size=HEALTH_CHUNK):
        weight = 1 if request_counts is None else request_counts.get(tagset_id, 0)
        if not weight:
            continue
        for index, dimension in enumerate(dimensions):
            row = health[index]
            row.counted += weight
            value = tags.get(dimension.key)
            if not value:
                row.missing += weight
            elif row.has_value_list and value not in known[dimension.pk]:
                unknown[index][value] += weight
    for row, counter in zip(health, unknown, strict=True):
        row.unknown_values = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return health


@tenant_scoped
def undefined_tag_keys(*, organization: Organization) -> list[tuple[str, int]]:
    """Tag keys seen in usage that are no dimension (or an inactive one), with how many tag sets carry them."""
    defined = set(TagDimension.objects.filter(organization=organization, is_active=True).values_list("key", flat=True))
    seen: Counter = Counter()
    for tags in (
        TagSet.objects.filter(organization=organization)
        .values_list("tags", flat=True)
        .iterator(chunk_size=HEALTH_CHUNK)
    ):
        seen.update(key for key in tags if key not in defined)
    return sorted(seen.items(), key=lambda item: (-item[1], item[0]))
