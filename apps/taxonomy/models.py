"""The organisation's tag taxonomy and the distinct tag combinations usage points at.

A ``TagDimension`` is a tag key (team, feature, environment, …). A ``TagValue`` is one canonical
value of it, optionally belonging to a cost centre; ``TagAlias`` maps other spellings onto it. A
``TagSet`` is one distinct normalised combination of tags, stored once: millions of usage rows
point at thousands of tag sets. Normalisation rules live in ``normalise.py`` (pure), writes in
``services.py``.
"""

from django.db import models

from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import TenantModel


class CaseRule(models.TextChoices):
    LOWER = "lower", "lower case (Search → search)"
    PRESERVE = "preserve", "keep as written"
    UPPER = "upper", "UPPER CASE (emea → EMEA)"


class Granularity(models.TextChoices):
    CUBE = "cube", "In the daily cube (allocation, budgets, every breakdown)"
    DETAIL = "detail", "Per-value daily totals only (high cardinality, e.g. customer)"


class TagDimension(TenantModel):
    key = models.CharField(max_length=64, help_text="The tag name as it arrives in usage, e.g. team or cost_center.")
    label = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    required = models.BooleanField(
        default=False, help_text="Every request should carry it; requests without it count as tagging gaps."
    )
    case_rule = models.CharField(max_length=10, choices=CaseRule.choices, default=CaseRule.LOWER)
    granularity = models.CharField(
        max_length=10,
        choices=Granularity.choices,
        default=Granularity.CUBE,
        help_text="A dimension with thousands of values (customer, user) is kept per request and in per-value "
        "daily totals, but not in the daily cube, so the cube stays small whatever its cardinality.",
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text="Order in lists and reports.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="tagdimension_unique_key_per_org"),
            models.CheckConstraint(
                condition=models.Q(case_rule__in=[c.value for c in CaseRule]), name="tagdimension_case_rule_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.key


class TagValue(TenantModel):
    dimension = TenantForeignKey(TagDimension, on_delete=models.PROTECT, related_name="values")
    value = models.CharField(max_length=200, help_text="The canonical value, normalised by the dimension's case rule.")
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    owner = TenantForeignKey(
        "owners.BudgetOwner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tag_values",
        help_text="The cost centre this value belongs to (used by tag-map allocation).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dimension__position", "dimension__key", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dimension", "value"], name="tagvalue_unique_value_per_dimension"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension.key}={self.value}"


class TagAlias(TenantModel):
    """Another spelling of a value. ``dimension`` repeats ``value.dimension`` so the database can
    guarantee one alias never points at two values of the same dimension."""

    dimension = TenantForeignKey(TagDimension, on_delete=models.PROTECT, related_name="aliases")
    alias = models.CharField(max_length=200, help_text="Stored trimmed, lower-cased, inner spaces collapsed.")
    value = TenantForeignKey(TagValue, on_delete=models.CASCADE, related_name="aliases")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["alias"]
        verbose_name_plural = "tag aliases"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dimension", "alias"], name="tagalias_unique_alias_per_dimension"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alias} → {self.value_id}"


class TagSet(TenantModel):
    """One distinct normalised tag combination. ``hash`` is ``normalise.tagset_hash(tags)``; the
    (organization, hash) unique constraint is what makes concurrent get-or-create safe."""

    hash = models.CharField(max_length=64)
    tags = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "hash"], name="tagset_unique_hash_per_org"),
        ]

    def __str__(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in sorted(self.tags.items())) or "(no tags)"
