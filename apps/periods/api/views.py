"""Periods API: read periods (``periods:read``) and move them along the workflow (``periods:write``).

A token is a service account acting as itself (see ``apps.periods.services``): it prepares when its own
role allows it; approving, closing, reopening and overriding a guard are human actions it is refused (403,
the rule named). The transitions that issue or finalise statements are checked in the request, then done by a
worker: 202 with the job (``apps.periods.jobs``). Refusals answer 409 (wrong state: a step cannot be skipped),
403 (who may not) or 400 (guards), each with every message.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.core.api.months import MONTH_REGEX, month_in_path
from apps.jobs.api.serializers import JobSerializer
from apps.jobs.api.views import accepted
from apps.periods import jobs, selectors
from apps.periods.filters import BillingPeriodFilter
from apps.periods.late_data import late_data_for
from apps.periods.models import BillingPeriod
from apps.periods.services import PeriodTransitionError, period_transition
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import BillingPeriodSerializer, TransitionRequestSerializer

PERIOD_REGEX = MONTH_REGEX


class PeriodViewSet(OrganizationReadOnlyViewSet):
    """Billing periods: one per month that has been worked on, with its state and sign-offs."""

    queryset = BillingPeriod.objects.none()
    serializer_class = BillingPeriodSerializer
    filterset_class = BillingPeriodFilter
    lookup_field = "period"
    lookup_value_regex = PERIOD_REGEX
    read_scope = TokenScope.PERIODS_READ
    write_scope = TokenScope.PERIODS_WRITE

    def restrict_queryset(self, queryset):
        return queryset.select_related("organization")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["late_data"] = getattr(self, "_late_data", {})
        return context

    def _month(self):
        return month_in_path(self.kwargs["period"])

    def get_object(self):
        month = self._month()
        billing_period = self.get_queryset().filter(period=month).first()
        if billing_period is None:
            raise NotFound(
                f"{month:%Y-%m} has no billing period yet: its first transition (start_reconciliation) "
                "or allocation creates it."
            )
        return billing_period

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        self._late_data = late_data_for(organization=request.organization, billing_periods=page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        billing_period = self.get_object()
        self._late_data = late_data_for(organization=request.organization, billing_periods=[billing_period])
        return Response(self.get_serializer(billing_period).data)

    @extend_schema(
        request=TransitionRequestSerializer,
        responses={
            200: OpenApiResponse(BillingPeriodSerializer, description="start_reconciliation, approve, reopen: done."),
            202: OpenApiResponse(
                JobSerializer,
                description="submit_for_review, close (and send_back): checked, then done by a worker (they issue, "
                "finalise or withdraw statements). Poll the job (Location) until it succeeded or failed.",
            ),
            400: OpenApiResponse(ErrorSerializer, description="A guard blocks it, or the body is invalid."),
            403: OpenApiResponse(ErrorSerializer, description="The token may not: its role, or a human-only action."),
            404: OpenApiResponse(ErrorSerializer, description="The month has no usage, invoices or billing period."),
            409: OpenApiResponse(
                ErrorSerializer,
                description="The period is not in the state it leaves, or a job is moving it now.",
            ),
        },
        description="Apply one preparing transition: start_reconciliation (200, the period) or submit_for_review "
        "(checked now, then 202 and the job that issues the statements), when the token's own role may prepare. "
        "approve, close, reopen, send_back and an override are human actions: every token is refused them with 403 "
        "and the rule (do them in the portal).",
    )
    @action(detail=True, methods=["post"], url_path="transitions")
    def transitions(self, request, period=None):
        month = self._month()
        if not selectors.month_exists(organization=request.organization, period=month):
            raise NotFound(f"{month:%Y-%m} has no usage, invoices or billing period.")
        body = TransitionRequestSerializer(data=request.data)
        if not body.is_valid():
            return Response(
                {"detail": "Invalid transition request.", "messages": _flatten(body.errors)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        name = body.validated_data["transition"]
        args = {
            "organization": request.organization,
            "period": month,
            "transition": name,
            "actor": request.user,
            "reason": body.validated_data["reason"],
            "override": body.validated_data["override"],
        }
        try:
            if jobs.runs_as_job(name):  # checked now, done by a worker: 202 and the job to poll
                return accepted(jobs.period_transition_submit(**args), self.get_serializer_context())
            active = jobs.active_period_job(organization=request.organization, period=month)
            if active is not None:
                raise jobs.busy_error(active)
            billing_period = period_transition(**args)
        except PeriodTransitionError as exc:
            return Response({"detail": " ".join(exc.messages), "messages": exc.messages}, status=exc.status_code)
        self._late_data = late_data_for(organization=request.organization, billing_periods=[billing_period])
        return Response(self.get_serializer(billing_period).data)


def _flatten(errors: dict) -> list[str]:
    return [f"{field}: {message}" for field, messages in errors.items() for message in messages]
