"""Versioned allocation rule sets.

Design: one table, ``RuleSetVersion``, holds both the (single) editable draft of a rule set and its
published versions. A draft is a version row with status ``draft``; publishing flips that row to
``published`` once, and from then on the row is immutable. Immutability is enforced twice:

- in the model (``save``/``delete`` refuse a row that is already published), and
- in the database, by triggers that reuse the append-only trigger function of ``apps.audit.triggers``
  but fire only ``WHEN OLD.status = 'published'`` (see migration 0002). Drafts stay editable and
  deletable; a published row refuses any UPDATE or DELETE, from the ORM, raw SQL or another program.

This keeps a single foreign-key target for allocation runs ("the exact version it used") and avoids
copying documents between a draft table and a published table. The whole rule list lives in
``document`` as canonical JSON with its ``sha256``, so a published version is one immutable row.
"""

from django.conf import settings
from django.db import models

from apps.tenancy.models import TenantModel


class PublishedVersionError(Exception):
    """A published rule-set version was asked to change."""


class TrueUpMode(models.TextChoices):
    FULL_COST = "full_cost", "Spread over owners in proportion to their estimated cost"
    USAGE_ONLY = "usage_only", "Book to a central owner"
    NONE = "none", "No true-up"


class RuleSet(TenantModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="ruleset_unique_name_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class RuleSetVersion(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(help_text="1, 2, 3 … within the rule set.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    true_up_mode = models.CharField(max_length=12, choices=TrueUpMode.choices, default=TrueUpMode.FULL_COST)
    true_up_central_owner = models.ForeignKey(
        "owners.BudgetOwner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    document = models.JSONField(default=dict, help_text="The whole rule set in canonical form.")
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rule_set", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rule_set", "number"], name="rulesetversion_unique_number_per_set"
            ),
            models.UniqueConstraint(
                fields=["organization", "rule_set"],
                condition=models.Q(status="draft"),
                name="rulesetversion_one_draft_per_set",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published"]), name="rulesetversion_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(true_up_mode__in=["full_cost", "usage_only", "none"]),
                name="rulesetversion_true_up_mode_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="rulesetversion_published_has_date",
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="rulesetversion_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set_id} v{self.number} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def _stored_status(self) -> str | None:
        if self._state.adding or self.pk is None:
            return None
        return type(self)._base_manager.filter(pk=self.pk).values_list("status", flat=True).first()

    def save(self, *args, **kwargs):
        if self._stored_status() == self.Status.PUBLISHED:
            raise PublishedVersionError(f"Version {self.number} is published and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() == self.Status.PUBLISHED:
            raise PublishedVersionError(f"Version {self.number} is published and cannot be deleted.")
        return super().delete(*args, **kwargs)
