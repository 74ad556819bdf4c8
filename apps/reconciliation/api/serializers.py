from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.months import MonthField
from apps.reconciliation.formatting import exact, money, normalised_pct, variance_money
from apps.reconciliation.models import ReconciliationLine, ReconciliationRun
from apps.reconciliation.selectors import run_conversion, run_lines


class ReconciliationProviderLineSerializer(serializers.ModelSerializer):
    estimated = serializers.SerializerMethodField()
    invoiced = serializers.SerializerMethodField()
    variance = serializers.SerializerMethodField()
    variance_pct = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True, allow_null=True)

    class Meta:
        model = ReconciliationLine
        fields = ["provider", "estimated", "invoiced", "variance", "variance_pct", "within_tolerance", "note"]
        read_only_fields = fields

    def _currency(self) -> str:
        return self.context["currency"]

    def get_estimated(self, line) -> str:
        return money(line.estimated_nano, self._currency())

    def get_invoiced(self, line) -> str:
        return money(line.invoiced_nano or 0, self._currency())

    def get_variance(self, line) -> str:
        return variance_money(line.estimated_nano, line.invoiced_nano, self._currency())


class ConversionRateSerializer(serializers.Serializer):
    """One rate a run used: the amounts of one currency of one day (or charge period) it converted."""

    from_currency = serializers.CharField()
    to_currency = serializers.CharField()
    day = serializers.DateField(source="for_day", allow_null=True)
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    rate_day = serializers.DateField(allow_null=True, help_text="The published day whose rate was used.")
    rate = serializers.DecimalField(
        source="rate_display", max_digits=24, decimal_places=12, coerce_to_string=True, help_text="to per from"
    )
    rate_exact = serializers.SerializerMethodField(help_text='The exact rate as a fraction, "num/den".')
    days_averaged = serializers.IntegerField()
    source = serializers.CharField()
    quotes = serializers.JSONField()
    amount = serializers.SerializerMethodField(help_text="In from_currency, all nine decimals.")
    converted = serializers.SerializerMethodField(help_text="In to_currency, all nine decimals.")

    def get_rate_exact(self, line) -> str:
        return f"{line.rate_num}/{line.rate_den}"

    def get_amount(self, line) -> str:
        return exact(line.amount_nano)

    def get_converted(self, line) -> str:
        return exact(line.converted_nano)


class ReconciliationRunSerializer(serializers.ModelSerializer):
    period = MonthField(read_only=True)
    tolerance_pct = serializers.SerializerMethodField(help_text='The tolerance in force, e.g. "5".')
    estimated = serializers.SerializerMethodField()
    invoiced = serializers.SerializerMethodField()
    variance = serializers.SerializerMethodField()
    platform_overhead_pct = serializers.DecimalField(max_digits=7, decimal_places=2, coerce_to_string=True)
    unallocated = serializers.SerializerMethodField()
    other_cloud = serializers.SerializerMethodField()
    untagged_requests = serializers.SerializerMethodField()
    providers = serializers.SerializerMethodField()
    overlap = serializers.SerializerMethodField(
        help_text="Estimated cost on days where gateway logs and provider exports cover the same provider and "
        "model: at most this much may be counted twice."
    )
    source_totals = serializers.SerializerMethodField(
        help_text='What the run added up per currency before conversion, exact: {"usage": {"USD": "102.465437875"}, '
        '"invoices": {...}, "other_cloud": {...}}.'
    )
    conversion = serializers.SerializerMethodField(
        help_text="The exchange rates that converted other currencies into the run's currency (null: nothing "
        "was converted)."
    )

    class Meta:
        model = ReconciliationRun
        fields = [
            "id",
            "period",
            "created_at",
            "created_by_label",
            "currency",
            "tolerance_pct",
            "status",
            "estimated",
            "invoiced",
            "variance",
            "providers",
            "untagged_requests",
            "total_requests",
            "platform_overhead_pct",
            "unallocated",
            "other_cloud",
            "overlap",
            "source_totals",
            "conversion",
            "legacy_unconverted",
        ]
        read_only_fields = fields

    def get_tolerance_pct(self, run) -> str:
        return normalised_pct(run.tolerance_pct)

    def get_estimated(self, run) -> str:
        return money(run.estimated_nano, run.currency)

    def get_invoiced(self, run) -> str:
        return money(run.invoiced_nano, run.currency)

    def get_variance(self, run) -> str:
        return variance_money(run.estimated_nano, run.invoiced_nano, run.currency)

    def get_unallocated(self, run) -> str:
        return money(run.unallocated_nano, run.currency)

    def get_other_cloud(self, run) -> str:
        return money(run.other_cloud_nano, run.currency)

    def get_untagged_requests(self, run) -> dict[str, int]:
        return {key: figures.get("requests", 0) for key, figures in run.untagged.items()}

    def get_providers(self, run) -> list[dict]:
        return ReconciliationProviderLineSerializer(
            run_lines(run=run, level="provider"), many=True, context={"currency": run.currency}
        ).data

    def get_overlap(self, run) -> str:
        return money(run.overlap_nano, run.currency)

    def get_source_totals(self, run) -> dict[str, dict[str, str]]:
        totals = run.inputs.get("source_totals") or {}
        return {
            key: {currency: exact(amount) for currency, amount in (totals.get(key) or {}).items()}
            for key in ("usage", "invoices", "other_cloud")
        }

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "base_currency": {"type": "string"},
                "policy": {"type": "string", "enum": ["usage_day", "month_average", "period_end"]},
                "fx_source": {"type": "string", "enum": ["ecb", "own"]},
                "currencies": {"type": "array", "items": {"type": "object"}},
                "rates": {"type": "array", "items": {"type": "object"}},
            },
        }
    )
    def get_conversion(self, run):
        converted = run_conversion(run=run)
        if converted is None:
            return None
        return {
            "base_currency": converted.conversion.base_currency,
            "policy": converted.conversion.policy,
            "fx_source": converted.conversion.fx_source,
            "currencies": [
                {
                    "from_currency": c.from_currency,
                    "to_currency": c.to_currency,
                    "amount": exact(c.amount_nano),
                    "converted": exact(c.converted_nano),
                    "rates": c.rates,
                    "first_day": c.first_day.isoformat() if c.first_day else None,
                    "last_day": c.last_day.isoformat() if c.last_day else None,
                    "text": c.text,
                }
                for c in converted.currencies
            ],
            "rates": ConversionRateSerializer(converted.lines, many=True).data,
        }
