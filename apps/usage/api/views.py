from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.core.limits import LimitExceeded
from apps.core.parsers import PayloadTooLarge, RawBodyParser, raw_body
from apps.ingest.api import JobRetryMixin
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope
from apps.usage.filters import IngestJobFilter
from apps.usage.models import IngestError, IngestJob
from apps.usage.services.ingest import ingest_job_create

from .serializers import IngestJobErrorsSerializer, IngestJobSerializer


@extend_schema_view(
    retry=extend_schema(
        request=None,
        responses={
            202: IngestJobSerializer,
            409: OpenApiResponse(
                response=ErrorSerializer, description="The job is not failed or interrupted, or was refused as a whole."
            ),
        },
        description="Queue a failed or interrupted job again; it resumes from its checkpoint, so rows committed "
        "by earlier attempts are neither stored nor counted again.",
    )
)
class UsageJobViewSet(JobRetryMixin, OrganizationReadOnlyViewSet):
    """Usage ingest jobs: POST a body of usage events, then follow the job."""

    queryset = IngestJob.objects.none()
    serializer_class = IngestJobSerializer
    # Jobs are followed by the client that uploads them: reading one needs the write scope too.
    read_scope = write_scope = TokenScope.USAGE_WRITE
    filterset_class = IngestJobFilter
    # An upload's Idempotency-Key names its job (apps.ingest.payloads): the same key and body answer that job.
    own_idempotency_actions = ("create",)

    def get_parsers(self):
        if getattr(self, "action", None) == "create" or (self.request and self.request.method == "POST"):
            return [RawBodyParser()]
        return super().get_parsers()

    @extend_schema(
        request={"application/x-ndjson": bytes, "application/json": bytes},
        responses={
            202: IngestJobSerializer,
            413: OpenApiResponse(
                response=ErrorSerializer,
                description="The body is over a limit: `limit` names its setting, `limit_value` its bytes.",
            ),
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        description="Usage events v1 as NDJSON (one object a line) or a JSON array. Answers 202 with the job; "
        "the same Idempotency-Key with the same body returns the same job.",
    )
    def create(self, request):
        body, first = raw_body(request)
        if body is None:
            raise DRFValidationError({"body": "The request body is empty: send NDJSON or a JSON array of events."})
        format_name = "json" if first == b"[" else "ndjson"
        try:
            job, created = ingest_job_create(
                organization=request.organization,
                actor=request.user,
                file_name=f"api-{format_name}-body",
                stream=body,
                format=format_name,
                channel=IngestJob.Channel.API,
                idempotency_key=request.headers.get("Idempotency-Key"),
            )
        except LimitExceeded as exc:
            raise PayloadTooLarge(exc) from exc
        except ValidationError as exc:
            raise DRFValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc
        job.refresh_from_db()
        response = Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = request.build_absolute_uri(f"{request.path}{job.pk}/")
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(responses=IngestJobErrorsSerializer, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def errors(self, request, pk=None):
        job = self.get_object()
        rows = IngestError.objects.filter(job=job).order_by("line", "id").values("line", "field", "message")
        return Response({"job": job.pk, "rejected": job.rejected, "errors": list(rows[:1000])})
