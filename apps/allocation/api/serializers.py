from rest_framework import serializers

from apps.allocation.models import AllocationLine
from apps.allocation.runs.formatting import exact_amount
from apps.core.api.months import MonthField


class OwnerAmountSerializer(serializers.Serializer):
    code = serializers.CharField()
    amount = serializers.CharField(
        help_text="Footed to the currency's minor unit: the owners and Unallocated add up to pool_total."
    )


class AllocationSummarySerializer(serializers.Serializer):
    """The ``allocate --json`` object of the period's current run, plus the run's identity and figures."""

    period = MonthField(read_only=True, help_text="YYYY-MM")
    rule_set_version = serializers.IntegerField(help_text="Number of the rule-set version the run used.")
    pool_total = serializers.CharField(help_text="Estimated cost plus every provider's invoice true-up.")
    unallocated = serializers.CharField(help_text="What no rule claimed (footed with the owners).")
    owners = OwnerAmountSerializer(many=True)
    lines = serializers.IntegerField(help_text="Lines of the run, Unallocated lines included.")
    inputs_hash = serializers.CharField(help_text="sha256 of the cost cells, invoice totals and rules.")
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=["draft", "issued"])
    run_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    estimated = serializers.CharField(help_text="Estimated cost of the usage (footed with true_up to pool_total).")
    true_up = serializers.CharField(help_text="Invoice minus estimate over every invoiced provider.")


class AllocationLineSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField(help_text="Cost-centre code; null for an Unallocated line.")
    amount = serializers.SerializerMethodField(help_text='Exact, to the nano-unit, e.g. "1.973684211".')
    share = serializers.DecimalField(
        max_digits=16, decimal_places=12, coerce_to_string=True, read_only=True, help_text="Share of the line's basis."
    )

    class Meta:
        model = AllocationLine
        fields = [
            "id",
            "owner",
            "feature",
            "provider",
            "model",
            "cost_source",
            "amount",
            "rule_name",
            "method",
            "share",
            "explanation",
        ]
        read_only_fields = fields

    def get_owner(self, line: AllocationLine) -> str | None:
        return line.owner_code or None

    def get_amount(self, line: AllocationLine) -> str:
        return exact_amount(line.amount_nano)
