from rest_framework import serializers

from apps.core.api.months import MonthField
from apps.core.money import money_text
from apps.invoices.models import InvoiceIngestJob, InvoiceLine, InvoiceLineRestatement, ProviderInvoice
from apps.invoices.services.ingest import invoice_ingest_summary


class InvoiceLineSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField(help_text="Exact decimal string; negative for credits.")
    quantity = serializers.DecimalField(max_digits=30, decimal_places=10, coerce_to_string=True, allow_null=True)

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "charge_period_start",
            "charge_period_end",
            "provider",
            "service",
            "model",
            "model_raw",
            "cost_source",
            "usage_type",
            "charge_category",
            "is_ai",
            "quantity",
            "unit",
            "amount",
            "currency",
            "tags",
        ]
        read_only_fields = fields

    def get_amount(self, line: InvoiceLine) -> str:
        return money_text(line.amount_nano, line.currency)


class InvoiceLineRestatementSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField(help_text="What the superseded line said (exact decimal string).")
    new_amount = serializers.SerializerMethodField(help_text="What the line that replaced it says.")
    change = serializers.SerializerMethodField(help_text="new_amount − amount.")
    superseded_by_import = serializers.IntegerField(source="superseded_by_job_id", read_only=True, allow_null=True)
    import_id = serializers.IntegerField(
        source="job_id", read_only=True, allow_null=True, help_text="The import that had stored the superseded line."
    )

    class Meta:
        model = InvoiceLineRestatement
        fields = [
            "id",
            "charge_period_start",
            "charge_period_end",
            "provider",
            "model",
            "cost_source",
            "usage_type",
            "amount",
            "new_amount",
            "change",
            "currency",
            "bucket_key",
            "import_id",
            "superseded_by_import",
            "superseded_at",
        ]
        read_only_fields = fields

    def get_amount(self, row: InvoiceLineRestatement) -> str:
        return money_text(row.amount_nano, row.currency)

    def get_new_amount(self, row: InvoiceLineRestatement) -> str:
        return money_text(row.new_amount_nano, row.currency)

    def get_change(self, row: InvoiceLineRestatement) -> str:
        return money_text(row.delta_nano, row.currency)


class ProviderInvoiceSerializer(serializers.ModelSerializer):
    billing_period = MonthField(read_only=True)
    total = serializers.SerializerMethodField(help_text="Exact decimal string: the sum of the lines.")
    lines = serializers.IntegerField(source="line_count", read_only=True)
    restated_lines = serializers.IntegerField(
        source="restated_count",
        read_only=True,
        help_text="Lines superseded by a later pull of the same cost-report bucket (listed under restatements/).",
    )
    lines_url = serializers.SerializerMethodField()
    restatements_url = serializers.SerializerMethodField()

    class Meta:
        model = ProviderInvoice
        fields = [
            "id",
            "provider",
            "invoice_number",
            "billing_period",
            "currency",
            "total",
            "lines",
            "restated_lines",
            "view",
            "source_format",
            "source_sha256",
            "status",
            "created_at",
            "updated_at",
            "lines_url",
            "restatements_url",
        ]
        read_only_fields = fields

    def get_total(self, invoice: ProviderInvoice) -> str:
        return money_text(invoice.total_nano, invoice.currency)

    def get_lines_url(self, invoice: ProviderInvoice) -> str:
        from django.urls import reverse

        return reverse("api:invoice-lines", kwargs={"pk": invoice.pk})

    def get_restatements_url(self, invoice: ProviderInvoice) -> str:
        from django.urls import reverse

        return reverse("api:invoice-restatements", kwargs={"pk": invoice.pk})


class InvoiceImportSerializer(serializers.ModelSerializer):
    result = serializers.SerializerMethodField(help_text="Invoices touched, duplicates, rejected and errors.")

    class Meta:
        model = InvoiceIngestJob
        fields = [
            "id",
            "status",
            "channel",
            "format",
            "file_name",
            "sha256",
            "size_bytes",
            "rows_total",
            "accepted",
            "duplicates",
            "restated",
            "rejected",
            "error_message",
            "created_at",
            "heartbeat_at",
            "attempts",
            "finished_at",
            "payload_deleted_at",
            "result",
        ]
        read_only_fields = fields

    def get_result(self, job: InvoiceIngestJob) -> dict:
        return invoice_ingest_summary(job=job, max_errors=100)
