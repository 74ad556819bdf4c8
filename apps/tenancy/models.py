from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django_scopes import ScopedManager

from .roles import Role, role_has_perm

CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code such as USD.")


class Organization(models.Model):
    """A tenant. Everything a customer owns hangs off one of these."""

    class Mode(models.TextChoices):
        SHOWBACK = "showback", "Showback (visibility, no billing impact)"
        CHARGEBACK = "chargeback", "Chargeback (statements are charged)"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)
    base_currency = models.CharField(max_length=3, default="USD", validators=[CURRENCY_VALIDATOR])
    variance_tolerance_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Largest estimate-vs-invoice variance, in percent, that counts as reconciled.",
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.SHOWBACK)
    period_start_day = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Day of the month a billing period starts on (1–28; every month has it). A period is named "
        "after the month it starts in: with 5, 2026-10 runs from 5 October to 4 November.",
    )
    require_second_factor = models.BooleanField(
        default=False,
        help_text="Every member must confirm a second factor (authenticator app or recovery code) before any "
        "page of the organisation. Org and finance admins need one for approvals and administration anyway.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(variance_tolerance_pct__gte=0) & models.Q(variance_tolerance_pct__lte=100),
                name="organization_tolerance_0_100",
            ),
            models.CheckConstraint(
                condition=models.Q(mode__in=["showback", "chargeback"]), name="organization_mode_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(period_start_day__gte=1) & models.Q(period_start_day__lte=28),
                name="organization_period_start_day_1_28",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TenantModel(models.Model):
    """Base for every tenant-owned table.

    The default manager is scoped: querying it while no organisation is active raises
    ``django_scopes.ScopeError`` instead of returning every tenant's rows. Unique constraints
    of subclasses must include ``organization``.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager(organization="organization")

    class Meta:
        abstract = True


class Membership(TenantModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_per_org"),
            models.CheckConstraint(condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization_id} as {self.role}"

    def has_perm(self, perm: str) -> bool:
        return role_has_perm(self.role, perm)
