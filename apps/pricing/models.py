"""The price book. Providers, models, aliases and list prices are global reference data (the same
list price for every organisation, loaded from the generated upstream snapshot and the reviewed
corrections under ``data/``), each load that changes them recorded as a ``PriceBookVersion``. An
organisation's negotiated prices and discounts are its own ``PriceOverride`` rows, and the names it
runs models under (deployments, fine-tunes) its own ``OrgModel`` rows."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import CURRENCY_VALIDATOR, TenantModel

from .constants import SERVICE_TIERS, UNIT_DIVISORS


class ServiceTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    BATCH = "batch", "Batch"
    PRIORITY = "priority", "Priority"
    FLEX = "flex", "Flex"
    SCALE = "scale", "Scale"


class PriceUnit(models.TextChoices):
    TOKEN = "token", "per token"
    THOUSAND_TOKENS = "1k_tokens", "per 1K tokens"
    MILLION_TOKENS = "1m_tokens", "per 1M tokens"
    CALL = "call", "per call"
    THOUSAND_CALLS = "1k_calls", "per 1K calls"


assert set(ServiceTier.values) == set(SERVICE_TIERS)  # noqa: S101 - the estimator and the schema agree
assert set(PriceUnit.values) == set(UNIT_DIVISORS)  # noqa: S101


class Provider(models.Model):
    code = models.SlugField(max_length=40, unique=True, help_text="e.g. openai, anthropic, aws-bedrock.")
    name = models.CharField(max_length=100)
    pricing_url = models.URLField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class AiModel(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="ai_models")
    code = models.CharField(max_length=100, help_text='Canonical code, e.g. "gpt-4o" or "claude-sonnet-4-5".')
    display_name = models.CharField(max_length=200)
    is_active = models.BooleanField(
        default=True, help_text="Retired models keep their prices for past usage but are hidden by default."
    )

    class Meta:
        ordering = ["provider__code", "code"]
        constraints = [models.UniqueConstraint(fields=["provider", "code"], name="aimodel_unique_code_per_provider")]

    def __str__(self) -> str:
        return f"{self.provider.code}/{self.code}"


class ModelAlias(models.Model):
    """Another name a provider or gateway reports for a model: a dated snapshot or a Bedrock id."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="aliases")
    alias = models.CharField(max_length=200)
    model = models.ForeignKey(AiModel, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        ordering = ["provider__code", "alias"]
        verbose_name_plural = "model aliases"
        constraints = [models.UniqueConstraint(fields=["provider", "alias"], name="modelalias_unique_per_provider")]

    def __str__(self) -> str:
        return f"{self.alias} → {self.model.code}"


class RegionScope(models.TextChoices):
    ANY = "", "Any"
    GLOBAL = "global", "Global"
    REGIONAL = "regional", "Regional"


class RowOrigin(models.TextChoices):
    UPSTREAM = "upstream", "Upstream (genai-prices)"
    CORRECTION = "correction", "Reviewed correction"


class PriceRow(models.Model):
    """A list price: ``price`` per ``unit`` of one usage type of a model in one service tier, in force
    from ``effective_from`` until (not including) ``effective_to``. A row with ``min_context_tokens``
    is a long-context rate: it applies when the request's prompt has more tokens than that."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="price_rows")
    model = models.ForeignKey(AiModel, on_delete=models.PROTECT, related_name="price_rows")
    service_tier = models.CharField(max_length=16, choices=ServiceTier.choices, default=ServiceTier.STANDARD)
    usage_type = models.CharField(
        max_length=40,
        help_text="input, output, cache_read, cache_write_5m, cache_write_1h, or a tool such as web_search.",
    )
    unit = models.CharField(max_length=16, choices=PriceUnit.choices)
    price = models.DecimalField(max_digits=20, decimal_places=10)
    currency = models.CharField(max_length=3, default="USD", validators=[CURRENCY_VALIDATOR])
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Exclusive; empty while still in force.")
    min_context_tokens = models.PositiveIntegerField(
        null=True, blank=True, help_text="Long-context rate: applies when the prompt exceeds this many tokens."
    )
    source = models.CharField(max_length=500, help_text="The provider's pricing page (URL) or document.")
    source_date = models.DateField(help_text="When the price was read from the source.")
    region_scope = models.CharField(
        max_length=16,
        choices=RegionScope.choices,
        blank=True,
        default="",
        help_text="Bedrock: global or regional (geographic) inference profiles only; empty: any.",
    )
    origin = models.CharField(max_length=16, choices=RowOrigin.choices, default=RowOrigin.CORRECTION)
    reason = models.CharField(max_length=500, blank=True, help_text="Why a correction replaces or adds to upstream.")

    class Meta:
        ordering = ["provider__code", "model__code", "service_tier", "usage_type", "effective_from"]
        constraints = [
            # min_context_tokens is NULL for ordinary rates, and NULLs never collide in a unique index:
            # one constraint per case keeps (provider, model, scope, tier, usage type, threshold, start) unique.
            models.UniqueConstraint(
                fields=["provider", "model", "region_scope", "service_tier", "usage_type", "effective_from"],
                condition=models.Q(min_context_tokens__isnull=True),
                name="pricerow_unique_scope_standard_context",
            ),
            models.UniqueConstraint(
                fields=[
                    "provider",
                    "model",
                    "region_scope",
                    "service_tier",
                    "usage_type",
                    "min_context_tokens",
                    "effective_from",
                ],
                condition=models.Q(min_context_tokens__isnull=False),
                name="pricerow_unique_scope_long_context",
            ),
            models.CheckConstraint(
                condition=models.Q(region_scope__in=RegionScope.values), name="pricerow_region_scope_valid"
            ),
            models.CheckConstraint(condition=models.Q(origin__in=RowOrigin.values), name="pricerow_origin_valid"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="pricerow_price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True) | models.Q(effective_to__gt=models.F("effective_from")),
                name="pricerow_effective_to_after_from",
            ),
            models.CheckConstraint(
                condition=models.Q(service_tier__in=ServiceTier.values), name="pricerow_service_tier_valid"
            ),
            models.CheckConstraint(condition=models.Q(unit__in=PriceUnit.values), name="pricerow_unit_valid"),
            models.CheckConstraint(
                condition=models.Q(min_context_tokens__isnull=True) | models.Q(min_context_tokens__gt=0),
                name="pricerow_min_context_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.service_tier} {self.usage_type}: {self.price} {self.currency} {self.unit}"


class PriceOverride(TenantModel):
    """An organisation's negotiated price or discount off list, for a provider or one model, optionally
    one usage type and/or tier. Exactly one of ``price`` (with ``unit``) or ``discount_pct``."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    model = models.ForeignKey(
        AiModel, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty: every model."
    )
    org_model = TenantForeignKey(
        "OrgModel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="overrides",
        help_text="One of the organisation's own model names (instead of a list model).",
    )
    usage_type = models.CharField(max_length=40, blank=True, help_text="Empty: every usage type.")
    service_tier = models.CharField(
        max_length=16, choices=ServiceTier.choices, blank=True, help_text="Empty: every tier."
    )
    price = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    unit = models.CharField(max_length=16, choices=PriceUnit.choices, blank=True)
    currency = models.CharField(
        max_length=3,
        blank=True,
        default="",
        validators=[CURRENCY_VALIDATOR],
        help_text="The negotiated price's currency (a discount has none: it keeps the list price's).",
    )
    discount_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Exclusive; empty while in force.")
    note = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider__code", "model__code", "usage_type", "service_tier", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "model", "usage_type", "service_tier", "effective_from"],
                condition=models.Q(model__isnull=False),
                name="priceoverride_unique_model_key",
            ),
            models.UniqueConstraint(
                fields=["organization", "provider", "usage_type", "service_tier", "effective_from"],
                condition=models.Q(model__isnull=True, org_model__isnull=True),
                name="priceoverride_unique_provider_only_key",
            ),
            models.UniqueConstraint(
                fields=["organization", "provider", "org_model", "usage_type", "service_tier", "effective_from"],
                condition=models.Q(org_model__isnull=False),
                name="priceoverride_unique_org_model_key",
            ),
            models.CheckConstraint(
                condition=models.Q(model__isnull=True) | models.Q(org_model__isnull=True),
                name="priceoverride_model_xor_org_model",
            ),
            models.CheckConstraint(
                condition=(models.Q(price__isnull=False) & ~models.Q(currency=""))
                | (models.Q(price__isnull=True) & models.Q(currency="")),
                name="priceoverride_price_has_currency",
            ),
            models.CheckConstraint(
                condition=(models.Q(price__isnull=False) & models.Q(discount_pct__isnull=True))
                | (models.Q(price__isnull=True) & models.Q(discount_pct__isnull=False)),
                name="priceoverride_price_xor_discount",
            ),
            models.CheckConstraint(
                condition=models.Q(price__isnull=True) | (models.Q(price__gte=0) & ~models.Q(unit="")),
                name="priceoverride_price_has_unit",
            ),
            models.CheckConstraint(
                condition=models.Q(discount_pct__isnull=True)
                | (models.Q(discount_pct__gte=0) & models.Q(discount_pct__lte=100)),
                name="priceoverride_discount_0_100",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True) | models.Q(effective_to__gt=models.F("effective_from")),
                name="priceoverride_effective_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        what = (
            f"{self.discount_pct}% off"
            if self.discount_pct is not None
            else f"{self.price} {self.currency} {self.unit}"
        )
        target = self.model_id or (f"org:{self.org_model_id}" if self.org_model_id else "*")
        return f"{self.provider_id}/{target} {self.usage_type or '*'} {self.service_tier or '*'}: {what}"


class OrgModel(TenantModel):
    """A name an organisation's usage reports for a model the global book does not list: an Azure
    deployment name (``globex-gpt4o-prod``), a fine-tune (``ft:gpt-4o-mini:globex::x1``), a private
    model. With ``maps_to`` it is priced as that list model (list prices and the organisation's
    overrides of it); without, only by the organisation's overrides that name it (else unpriced)."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200, help_text="The model name exactly as usage reports it (any case).")
    maps_to = models.ForeignKey(
        AiModel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The list model it is priced as; empty: priced only by this organisation's overrides.",
    )
    note = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "provider", "name"], name="orgmodel_unique_name"),
            models.CheckConstraint(condition=~models.Q(name=""), name="orgmodel_name_not_empty"),
        ]

    def __str__(self) -> str:
        target = self.maps_to.code if self.maps_to_id else "own prices"
        return f"{self.provider_id}:{self.name} → {target}"


class PriceBookVersion(models.Model):
    """One state of the global list prices. ``load_price_book`` records a new number only when what
    prices changes (``content_sha256`` over every row's key and value); estimates record the number of
    the version that priced them."""

    number = models.PositiveIntegerField(unique=True)
    upstream = models.CharField(max_length=100, blank=True, help_text='e.g. "genai-prices 0.2.5".')
    upstream_sha256 = models.CharField(max_length=64, blank=True, help_text="sha256 of the package's data module.")
    content_sha256 = models.CharField(max_length=64)
    corrections_sha256 = models.CharField(max_length=64, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    loaded_at = models.DateTimeField(auto_now_add=True)
    diff = models.JSONField(default=dict, blank=True, help_text="Counts and lines of what changed since the last.")

    class Meta:
        ordering = ["-number"]
        constraints = [models.CheckConstraint(condition=models.Q(number__gte=1), name="pricebookversion_number_1")]

    def __str__(self) -> str:
        return f"r{self.number}"
