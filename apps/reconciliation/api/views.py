from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.core.api.months import MONTH_PATH_PARAMETER, month_in_path
from apps.jobs.api.serializers import JobSerializer
from apps.jobs.api.views import accepted
from apps.reconciliation.jobs import reconciliation_submit
from apps.reconciliation.models import ReconciliationRun
from apps.reconciliation.selectors import latest_run
from apps.tenancy.api.views import OrganizationAPIView
from apps.tenancy.roles import Perm, TokenScope

from .serializers import ReconciliationRunSerializer


class PeriodReconciliationView(OrganizationAPIView):
    """The latest reconciliation run of a period (YYYY-MM) with its provider lines; 404 when the period
    has not been reconciled. POST reconciles the period again, on a worker: 202 with the job to poll."""

    queryset = ReconciliationRun.objects.none()
    serializer_class = ReconciliationRunSerializer
    read_scope = TokenScope.PERIODS_READ
    write_scope = TokenScope.PERIODS_WRITE

    @extend_schema(parameters=[MONTH_PATH_PARAMETER], responses=ReconciliationRunSerializer)
    def get(self, request, period: str):
        run = latest_run(organization=request.organization, period=month_in_path(period))
        if run is None or run.organization_id != request.organization.pk:
            raise NotFound(f"{period} has not been reconciled.")
        return Response(self.get_serializer(run).data)

    @extend_schema(
        parameters=[MONTH_PATH_PARAMETER],
        request=None,
        responses={
            202: JobSerializer,
            403: OpenApiResponse(ErrorSerializer, description="The token's role may not prepare periods."),
            404: OpenApiResponse(ErrorSerializer, description="Not a period (YYYY-MM)."),
        },
        description="Reconcile the period: a job a worker runs (every POST makes a new run; while one for the "
        "period is queued or running, that job is answered). Poll the job (Location) until it succeeded (its "
        "result names the run, then GET this path) or failed (error_message says why; POST "
        "/api/v1/jobs/{id}/retry/). Always 202, even when the job already finished.",
    )
    def post(self, request, period: str):
        month = month_in_path(period)
        if not request.auth.has_perm(Perm.PREPARE_PERIOD):
            raise PermissionDenied("This token's role may not prepare periods (reconcile them).")
        job = reconciliation_submit(organization=request.organization, period=month, actor=request.user)
        return accepted(job, self.get_serializer_context())
