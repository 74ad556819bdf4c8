from rest_framework import serializers

from apps.core.api.months import MonthField
from apps.reconciliation.formatting import money, normalised_pct, variance_money
from apps.reconciliation.models import ReconciliationLine, ReconciliationRun
from apps.reconciliation.selectors import run_lines


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
