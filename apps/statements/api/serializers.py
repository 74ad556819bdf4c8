from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.months import MonthField
from apps.core.money import nano_to_decimal, quantize_money
from apps.fx.convert import decimal_text
from apps.statements.deadlines import dispute_deadline
from apps.statements.models import SECTION_ORDER, Statement, StatementLine
from apps.statements.selectors import statement_conversion


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


class ConvertedCurrencySerializer(serializers.Serializer):
    from_currency = serializers.CharField()
    to_currency = serializers.CharField()
    amount = serializers.CharField(help_text="Everything converted from from_currency, all nine decimals.")
    converted = serializers.CharField(help_text="The same in to_currency: the sum of the converted amounts.")
    rates = serializers.IntegerField(help_text="How many rates (days, or charge periods) were used.")
    first_day = serializers.DateField(allow_null=True)
    last_day = serializers.DateField(allow_null=True)
    effective_rate = serializers.CharField(allow_null=True, help_text="converted / amount, twelve decimals.")


class StatementConversionSerializer(serializers.Serializer):
    allocation_run = serializers.IntegerField()
    base_currency = serializers.CharField()
    policy = serializers.CharField(help_text="usage_day, month_average or period_end.")
    fx_source = serializers.CharField(help_text="ecb or own.")
    text = serializers.CharField()
    currencies = ConvertedCurrencySerializer(many=True)


def conversion_data(statement, converted) -> dict | None:
    if converted is None:
        return None
    return {
        "allocation_run": statement.allocation_run_id,
        "base_currency": converted.conversion.base_currency,
        "policy": converted.conversion.policy,
        "fx_source": converted.conversion.fx_source,
        "text": converted.text,
        "currencies": [
            {
                "from_currency": c.from_currency,
                "to_currency": c.to_currency,
                "amount": str(nano_to_decimal(c.amount_nano)),
                "converted": str(nano_to_decimal(c.converted_nano)),
                "rates": c.rates,
                "first_day": c.first_day,
                "last_day": c.last_day,
                "effective_rate": decimal_text(c.effective) if c.effective is not None else None,
            }
            for c in converted.currencies
        ],
    }


# "class" is a Python keyword: the ERP block's serializer is built with it as a field name.
StatementErpSerializer = type(
    "StatementErpSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The cost centre's ERP references, as its record holds them now (owners settings).",
        "gl_account": serializers.CharField(help_text="The GL (expense) account the charge is booked to."),
        "department": serializers.CharField(),
        "company_code": serializers.CharField(help_text="Company code (SAP) or subsidiary (NetSuite)."),
        "class": serializers.CharField(source="erp_class", help_text="The ERP class (NetSuite)."),
        "location": serializers.CharField(),
    },
)


class StatementSerializer(serializers.ModelSerializer):
    period = MonthField(read_only=True)
    reference = serializers.CharField(read_only=True, help_text="{period}-{cost centre}-v{version}")
    supersedes = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The version this one replaces; null for a first version."
    )
    superseded_by = serializers.SerializerMethodField()
    sections = serializers.SerializerMethodField(help_text="Footed total per section, decimal strings.")
    total = serializers.SerializerMethodField()
    erp = StatementErpSerializer(
        source="owner",
        read_only=True,
        help_text="The cost centre's ERP references (gl_account, department, company_code, class, location): "
        "read from the cost centre now, not frozen with the statement; empty strings where none is set.",
    )
    conversion = serializers.SerializerMethodField(
        help_text="How amounts in other currencies were converted into the statement's currency (the "
        "allocation run's exchange rates); null when everything was in it."
    )
    disputes_until = serializers.SerializerMethodField(
        help_text="A draft's dispute window closes at this moment (the end of the organisation's "
        "dispute_window_business_days-th business day after issued_at); null unless the statement is a draft."
    )

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
            "disputes_until",
            "withdrawn_at",
            "withdrawn_reason",
            "updated_at",
            "erp",
            "conversion",
        ]
        read_only_fields = fields

    def get_superseded_by(self, statement) -> int | None:
        try:
            return statement.superseded_by.pk
        except Statement.DoesNotExist:
            return None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_disputes_until(self, statement) -> str | None:
        if statement.status != Statement.Status.DRAFT:
            return None
        request = self.context.get("request")
        organization = getattr(request, "organization", None) if request is not None else None
        return serializers.DateTimeField().to_representation(dispute_deadline(statement, organization=organization))

    def get_sections(self, statement) -> dict[str, str]:
        return {section: money(statement.section_amount(section), statement.currency) for section in SECTION_ORDER}

    def get_total(self, statement) -> str:
        return money(statement.total_amount, statement.currency)

    @extend_schema_field(StatementConversionSerializer(allow_null=True))
    def get_conversion(self, statement) -> dict | None:
        """A list passes every row's conversion in its context (``conversions``: loaded for the page at once);
        a single statement reads its own."""
        conversions = self.context.get("conversions")
        converted = (
            conversions.get(statement.pk) if conversions is not None else statement_conversion(statement=statement)
        )
        data = conversion_data(statement, converted)
        return StatementConversionSerializer(data).data if data else None


class StatementDetailSerializer(StatementSerializer):
    lines = serializers.SerializerMethodField()

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "lines"]
        read_only_fields = fields

    def get_lines(self, statement) -> list[dict]:
        lines = statement.lines.select_related("adjustment").order_by("position")
        return StatementLineSerializer(lines, many=True, context={"currency": statement.currency}).data
