from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import JsonBooleanField
from apps.core.api.months import MonthField
from apps.core.calendar import period_bounds
from apps.periods.late_data import LateData
from apps.periods.models import BillingPeriod
from apps.periods.workflow import TRANSITIONS, transition_from


class LateDataSerializer(serializers.Serializer):
    usage_rows = serializers.IntegerField()
    invoice_lines = serializers.IntegerField()
    first_at = serializers.DateTimeField(allow_null=True)
    last_at = serializers.DateTimeField(allow_null=True)


class BillingPeriodSerializer(serializers.ModelSerializer):
    period = MonthField(read_only=True, help_text="YYYY-MM: the month the period starts in.")
    starts_on = serializers.SerializerMethodField(help_text="First day of usage in the period.")
    ends_before = serializers.SerializerMethodField(help_text="First day of usage after the period.")
    next_transition = serializers.SerializerMethodField(help_text="The one transition that leaves the current state.")
    late_data = serializers.SerializerMethodField(
        help_text="Usage rows and invoice lines that arrived after the period left open (this version)."
    )

    class Meta:
        model = BillingPeriod
        fields = [
            "id",
            "period",
            "starts_on",
            "ends_before",
            "state",
            "version",
            "next_transition",
            "state_changed_at",
            "prepared_by_label",
            "prepared_at",
            "override_reason",
            "override_by_label",
            "override_at",
            "approved_by_label",
            "approved_at",
            "closed_by_label",
            "closed_at",
            "late_data",
            "updated_at",
        ]
        read_only_fields = fields

    def get_starts_on(self, billing_period) -> str:
        start_day = billing_period.organization.period_start_day
        return period_bounds(billing_period.period, start_day=start_day)[0].isoformat()

    def get_ends_before(self, billing_period) -> str:
        start_day = billing_period.organization.period_start_day
        return period_bounds(billing_period.period, start_day=start_day)[1].isoformat()

    @extend_schema_field(serializers.CharField(help_text=f"One of {', '.join(TRANSITIONS)}."))
    def get_next_transition(self, billing_period) -> str:
        return transition_from(billing_period.state).name

    @extend_schema_field(LateDataSerializer)
    def get_late_data(self, billing_period) -> dict:
        late = self.context.get("late_data", {}).get(billing_period.pk, LateData())
        return {
            "usage_rows": late.usage_rows,
            "invoice_lines": late.invoice_lines,
            "first_at": serializers.DateTimeField().to_representation(late.first_at) if late.first_at else None,
            "last_at": serializers.DateTimeField().to_representation(late.last_at) if late.last_at else None,
        }


class TransitionRequestSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=list(TRANSITIONS))
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    override = JsonBooleanField(
        required=False,
        default=False,
        help_text="submit_for_review: go to review although reconciliation is outside tolerance; close: close "
        "although an earlier period is still reconciling, in review or approved (either needs a member who may "
        "approve periods, and a reason: a token is refused it).",
    )
