from rest_framework import serializers

from apps.core.api.months import MonthField
from apps.core.money import nano_to_decimal, quantize_money
from apps.disputes.models import Dispute


def money(nano: int | None, currency: str) -> str | None:
    return None if nano is None else str(quantize_money(nano_to_decimal(nano), currency))


class DisputeSerializer(serializers.ModelSerializer):
    statement_reference = serializers.CharField(source="statement.reference", read_only=True)
    period = MonthField(source="statement.period", read_only=True)
    owner_code = serializers.CharField(source="owner.code", read_only=True)
    line = serializers.SerializerMethodField(help_text="Position of the disputed line; null for the statement.")
    amount = serializers.SerializerMethodField(help_text="Amount disputed, decimal string.")
    adjusted = serializers.SerializerMethodField(help_text="Amount credited when accepted, decimal string.")
    recharge_owner_code = serializers.SerializerMethodField()
    opened_by = serializers.CharField(source="opened_by.username", read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "statement",
            "statement_reference",
            "period",
            "owner_code",
            "line",
            "currency",
            "amount",
            "reason",
            "evidence_url",
            "status",
            "opened_by",
            "opened_at",
            "resolved_at",
            "resolution_note",
            "adjusted",
            "recharge_owner_code",
            "updated_at",
        ]
        read_only_fields = fields

    def get_line(self, dispute) -> int | None:
        return dispute.line.position if dispute.line_id else None

    def get_amount(self, dispute) -> str:
        return money(dispute.amount_nano, dispute.currency)

    def get_adjusted(self, dispute) -> str | None:
        return money(dispute.adjusted_nano, dispute.currency)

    def get_recharge_owner_code(self, dispute) -> str | None:
        return dispute.recharge_owner.code if dispute.recharge_owner_id else None
