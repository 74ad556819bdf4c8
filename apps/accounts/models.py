import hashlib

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from apps.tenancy.models import Organization, TenantModel
from apps.tenancy.roles import Role, token_has_perm


def hash_token(raw_token: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


class ApiClient(TenantModel):
    """An org-bound credential for an ERP connector or gateway, and a principal of its own (a service account):
    it acts with its own ``role`` and ``scopes``, never with its creator's. Only the token's hash is kept."""

    name = models.CharField(max_length=100)
    role = models.CharField(
        max_length=32,
        choices=Role.choices,
        default=Role.VIEWER,
        help_text="What the token may do where a role decides (preparing periods); human-only actions never.",
    )
    # Unique everywhere: ApiKeyPrefix holds it (the client table is keyed by organisation, the lookup is not)
    key_prefix = models.CharField(max_length=16, help_text="Public part of the token, for lookup.")
    token_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="apiclient_unique_name_per_org"),
            models.UniqueConstraint(fields=["organization", "key_prefix"], name="apiclient_unique_prefix_per_org"),
        ]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            return super().save(*args, **kwargs)
        with transaction.atomic():  # a new client claims its prefix everywhere, or is not made
            super().save(*args, **kwargs)
            ApiKeyPrefix.objects.create(
                key_prefix=self.key_prefix, client_organization_id=self.organization_id, api_client_id=self.pk
            )

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def audit_label(self) -> str:
        return f"api:{self.name}"

    def has_perm(self, perm: str) -> bool:
        return token_has_perm(self.role, perm)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"


class ApiKeyPrefix(models.Model):
    """Which organisation's client holds a token prefix: global, so a prefix is unique across organisations.

    A token is looked up before its organisation is known (authentication reads this, then the client by
    organisation and id). The client table is keyed by organisation (issue 22), so the prefix's global
    uniqueness lives here: a small table (a reference table on a distributed database), written with the
    client, never changed. The client id is a plain column: a global table holds no foreign key into a
    tenant table. Its organisation column is not ``organization``: this is not a tenant table."""

    key_prefix = models.CharField(max_length=16, primary_key=True)
    client_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    api_client_id = models.BigIntegerField()  # with client_organization: the client row (organization_id, id)

    class Meta:
        verbose_name = "API key prefix"

    def __str__(self) -> str:
        return self.key_prefix
