import io

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from apps.accounts.scopes import TokenScope
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.usage.filters import IngestJobFilter
from apps.usage.models import IngestError, IngestJob
from apps.usage.services.ingest import ingest_job_create

from .serializers import IngestJobErrorsSerializer, IngestJobSerializer


class RawBodyParser(BaseParser):
    """Keeps the body as bytes: usage arrives as NDJSON or a JSON array and is parsed by the ingest."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


class UsageJobViewSet(OrganizationReadOnlyViewSet):
    """Usage ingest jobs: POST a body of usage events, then follow the job."""

    queryset = IngestJob.objects.none()
    serializer_class = IngestJobSerializer
    required_scopes = {"GET": TokenScope.USAGE_WRITE, "POST": TokenScope.USAGE_WRITE}
    filterset_class = IngestJobFilter

    def get_parsers(self):
        if getattr(self, "action", None) == "create" or (self.request and self.request.method == "POST"):
            return [RawBodyParser()]
        return super().get_parsers()

    @extend_schema(
        request={"application/x-ndjson": bytes, "application/json": bytes},
        responses={202: IngestJobSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        description="Usage events v1 as NDJSON (one object a line) or a JSON array. Answers 202 with the job; "
        "the same Idempotency-Key with the same body returns the same job.",
    )
    def create(self, request):
        body = request.data if isinstance(request.data, bytes) else b""
        if not body.strip():
            raise DRFValidationError({"body": "The request body is empty: send NDJSON or a JSON array of events."})
        stripped = body.lstrip()
        format_name = "json" if stripped[:1] == b"[" else "ndjson"
        try:
            job, created = ingest_job_create(
                organization=request.organization,
                actor=request.user,
                file_name=f"api-{format_name}-body",
                stream=io.BytesIO(body),
                format=format_name,
                channel=IngestJob.Channel.API,
                idempotency_key=request.headers.get("Idempotency-Key"),
            )
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
