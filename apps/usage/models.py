from django.db import models
from django.db.models.fields.json import KeyTransform

from apps.core.ceilings import MAX_SUM
from apps.ingest.models import IngestJobBase
from apps.tenancy.keys import TenantForeignKey
from apps.tenancy.models import Organization, TenantModel
from apps.usage.partitions import PartitionedTenantPrimaryKey


class CubeTable(TenantModel):
    """A table of the cube (DailyUsage, DailyDetailUsage): an organisation's daily sums, whose measure
    columns are defined once, here."""

    records = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=0)
    unpriced_records = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cache_read_tokens = models.BigIntegerField(default=0)
    cache_write_tokens = models.BigIntegerField(default=0)
    tool_calls = models.BigIntegerField(default=0)
    audio_tokens = models.BigIntegerField(default=0)  # input and output audio tokens
    image_tokens = models.BigIntegerField(default=0)  # input and output image tokens
    cost_input_nano = models.BigIntegerField(default=0)
    cost_output_nano = models.BigIntegerField(default=0)
    cost_cache_read_nano = models.BigIntegerField(default=0)
    cost_cache_write_nano = models.BigIntegerField(default=0)
    cost_tools_nano = models.BigIntegerField(default=0)
    cost_audio_nano = models.BigIntegerField(default=0)
    cost_image_nano = models.BigIntegerField(default=0)
    estimated_nano = models.BigIntegerField(default=0)
    gateway_cost_nano = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


CUBE_SUM_FIELDS = tuple(field.name for field in CubeTable._meta.local_fields if not field.is_relation)
# Per priced cost source (apps.pricing.constants.COST_SOURCES, in its order): its cost column and its
# quantity column in the cube. A usage record has the same cost columns, but keeps its cache writes by duration
# (cache_write_5m_tokens, cache_write_1h_tokens) where the cube sums them into cache_write_tokens, and its
# audio and image tokens by direction (input_/output_audio_tokens, input_/output_image_tokens).
COST_COLUMNS = {
    "input": ("cost_input_nano", "input_tokens"),
    "output": ("cost_output_nano", "output_tokens"),
    "cache_read": ("cost_cache_read_nano", "cache_read_tokens"),
    "cache_write": ("cost_cache_write_nano", "cache_write_tokens"),
    "tool_calls": ("cost_tools_nano", "tool_calls"),
    "audio": ("cost_audio_nano", "audio_tokens"),
    "image": ("cost_image_nano", "image_tokens"),
}


def sums_in_range(name: str) -> models.CheckConstraint:
    """Every sum within ±MAX_SUM. PostgreSQL refuses a bigint overflow by itself; SQLite would silently
    turn the sum into a float, which this refuses instead (see apps/usage/writer.py)."""
    condition = models.Q()
    for column in CUBE_SUM_FIELDS:
        condition &= models.Q(**{f"{column}__lte": MAX_SUM, f"{column}__gte": -MAX_SUM})
    return models.CheckConstraint(condition=condition, name=name)


class IngestJob(IngestJobBase):
    """One file (or API body) of usage, read once in committed chunks, resumable from its checkpoint."""

    source = models.CharField(max_length=30, blank=True, help_text="Idempotency namespace of the records.")
    lines_done = models.PositiveBigIntegerField(default=0, help_text="Checkpoint: lines committed so far.")
    lines_expected = models.PositiveBigIntegerField(default=0)
    estimated_nano = models.BigIntegerField(default=0, help_text="Price-book cost of the accepted rows (nano-units).")
    unpriced_rows = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(
        max_length=3,
        default="USD",
        help_text="Currency of estimated_nano: that of the price rows that priced the rows.",
    )
    estimated_by_currency = models.JSONField(
        default=dict,
        blank=True,
        help_text='Price-book cost per currency in nano-units, e.g. {"USD": 4500000000}. When the rows were priced in '
        "more than one currency, estimated_nano is 0 and currency empty: amounts of two currencies are never added.",
    )
    replaced = models.PositiveBigIntegerField(
        default=0, help_text="Re-pulled provider usage buckets that replaced the stored bucket (new quantities)."
    )
    replaced_detail = models.JSONField(
        default=dict,
        blank=True,
        help_text='The replaced buckets per day and currency: {"2026-10-03": {"USD": [count, old nano, new nano]}}.',
    )
    overlaps = models.JSONField(
        default=list,
        blank=True,
        help_text="Days × provider × model this file's rows share with the other family of sources (request logs "
        "vs provider usage exports): possibly counted twice. A bounded list; see overlaps_in.",
    )
    price_book_version_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The price-book version that priced the rows (empty: before versions)."
    )
    started_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Ingest #{self.pk} {self.file_name} ({self.status})"

    @property
    def progress_pct(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.lines_expected:
            return 0
        return min(99, int(self.lines_done * 100 / self.lines_expected))

    @property
    def refused_as_whole(self) -> bool:
        """Failed before its first line was read (no source yet): the file itself was refused."""
        return self.status == self.Status.FAILED and not self.source

    @property
    def can_retry(self) -> bool:
        """Interrupted, or failed after the file was accepted (a file refused as a whole needs a new upload)."""
        return self.status == self.Status.INTERRUPTED or (self.status == self.Status.FAILED and bool(self.source))


class IngestError(TenantModel):
    """A rejected row: where it was and why. The rows around it are kept."""

    job = TenantForeignKey(IngestJob, on_delete=models.CASCADE, related_name="errors")
    line = models.PositiveBigIntegerField()
    field = models.CharField(max_length=100)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["job", "line", "id"]
        indexes = [models.Index(fields=["job", "line"], name="ingesterror_job_line")]


class UsageRecord(TenantModel):
    """One AI request (or one provider usage bucket), tagged and priced. An event is unique by organisation,
    source, request id and UTC day of ``occurred_at`` (``day``): a replay is a duplicate, the same request id
    on another day is another event (README, "Usage event format").

    The fact table of the product: tens of millions of rows a month, written only by the ingest service.
    On PostgreSQL it is range-partitioned by month on ``day`` (``apps/usage/partitions.py``): PRIMARY KEY
    (organization_id, id, day), ``id`` from a sequence, and every unique key holds ``day``. On SQLite it is a
    plain table. Its references carry no database constraint at all (``TenantForeignKey(tenant_constraint=
    False)``, so joins still carry the organisation): PostgreSQL checks a foreign key with a trigger per
    inserted row, which measured as much as the COPY itself (10.9 to 21.9 µs a row, see ``make bench``). The
    writer guarantees them instead: the organisation and job are the job's own, and the tag set is found or
    created (and committed) before the chunk that uses it; tag sets are never deleted while in use. Django
    still applies on_delete (PROTECT, SET_NULL) when anything is deleted through the ORM, and
    ``tests/usage/test_writer.py`` checks both.
    """

    # The unique (organization, source, request_id, day) index already leads with the organisation: a
    # separate index on it would only cost every insert.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    job = TenantForeignKey(IngestJob, null=True, on_delete=models.SET_NULL, related_name="+", tenant_constraint=False)
    source = models.CharField(max_length=30)
    request_id = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    day = models.DateField()
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=120, help_text="Canonical model id, or the raw id when unknown.")
    model_raw = models.CharField(max_length=200)
    service_tier = models.CharField(max_length=20, default="standard")
    tagset = TenantForeignKey("taxonomy.TagSet", on_delete=models.PROTECT, related_name="+", tenant_constraint=False)
    detail_tags = models.JSONField(
        default=dict, blank=True, help_text="Tags of high-cardinality (detail) dimensions, e.g. customer."
    )
    trace_id = models.CharField(max_length=200, blank=True)
    is_retry = models.BooleanField(default=False)
    is_batch = models.BooleanField(default=False)
    request_count = models.PositiveIntegerField(default=1, help_text="1 for a request; n for a provider usage bucket.")
    input_tokens = models.BigIntegerField(default=0, help_text="Uncached input tokens.")
    output_tokens = models.BigIntegerField(default=0)
    cache_read_tokens = models.BigIntegerField(default=0)
    cache_write_5m_tokens = models.BigIntegerField(default=0)
    cache_write_1h_tokens = models.BigIntegerField(default=0)
    input_audio_tokens = models.BigIntegerField(default=0)
    output_audio_tokens = models.BigIntegerField(default=0)
    input_image_tokens = models.BigIntegerField(default=0)
    output_image_tokens = models.BigIntegerField(default=0)
    context_window = models.CharField(
        max_length=10, blank=True, default="", help_text='The provider report\'s pricing tier ("0-200k", "200k-1M").'
    )
    tool_calls = models.BigIntegerField(default=0)
    tool_calls_detail = models.JSONField(default=dict, blank=True)
    cost_input_nano = models.BigIntegerField(default=0)
    cost_output_nano = models.BigIntegerField(default=0)
    cost_cache_read_nano = models.BigIntegerField(default=0)
    cost_cache_write_nano = models.BigIntegerField(default=0)
    cost_tools_nano = models.BigIntegerField(default=0)
    cost_audio_nano = models.BigIntegerField(default=0)
    cost_image_nano = models.BigIntegerField(default=0)
    estimated_nano = models.BigIntegerField(default=0)
    gateway_cost_nano = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(
        max_length=3, default="USD", help_text="Currency of the costs: the currency of the price rows that priced it."
    )
    # Like the other references of the fact table, no database constraint (the price-book version is
    # global reference data of the pricing app; null: priced before versions were recorded).
    price_book_version_id = models.PositiveIntegerField(null=True, blank=True)
    unpriced = models.BooleanField(default=False)
    missing_required_tags = models.BooleanField(default=False)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            # The idempotency rule; it holds ``day`` because every unique key of a partitioned table must.
            models.UniqueConstraint(
                fields=["organization", "source", "request_id", "day"], name="usagerecord_idempotency"
            ),
            # PRIMARY KEY (organization_id, id, day) on PostgreSQL (the partition key is part of every key).
            PartitionedTenantPrimaryKey(name="usage_usagerecord_tenant_pk", partition_column="day"),
            models.CheckConstraint(
                condition=models.Q(
                    input_tokens__gte=0,
                    output_tokens__gte=0,
                    cache_read_tokens__gte=0,
                    cache_write_5m_tokens__gte=0,
                    cache_write_1h_tokens__gte=0,
                    tool_calls__gte=0,
                ),
                name="usagerecord_quantities_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    input_audio_tokens__gte=0,
                    output_audio_tokens__gte=0,
                    input_image_tokens__gte=0,
                    output_image_tokens__gte=0,
                ),
                name="usagerecord_modalities_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "day"], name="usagerecord_org_day"),
            models.Index(fields=["organization", "tagset", "day"], name="usagerecord_org_tagset_day"),
            # The request list: a keyset page newest first is one backward range read of this index.
            models.Index(fields=["organization", "occurred_at", "id"], name="usagerecord_org_time_id"),
            # The request list filtered by customer (the detail dimension with the most values): the
            # expression is the one ``detail_tags__customer=...`` compiles to on PostgreSQL.
            models.Index(
                models.F("organization"),
                KeyTransform("customer", "detail_tags"),
                models.F("occurred_at"),
                models.F("id"),
                name="usagerecord_org_customer_time",
            ),
        ]


class DailyUsage(CubeTable):
    """The cube every read uses: day × provider × model × tier × TagSet × retry × batch × currency, with
    each cost source as its own columns. Maintained in the same transaction as the raw rows. A cell holds
    the amounts of one currency (that of the price rows that priced its records): two currencies are two
    cells, never one sum."""

    day = models.DateField()
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=120)
    service_tier = models.CharField(max_length=20)
    tagset = TenantForeignKey("taxonomy.TagSet", on_delete=models.PROTECT, related_name="+")
    is_retry = models.BooleanField(default=False)
    is_batch = models.BooleanField(default=False)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["day", "provider", "model"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "day",
                    "provider",
                    "model",
                    "service_tier",
                    "tagset",
                    "is_retry",
                    "is_batch",
                    "currency",
                ],
                name="dailyusage_cell",
            ),
            sums_in_range("dailyusage_sums_in_range"),
        ]
        indexes = [models.Index(fields=["organization", "day"], name="dailyusage_org_day")]


class DailyDetailUsage(CubeTable):
    """Daily totals per value of a detail (high-cardinality) dimension such as customer, per team.

    Detail dimensions stay out of the cube's tag sets so the cube grows with tag combinations, not with
    customers; this table answers "spend by customer" instead. Team is kept so a budget owner sees only
    the customers of their own cost centres."""

    day = models.DateField()
    dimension = models.CharField(max_length=64)
    value = models.CharField(max_length=200)
    team = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["day", "dimension", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "dimension", "value", "team", "currency"], name="dailydetailusage_cell"
            ),
            sums_in_range("dailydetailusage_sums_in_range"),
        ]
        indexes = [models.Index(fields=["organization", "dimension", "day"], name="dailydetail_org_dim_day")]


class MonthlyUsage(CubeTable):
    """The cube summed by calendar month (``DailyUsage`` without the day): what the pages that show a
    whole month read (tagging health, the explorer's default, the periods board), so they read a
    month's tag combinations, not its days × combinations. Kept by ``apps.usage.rollups`` wherever
    the cube is written; equal to the month's ``DailyUsage`` cells summed."""

    month = models.DateField(help_text="First day of the calendar month.")
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=120)
    service_tier = models.CharField(max_length=20)
    tagset = TenantForeignKey("taxonomy.TagSet", on_delete=models.PROTECT, related_name="+")
    is_retry = models.BooleanField(default=False)
    is_batch = models.BooleanField(default=False)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["month", "provider", "model"]
        constraints = [
            # Leads with (organisation, month): the index every read of a month uses.
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "month",
                    "provider",
                    "model",
                    "service_tier",
                    "tagset",
                    "is_retry",
                    "is_batch",
                    "currency",
                ],
                name="monthlyusage_cell",
            ),
            sums_in_range("monthlyusage_sums_in_range"),
        ]


class MonthlyDetailUsage(CubeTable):
    """``DailyDetailUsage`` summed by calendar month (per detail dimension, value and team)."""

    month = models.DateField(help_text="First day of the calendar month.")
    dimension = models.CharField(max_length=64)
    value = models.CharField(max_length=200)
    team = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["month", "dimension", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dimension", "month", "value", "team", "currency"],
                name="monthlydetailusage_cell",
            ),
            sums_in_range("monthlydetailusage_sums_in_range"),
        ]


class UsageSourceDay(TenantModel):
    """What each source (request logs such as ``events`` or ``litellm``, provider exports such as
    ``openai-usage``) stored per day, provider, model and currency: the few cells a chunk touches,
    kept beside the cube by the writer. It answers which days two families of sources both cover
    (``selectors.overlaps_in``) without reading the fact table."""

    day = models.DateField()
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=120)
    source = models.CharField(max_length=30)
    currency = models.CharField(max_length=3, default="USD")
    records = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    estimated_nano = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["day", "provider", "model", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "provider", "model", "source", "currency"], name="usagesourceday_cell"
            ),
        ]


SOURCE_DAY_KEY = ("organization_id", "day", "provider", "model", "source", "currency")
SOURCE_DAY_SUMS = ("records", "requests", "input_tokens", "output_tokens", "estimated_nano")


class SourceMapping(TenantModel):
    """Maps a provider-side id (OpenAI project, Anthropic workspace, API key, LiteLLM team) to tags."""

    class Kind(models.TextChoices):
        OPENAI_PROJECT = "openai_project", "OpenAI project id"
        OPENAI_API_KEY = "openai_api_key", "OpenAI API key id"
        ANTHROPIC_WORKSPACE = "anthropic_workspace", "Anthropic workspace id"
        ANTHROPIC_API_KEY = "anthropic_api_key", "Anthropic API key id"
        LITELLM_TEAM = "litellm_team", "LiteLLM team id"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    external_id = models.CharField(max_length=200)
    tags = models.JSONField(help_text='Tags to apply, e.g. {"team": "search", "workspace": "acme-prod"}.')
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "external_id"], name="sourcemapping_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"
