"""Invoice API.

Scopes: uploading (POST) and following an import need ``invoices:write``. Reading invoices and their
lines needs ``periods:read``: bills are the other half of reconciliation, and the ERP connectors that
read periods and reconciliations are the ones that read what they tie to; an uploader that should not
see the company's bills can still push them.
"""

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.core.api.errors import ErrorSerializer
from apps.core.limits import LimitExceeded
from apps.core.parsers import PayloadTooLarge, RawBodyParser, raw_body
from apps.ingest.api import JobRetryMixin
from apps.invoices.filters import InvoiceImportFilter, InvoiceLineFilter, ProviderInvoiceFilter
from apps.invoices.models import InvoiceIngestJob, InvoiceLine, ProviderInvoice
from apps.invoices.parsers import FORMAT_CHOICES
from apps.invoices.selectors import invoice_restatements
from apps.invoices.services.ingest import invoice_ingest_create
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import (
    InvoiceImportSerializer,
    InvoiceLineRestatementSerializer,
    InvoiceLineSerializer,
    ProviderInvoiceSerializer,
)

# The upload's file-format parameter is file_format: DRF owns ?format= (URL_FORMAT_OVERRIDE, the response's format).
OLD_FORMAT_PARAMETER = api_settings.URL_FORMAT_OVERRIDE or "format"


class InvoiceViewSet(OrganizationReadOnlyViewSet):
    """Provider invoices: GET to read them (with their lines under ``lines/``), POST a bill to ingest it."""

    queryset = ProviderInvoice.objects.none()
    serializer_class = ProviderInvoiceSerializer
    filterset_class = ProviderInvoiceFilter
    read_scope = TokenScope.PERIODS_READ
    write_scope = TokenScope.INVOICES_WRITE
    # A bill's Idempotency-Key names its import job (apps.ingest.payloads): the same key and body answer that job.
    own_idempotency_actions = ("create",)

    def restrict_queryset(self, queryset):
        return queryset.annotate(
            line_count=Count("lines", distinct=True), restated_count=Count("restatements", distinct=True)
        )

    def get_parsers(self):
        if self.request is not None and self.request.method == "POST":
            return [RawBodyParser()]
        return super().get_parsers()

    def perform_content_negotiation(self, request, force=False):
        # DRF reads ?format= as the response's format and answers 404 before the view runs; an upload that
        # still names the file's format that way gets a 400 from create() instead, after authentication.
        if request.method == "POST" and OLD_FORMAT_PARAMETER in request.query_params:
            force = True
        return super().perform_content_negotiation(request, force=force)

    @extend_schema(
        request={"text/csv": bytes, "application/json": bytes, "application/x-ndjson": bytes},
        responses={
            201: InvoiceImportSerializer,
            202: InvoiceImportSerializer,
            413: OpenApiResponse(
                response=ErrorSerializer,
                description="The body is over a limit: `limit` names its setting, `limit_value` its bytes.",
            ),
        },
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False),
            OpenApiParameter(
                "file_format",
                str,
                enum=list(FORMAT_CHOICES),
                required=False,
                description="The bill's format; leave it out to detect it. (?format= is DRF's: it chooses the "
                "response's format, and a POST with it answers 400 naming file_format.)",
            ),
            OpenApiParameter("file_name", str, required=False),
        ],
        description="The raw bytes of a bill (FOCUS CSV, OpenAI Costs pages, Anthropic cost report, AWS CUR 2.0 "
        "CSV or the generic CSV; ?file_format= to skip detection). 201 with the import when it has been processed, "
        "202 when it is queued; follow it under /invoice-imports/{id}/. The same Idempotency-Key with the same "
        "body returns the same import (Idempotent-Replayed: true).",
    )
    def create(self, request):
        body, _first = raw_body(request)
        if body is None:
            raise DRFValidationError({"body": "The request body is empty: send the invoice file as the body."})
        if OLD_FORMAT_PARAMETER in request.query_params:
            raise DRFValidationError(
                {
                    OLD_FORMAT_PARAMETER: [
                        "?format= chooses the format of the response; name the file's format with ?file_format= "
                        f"(one of {', '.join(FORMAT_CHOICES)}), or leave it out to detect it."
                    ]
                }
            )
        format_name = request.query_params.get("file_format", "auto")
        try:
            job, created = invoice_ingest_create(
                organization=request.organization,
                actor=request.user,
                file_name=request.query_params.get("file_name", f"api-invoice-{format_name}")[:255],
                stream=body,
                format=format_name,
                channel=InvoiceIngestJob.Channel.API,
                idempotency_key=request.headers.get("Idempotency-Key"),
            )
        except LimitExceeded as exc:
            raise PayloadTooLarge(exc) from exc
        except ValidationError as exc:
            raise DRFValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc
        job.refresh_from_db()
        code = status.HTTP_201_CREATED if job.is_finished else status.HTTP_202_ACCEPTED
        response = Response(InvoiceImportSerializer(job, context=self.get_serializer_context()).data, status=code)
        response["Location"] = request.build_absolute_uri(reverse("api:invoice-import-detail", kwargs={"pk": job.pk}))
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(responses=InvoiceLineSerializer(many=True))
    @action(detail=True, methods=["get"])
    def lines(self, request, pk=None):
        invoice = self.get_object()
        queryset = InvoiceLineFilter(request.query_params, queryset=InvoiceLine.objects.filter(invoice=invoice)).qs
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(InvoiceLineSerializer(page, many=True).data)

    @extend_schema(responses=InvoiceLineRestatementSerializer(many=True))
    @action(detail=True, methods=["get"])
    def restatements(self, request, pk=None):
        """The invoice's lines that a later pull of the same cost-report bucket superseded, newest first."""
        invoice = self.get_object()
        page = self.paginate_queryset(invoice_restatements(invoice=invoice))
        return self.get_paginated_response(InvoiceLineRestatementSerializer(page, many=True).data)


@extend_schema_view(
    retry=extend_schema(
        request=None,
        responses={
            202: InvoiceImportSerializer,
            409: OpenApiResponse(
                response=ErrorSerializer, description="The import is not failed or interrupted, or was refused."
            ),
        },
        description="Queue a failed or interrupted import again (nothing of it was stored: it reads the file again).",
    )
)
class InvoiceImportViewSet(JobRetryMixin, OrganizationReadOnlyViewSet):
    """Invoice imports (files received), with their result."""

    queryset = InvoiceIngestJob.objects.none()
    serializer_class = InvoiceImportSerializer
    # Jobs are followed by the client that uploads them: reading one needs the write scope too.
    read_scope = write_scope = TokenScope.INVOICES_WRITE
    filterset_class = InvoiceImportFilter
