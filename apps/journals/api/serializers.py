from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.months import MonthField
from apps.core.money import quantize_money
from apps.journals.models import JournalEntry, JournalLine


def money(value, currency: str) -> str:
    return str(quantize_money(value, currency))


class JournalLineSerializer(serializers.ModelSerializer):
    debit = serializers.SerializerMethodField(help_text="Footed to the currency's minor unit; 0 on a credit line.")
    credit = serializers.SerializerMethodField(help_text="Footed to the currency's minor unit; 0 on a debit line.")

    class Meta:
        model = JournalLine
        fields = ["account", "debit", "credit", "cost_centre", "department", "class", "location", "memo"]
        read_only_fields = fields

    def build_field(self, field_name, info, model_class, nested_depth):
        if field_name == "class":  # the ERP's word (NetSuite's classification), and a Python keyword
            return serializers.CharField, {"source": "erp_class", "read_only": True}
        return super().build_field(field_name, info, model_class, nested_depth)

    def get_debit(self, line) -> str:
        return money(line.debit, self.context["currency"])

    def get_credit(self, line) -> str:
        return money(line.credit, self.context["currency"])


class JournalEntrySerializer(serializers.ModelSerializer):
    period = MonthField(read_only=True)
    reverses = serializers.SlugRelatedField(
        slug_field="external_id", read_only=True, allow_null=True, help_text="external_id of the reversed charge."
    )
    statement = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The statement booked or reversed.")
    cost_centre = serializers.CharField(source="owner_code", read_only=True)
    total = serializers.SerializerMethodField(help_text="Sum of the debits (= sum of the credits), decimal string.")
    fx = serializers.JSONField(read_only=True, allow_null=True, help_text="The statement's conversion block, or null.")
    lines = serializers.SerializerMethodField()

    class Meta:
        model = JournalEntry
        fields = [
            "id",
            "external_id",
            "period",
            "version",
            "kind",
            "reverses",
            "statement",
            "posting_date",
            "currency",
            "company_code",
            "cost_centre",
            "memo",
            "document_ref",
            "header_text",
            "total",
            "fx",
            "posting_status",
            "erp_reference",
            "acknowledged_at",
            "created_at",
            "updated_at",
            "lines",
        ]
        read_only_fields = fields

    @extend_schema_field(JournalLineSerializer(many=True))
    def get_lines(self, entry) -> list[dict]:
        return JournalLineSerializer(entry.lines.all(), many=True, context={"currency": entry.currency}).data

    def get_total(self, entry) -> str:
        return money(entry.total_amount, entry.currency)


class AcknowledgeSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="The ERP's document number."
    )
    status = serializers.ChoiceField(
        choices=[JournalEntry.Posting.POSTED, JournalEntry.Posting.FAILED], default=JournalEntry.Posting.POSTED
    )
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
