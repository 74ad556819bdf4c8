import functools
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.signals import class_prepared
from django.utils.text import capfirst
from django_scopes import ScopedManager

from .keys import (
    PENDING_APPS,
    TenantForeignKey,
    TenantForeignKeyConstraint,
    TenantOneToOneConstraint,
    TenantOneToOneField,
    TenantPrimaryKey,
    constraint_name,
)
from .roles import Role, role_has_perm

# Raw usage kept, in months (Organization.usage_retention_months): never less than the current month and the two
# before it, so a period can still be closed, re-priced and disputed on its rows.
USAGE_RETENTION_MIN_MONTHS = 3
USAGE_RETENTION_MAX_MONTHS = 120

CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code such as USD.")


class Organization(models.Model):
    """A tenant. Everything a customer owns hangs off one of these."""

    class Mode(models.TextChoices):
        SHOWBACK = "showback", "Showback (visibility, no billing impact)"
        CHARGEBACK = "chargeback", "Chargeback (statements are charged)"

    class FxPolicy(models.TextChoices):
        USAGE_DAY = "usage_day", "Rate of each usage day (invoice lines: mean over their charge period)"
        MONTH_AVERAGE = "month_average", "Mean of the period's published daily rates"
        PERIOD_END = "period_end", "Rate of the period's last day"

    class FxSource(models.TextChoices):
        ECB = "ecb", "ECB euro reference rates"
        OWN = "own", "The organisation's own rates"

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
    usage_retention_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(USAGE_RETENTION_MIN_MONTHS), MaxValueValidator(USAGE_RETENTION_MAX_MONTHS)],
        help_text="Months of raw usage rows to keep, this month included (empty: keep them all). Older months are "
        "exported to compressed CSV and removed by the usage_retention command; the daily totals that statements, "
        f"periods and reports read are kept. At least {USAGE_RETENTION_MIN_MONTHS}.",
    )
    fx_policy = models.CharField(
        max_length=20,
        choices=FxPolicy.choices,
        default=FxPolicy.USAGE_DAY,
        help_text="Which exchange rate converts an amount in another currency into the base currency.",
    )
    fx_source = models.CharField(
        max_length=10,
        choices=FxSource.choices,
        default=FxSource.ECB,
        help_text="Where the rates come from: the ECB reference rates, or rates your treasury loads.",
    )
    dispute_response_days = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Days finance has to answer a dispute once it is opened (1–90). The home page shows each open "
        "dispute's deadline (opened on + these days) and the ones past it.",
    )
    dispute_window_business_days = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Business days (Monday to Friday) budget owners have to dispute a draft statement after it is "
        "issued (1–30): until the end of the last one, in the portal's time zone. Owners are reminded a day before.",
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
            models.CheckConstraint(
                condition=models.Q(usage_retention_months__isnull=True)
                | models.Q(usage_retention_months__gte=USAGE_RETENTION_MIN_MONTHS),
                name="organization_usage_retention_min",
            ),
            models.CheckConstraint(
                condition=models.Q(fx_policy__in=["usage_day", "month_average", "period_end"]),
                name="organization_fx_policy_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(fx_source__in=["ecb", "own"]), name="organization_fx_source_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(dispute_response_days__gte=1) & models.Q(dispute_response_days__lte=90),
                name="organization_dispute_response_days_1_90",
            ),
            models.CheckConstraint(
                condition=models.Q(dispute_window_business_days__gte=1)
                & models.Q(dispute_window_business_days__lte=30),
                name="organization_dispute_window_1_30",
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

    def save(self, *args, **kwargs):
        # Every entry point (admin, API, services, catalog import) saves through here, so a reference to
        # another organisation's row is refused even where a form or serializer forgot to check. Bulk
        # writers (the usage COPY, bulk_create) bypass save and build their references themselves.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not {"organization", "organization_id"} & set(update_fields):
            errors = cross_organization_errors(self, fields=update_fields)
        else:
            errors = cross_organization_errors(self)
        if errors:
            raise ValidationError(errors)
        # A saved row never changes organisation: its UPDATE (by organisation and id) would match nothing and
        # Django would INSERT a copy under the other organisation, which PRIMARY KEY (organization_id, id) allows.
        loaded = getattr(self, "_loaded_organization_id", None)
        current = self.__dict__.get("organization_id")  # never fetch a deferred value here
        if not self._state.adding and loaded is not None and current != loaded:
            raise ValidationError({"organization": "The organisation of a saved row never changes."})
        super().save(*args, **kwargs)
        self._loaded_organization_id = self.__dict__.get("organization_id")

    def clean(self):
        super().clean()
        errors = cross_organization_errors(self)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_organization_id = instance.__dict__.get("organization_id")
        return instance

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        # UPDATE t SET <every field but organization_id> WHERE organization_id = %s AND id = %s: a saved row's
        # organisation never changes (save refuses it), and the organisation routes the UPDATE to its shard.
        values = [value for value in values if value[0].attname != "organization_id"]
        if "organization_id" in self.__dict__:  # deferred by only(): not fetched for this (the UPDATE goes by id)
            base_qs = base_qs.filter(organization_id=self.organization_id)
        return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)


def _give_tenant_keys(sender, **kwargs) -> None:
    """class_prepared: every concrete tenant model gets PRIMARY KEY (organization_id, id), a composite foreign
    key for each TenantForeignKey and UNIQUE (organization_id, field) for each TenantOneToOneField, in
    ``_meta.constraints`` and in the options ``makemigrations`` reads, so a new table is born with them. Apps
    still in ``keys.PENDING_APPS`` get nothing yet."""
    if not issubclass(sender, TenantModel) or sender._meta.abstract or sender._meta.proxy:
        return
    if sender._meta.app_label in PENDING_APPS:
        return
    table = sender._meta.db_table
    wanted: list[models.BaseConstraint] = [TenantPrimaryKey(name=constraint_name(table, "tenant_pk"))]
    for field in sender._meta.local_fields:
        if isinstance(field, TenantOneToOneField):
            name = constraint_name(table, f"{field.column}_tenant_uniq")
            wanted.append(TenantOneToOneConstraint(field=field.name, name=name))
        if not isinstance(field, TenantForeignKey) or not field.tenant_constraint:
            continue
        target = field.remote_field.model
        label = target if isinstance(target, str) else target._meta.label
        target_app = label.split(".")[0] if "." in label else sender._meta.app_label
        if target_app in PENDING_APPS:
            continue
        wanted.append(TenantForeignKeyConstraint(field=field.name, name=constraint_name(table, f"{field.column}_tfk")))
    have = {constraint.name for constraint in sender._meta.constraints}
    new = [constraint for constraint in wanted if constraint.name not in have]
    if new:
        sender._meta.constraints = [*sender._meta.constraints, *new]
        sender._meta.original_attrs["constraints"] = sender._meta.constraints


class_prepared.connect(_give_tenant_keys, dispatch_uid="tenancy.tenant_keys")


@functools.cache
def tenant_references(model: type[models.Model]) -> tuple[models.Field, ...]:
    """The concrete foreign keys (and one-to-ones) of ``model`` that point at another tenant-owned model."""
    return tuple(
        field
        for field in model._meta.concrete_fields
        if field.is_relation
        and (field.many_to_one or field.one_to_one)
        and field.name != "organization"
        and issubclass(field.related_model, TenantModel)
    )


def _same_organization_message(field: models.Field, model: type[models.Model]) -> str:
    return f"{capfirst(field.verbose_name)} must belong to the same organisation as this {model._meta.verbose_name}."


def cross_organization_errors(instance: "TenantModel", *, fields=None) -> dict[str, str]:
    """``{field name: message}`` for every reference of ``instance`` to a row of another organisation.

    References whose object is already loaded are compared in memory; the others (only an id was set)
    are checked together in one query. ``fields`` limits the check (an ``update_fields`` save)."""
    loaded = instance.__dict__  # a deferred (not loaded) reference is not being saved: never fetch it here
    references = [
        field
        for field in tenant_references(type(instance))
        if field.attname in loaded and (fields is None or field.name in fields or field.attname in fields)
    ]
    if not references:
        return {}
    organization_id = instance.organization_id
    if organization_id is None:
        return {}
    errors: dict[str, str] = {}
    by_id: list[tuple[models.Field, object]] = []
    for field in references:
        value = loaded[field.attname]
        if value is None:
            continue
        if field.is_cached(instance):
            related = field.get_cached_value(instance)
            if related is not None and related.organization_id != organization_id:
                errors[field.name] = _same_organization_message(field, type(instance))
        else:
            by_id.append((field, value))
    if by_id:
        queries = [
            field.related_model._base_manager.filter(**{field.target_field.attname: value})
            .exclude(organization_id=organization_id)
            .order_by()
            .values_list(models.Value(field.name, output_field=models.CharField()), flat=True)
            for field, value in by_id
        ]
        query = queries[0].union(*queries[1:], all=True) if len(queries) > 1 else queries[0]
        fields_by_name = {field.name: field for field, _ in by_id}
        for name in query:
            errors[name] = _same_organization_message(fields_by_name[name], type(instance))
    return errors


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


def _is_user_relation(field) -> bool:
    return field.related_model._meta.label == settings.AUTH_USER_MODEL


def m2m_cross_organization_error(field: models.ManyToManyField, *, organization_id: int, pks) -> str | None:
    """The message when any of ``pks`` (rows ``field`` would point at) is of another organisation than
    ``organization_id`` (for users: not a member of it), else None. One query."""
    pks = set(pks)
    if not pks:
        return None
    if _is_user_relation(field):
        members = Membership._base_manager.filter(organization_id=organization_id, user_id__in=pks)
        refused = members.count() != len(pks)
    else:
        refused = field.related_model._base_manager.filter(pk__in=pks).exclude(organization_id=organization_id).exists()
    return _same_organization_m2m_message(field) if refused else None


def _same_organization_m2m_message(field: models.ManyToManyField) -> str:
    what = "members of" if _is_user_relation(field) else "of"
    return f"{capfirst(field.verbose_name)} must all be {what} the {field.model._meta.verbose_name}'s own organisation."


def _m2m_guard(field: models.ManyToManyField):
    def receiver(sender, instance, action, reverse, pk_set, **kwargs):
        if action != "pre_add" or not pk_set:
            return
        if not reverse:  # instance is the tenant-owned row, pk_set the rows it now points at
            message = m2m_cross_organization_error(field, organization_id=instance.organization_id, pks=pk_set)
        else:  # instance is the row pointed at, pk_set the tenant-owned rows that now point at it
            rows = field.model._base_manager.filter(pk__in=pk_set)
            if _is_user_relation(field):
                rows = rows.exclude(
                    organization_id__in=Membership._base_manager.filter(user_id=instance.pk).values("organization_id")
                )
            else:
                rows = rows.exclude(organization_id=instance.organization_id)
            message = _same_organization_m2m_message(field) if rows.exists() else None
        if message:
            raise ValidationError({field.name: message})

    return receiver


def connect_m2m_guards() -> None:
    """Refuse many-to-many links across organisations (``m2m_changed`` fires on add and set, both sides)."""
    from django.apps import apps
    from django.db.models.signals import m2m_changed

    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        for field in model._meta.local_many_to_many:
            target = field.related_model
            if issubclass(target, TenantModel) or _is_user_relation(field):
                m2m_changed.connect(
                    _m2m_guard(field),
                    sender=field.remote_field.through,
                    weak=False,
                    dispatch_uid=f"tenancy.m2m_guard.{model._meta.label_lower}.{field.name}",
                )


class IdempotencyKey(TenantModel):
    """One ``Idempotency-Key`` an API client sent with a POST, and the answer it got (``apps.tenancy.idempotency``).

    Keyed by organisation, API client and key: two clients never share keys. ``fingerprint`` is the SHA-256 of
    the method, the path and the body (its JSON, keys sorted), so a retry is recognised whatever the key order or
    spacing and a reuse for another request is refused. While the request runs ``status_code`` is empty (a
    second request with the key answers 409); once it answered below 500 the status, body and ``Location`` are
    kept and replayed; a 5xx drops the row so the client can retry. Rows are purged by a beat task once older
    than ``IDEMPOTENCY_KEY_RETENTION`` (48 h; never less than 24 h). ``client_id`` is the ``accounts.ApiClient``
    id, held without a foreign key: accounts stands on a floor above tenancy, and a revoked or deleted client's
    keys simply age out."""

    client_id = models.PositiveBigIntegerField(help_text="The API client (accounts.ApiClient id) that sent the key.")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in flight.")
    response_body = models.TextField(blank=True, default="", help_text="The answer's JSON, as sent (empty: none).")
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(help_text="When the key was first seen.")
    claimed_at = models.DateTimeField(help_text="When the request now answering it started.")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "client_id", "key"], name="idempotencykey_unique_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created_idx")]

    def __str__(self) -> str:
        return f"{self.key} ({self.method} {self.path})"
