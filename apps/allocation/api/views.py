"""Allocation API: a period's current run as the ``allocate --json`` object with the run's identity, and
its lines (cursor-paginated, filterable by owner). Reading needs ``periods:read``."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.allocation.models import AllocationLine, AllocationRun
from apps.allocation.runs.filters import AllocationLineFilter
from apps.allocation.runs.jobs import allocation_submit
from apps.allocation.runs.selectors import current_run, run_summary_json
from apps.core.api.errors import ErrorSerializer
from apps.core.api.months import MONTH_PATH_PARAMETER, month_in_path
from apps.core.money import footed_minor_units
from apps.jobs.api.serializers import JobSerializer
from apps.jobs.api.views import accepted
from apps.tenancy.api.views import OrganizationAPIView, OrganizationScopedMixin
from apps.tenancy.roles import Perm, TokenScope

from .serializers import AllocationLineSerializer, AllocationSummarySerializer

PERIOD_PARAMETER = MONTH_PATH_PARAMETER


def period_run(request, period: str) -> AllocationRun:
    """The period's current run (its draft, else its latest issued run), or a 404 that says why."""
    run = current_run(organization=request.organization, period=month_in_path(period))
    if run is None:
        raise NotFound(f"{period} has not been allocated.")
    return run


def run_summary(run: AllocationRun) -> dict:
    # Estimated and true-up are footed together, so they add up to pool_total like the owners do.
    parts = footed_minor_units({"estimated": run.estimated_nano, "true_up": run.true_up_nano}, run.currency)
    return {
        **run_summary_json(run=run),
        "currency": run.currency,
        "status": run.status,
        "run_id": run.pk,
        "created_at": run.created_at,
        "estimated": str(parts["estimated"]),
        "true_up": str(parts["true_up"]),
    }


class PeriodAllocationView(OrganizationAPIView):
    """The current allocation of a period (YYYY-MM): pool, Unallocated and each owner's amount, footed to
        the currency's minor unit so they add up; 404 when the period has not been allocated. POST allocates it
    again, on a worker: 202 with the job to poll."""

    queryset = AllocationRun.objects.none()
    serializer_class = AllocationSummarySerializer
    read_scope = TokenScope.PERIODS_READ
    write_scope = TokenScope.PERIODS_WRITE

    @extend_schema(parameters=[PERIOD_PARAMETER], responses=AllocationSummarySerializer)
    def get(self, request, period: str):
        run = period_run(request, period)
        return Response(AllocationSummarySerializer(run_summary(run)).data)

    @extend_schema(
        parameters=[PERIOD_PARAMETER],
        request=None,
        responses={
            202: JobSerializer,
            400: OpenApiResponse(ErrorSerializer, description="The period is frozen, or no rule set is published."),
            403: OpenApiResponse(ErrorSerializer, description="The token's role may not prepare periods."),
            404: OpenApiResponse(ErrorSerializer, description="Not a period (YYYY-MM)."),
        },
        description="Allocate the period with the primary rule set's published version: a job a worker runs. "
        "A frozen period or no published rule set is refused at once (400). Poll the job (Location) until it "
        "succeeded (its result names the run: the period's draft, replaced, or kept when nothing changed) or "
        "failed (error_message says why; POST /api/v1/jobs/{id}/retry/). While one is queued or running for the "
        "period, that job is answered. Always 202, even when the job already finished.",
    )
    def post(self, request, period: str):
        month = month_in_path(period)
        if not request.auth.has_perm(Perm.PREPARE_PERIOD):
            raise PermissionDenied("This token's role may not prepare periods (allocate them).")
        try:
            job = allocation_submit(organization=request.organization, period=month, actor=request.user)
        except ValidationError as exc:
            raise DRFValidationError(exc.messages) from exc
        return accepted(job, self.get_serializer_context())


@extend_schema(parameters=[PERIOD_PARAMETER])
class PeriodAllocationLinesView(OrganizationScopedMixin, generics.ListAPIView):
    """The lines of a period's current allocation, in the engine's order, with the rule, method, share and
    explanation of each; amounts are exact (nano-units). ``?owner=CODE`` keeps one owner's lines;
    Unallocated lines have ``owner: null``."""

    queryset = AllocationLine.objects.none()
    serializer_class = AllocationLineSerializer
    filterset_class = AllocationLineFilter
    read_scope = TokenScope.PERIODS_READ

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no token, no organisation
            return AllocationLine.objects.none()
        run = period_run(self.request, self.kwargs["period"])
        return AllocationLine.objects.filter(organization=self.request.organization, run=run)
