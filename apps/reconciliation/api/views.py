import re
from datetime import date

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.core.api.months import MONTH_PATH_PARAMETER
from apps.reconciliation.models import ReconciliationRun
from apps.reconciliation.selectors import latest_run
from apps.tenancy.api.views import OrganizationAPIView
from apps.tenancy.roles import TokenScope

from .serializers import ReconciliationRunSerializer

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PeriodReconciliationView(OrganizationAPIView):
    """The latest reconciliation run of a period (YYYY-MM) with its provider lines; 404 when the period
    has not been reconciled."""

    queryset = ReconciliationRun.objects.none()
    serializer_class = ReconciliationRunSerializer
    read_scope = TokenScope.PERIODS_READ

    @extend_schema(parameters=[MONTH_PATH_PARAMETER], responses=ReconciliationRunSerializer)
    def get(self, request, period: str):
        match = PERIOD_RE.match(period)
        if not match:
            raise NotFound("Use a period as YYYY-MM, e.g. 2026-10.")
        run = latest_run(organization=request.organization, period=date(int(match.group(1)), int(match.group(2)), 1))
        if run is None or run.organization_id != request.organization.pk:
            raise NotFound(f"{period} has not been reconciled.")
        return Response(self.get_serializer(run).data)
