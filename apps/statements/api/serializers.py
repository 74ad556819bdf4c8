from rest_framework import serializers

from apps.core.api.months import MonthField
from apps.core.money import nano_to_decimal, quantize_money
from apps.statements.models import SECTION_ORDER, Statement, StatementLine


def money(value, currency: str) -> str:
    return str(quantize_money(value, currency))


class StatementLineSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField(help_text="Footed to the currency's minor unit, as a decimal string.")
    amount_exact = serializers.SerializerMethodField(help_text="The exact amount (nine decimals).")
    share = serializers.DecimalField(max_digits=16, decimal_places=12, coerce_to_string=True)
    dispute = serializers.SerializerMethodField(help_text="For an adjustment line, the dispute it resolves.")

    class Meta:
        model = StatementLine
        fields = [
            "position",
            "section",
            "feature",
            "provider",
            "model",
            "cost_source",
            "rule_name",
            "method",
            "share",
            "explanation",
            "amount",
            "amount_exact",
            "dispute",
        ]
        read_only_fields = fields

    def get_amount(self, line) -> str:
        return money(line.amount, self.context["currency"])

    def get_amount_exact(self, line) -> str:
        return str(nano_to_decimal(line.amount_nano))

    def get_dispute(self, line) -> int | None:
        return line.adjustment.dispute_id if line.adjustment_id else None


class StatementSerializer(serializers.ModelSerializer):
    period = MonthField(read_only=True)
    reference = serializers.CharField(read_only=True, help_text="{period}-{cost centre}-v{version}")
    supersedes = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The version this one replaces; null for a first version."
    )
    superseded_by = serializers.SerializerMethodField()
    sections = serializers.SerializerMethodField(help_text="Footed total per section, decimal strings.")
    total = serializers.SerializerMethodField()

    class Meta:
        model = Statement
        fields = [
            "id",
            "reference",
            "period",
            "owner_code",
            "owner_name",
            "version",
            "status",
            "currency",
            "sections",
            "total",
            "line_count",
            "supersedes",
            "superseded_by",
            "issued_at",
            "finalised_at",
        ]
        read_only_fields = fields

    def get_superseded_by(self, statement) -> int | None:
        try:
            return statement.superseded_by.pk
        except Statement.DoesNotExist:
            return None

    def get_sections(self, statement) -> dict[str, str]:
        return {section: money(statement.section_amount(section), statement.currency) for section in SECTION_ORDER}

    def get_total(self, statement) -> str:
        return money(statement.total_amount, statement.currency)


class StatementDetailSerializer(StatementSerializer):
    lines = serializers.SerializerMethodField()

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "lines"]
        read_only_fields = fields

    def get_lines(self, statement) -> list[dict]:
        lines = statement.lines.select_related("adjustment").order_by("position")
        return StatementLineSerializer(lines, many=True, context={"currency": statement.currency}).data
