import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.tenancy.models import TenantModel


def hash_token(raw_token: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


class ApiClient(TenantModel):
    """An org-bound credential for an ERP connector or gateway. Only the token's hash is kept."""

    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=16, unique=True, help_text="Public part of the token, for lookup.")
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
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def audit_label(self) -> str:
        return f"api:{self.name}"

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
