"""GET /api/v1/journal-entries/export/?period=YYYY-MM&layout=netsuite|sap|generic: a period's journal as a
CSV file in an ERP's import layout (``apps.journals.layouts``), scope journal:read.

The layout is chosen with ``layout``: ``format`` is DRF's (it picks the renderer of a response). The file
is the same as the portal's download and the ``export_journal`` command's output (``exports.journal_export``).
Errors answer the API's JSON error body, whatever the request's Accept header asked for.
"""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.renderers import JSONRenderer

from apps.core.api.errors import ErrorSerializer
from apps.core.api.months import MONTH_SCHEMA, MonthField
from apps.core.csv import CONTENT_TYPE
from apps.journals.exports import NoJournal, journal_export
from apps.journals.layouts import LAYOUT_CHOICES, LayoutError
from apps.journals.models import JournalEntry
from apps.tenancy.api.views import OrganizationAPIView
from apps.tenancy.roles import TokenScope


class ExportQuerySerializer(serializers.Serializer):
    period = MonthField()
    layout = serializers.ChoiceField(choices=LAYOUT_CHOICES)


class JournalConflict(APIException):
    status_code = 409
    default_detail = "The period has no journal entries."
    default_code = "no_journal"


class JournalEntryExportView(OrganizationAPIView):
    queryset = JournalEntry.objects.none()
    read_scope = TokenScope.JOURNAL_READ
    renderer_classes = [JSONRenderer]
    pagination_class = None
    filter_backends: list = []

    def perform_content_negotiation(self, request, force=False):
        # Whatever Accept asks for (text/csv, */*): the file itself on success (an HttpResponse, no renderer
        # involved), the API's JSON error body otherwise. No 406 for a client that asks for the CSV it gets.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        operation_id="journal_entries_export",
        parameters=[
            OpenApiParameter(
                "period", MONTH_SCHEMA, OpenApiParameter.QUERY, required=True, description="The month, as YYYY-MM."
            ),
            OpenApiParameter(
                "layout",
                str,
                OpenApiParameter.QUERY,
                required=True,
                enum=list(LAYOUT_CHOICES),
                description="netsuite: NetSuite's journal entry CSV import (rows sharing an External ID form one "
                "entry); sap: BAPI_ACC_DOCUMENT_POST fields, signed amounts; generic: the API's fields per line.",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The CSV file (Content-Disposition: attachment with its filename)."
            ),
            400: OpenApiResponse(ErrorSerializer, description="A missing or invalid period or layout."),
            404: OpenApiResponse(ErrorSerializer, description="The month has no billing period."),
            409: OpenApiResponse(
                ErrorSerializer, description="The period has no journal entries (not closed, or nothing booked)."
            ),
        },
        description="A period's journal entries as one CSV file in an ERP's import layout: every entry of the "
        "period (charges, and after a reopen the reversals and the next version's charges), one row per line.",
    )
    def get(self, request):
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            export = journal_export(
                organization=request.organization,
                period=query.validated_data["period"],
                layout=query.validated_data["layout"],
            )
        except NoJournal as refusal:
            if refusal.status == 404:
                raise NotFound(refusal.message) from None
            raise JournalConflict(refusal.message) from None
        except LayoutError as error:
            raise DRFValidationError({"layout": [str(error)]}) from None
        response = HttpResponse(export.text, content_type=CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
