"""/api/v1/jobs/: the background jobs a token may follow (those of the kinds its scopes read), and their
retry. A POST elsewhere that starts heavy work answers 202 with the job (``accepted``)."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.jobs import services
from apps.jobs.models import Job
from apps.jobs.registry import job_kind, job_kinds
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import JobSerializer


def accepted(job: Job, context: dict) -> Response:
    """The answer of a POST that queued ``job``: 202, the job, and where to poll it."""
    body = JobSerializer(job, context=context).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class JobViewSet(OrganizationReadOnlyViewSet):
    """Jobs: heavy work (reconciliation and allocation runs, issuing statements) done by a worker. Poll a job
    until its status is succeeded (``result`` says what it made) or failed (``error_message`` says why)."""

    queryset = Job.objects.none()
    serializer_class = JobSerializer
    filterset_class = None
    read_scope = TokenScope.PERIODS_READ
    write_scope = TokenScope.PERIODS_WRITE

    def restrict_queryset(self, queryset):
        scopes = set(getattr(self.request.auth, "scopes", None) or [])
        kinds = [kind.kind for kind in job_kinds() if kind.scope in scopes]
        return queryset.filter(kind__in=kinds).order_by("-created_at", "-id")

    @extend_schema(
        request=None,
        responses={
            202: JobSerializer,
            400: OpenApiResponse(ErrorSerializer, description="The job is not failed or interrupted."),
            403: OpenApiResponse(ErrorSerializer, description="The token's role may not run this kind of job."),
        },
        description="Queue a failed or interrupted job again.",
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        job = self.get_object()
        client = request.auth
        if client is None or not client.has_perm(job_kind(job.kind).perm):
            raise PermissionDenied("This token's role may not run this kind of job.")
        try:
            job = services.job_retry(job=job, actor=request.user)
        except ValidationError as exc:
            raise DRFValidationError(exc.messages) from exc
        return accepted(job, self.get_serializer_context())
