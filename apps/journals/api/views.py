"""Journal entries API: read a period's entries (``journal:read``) and acknowledge what the ERP posted
(``journal:write``). A request for a closed period with nothing booked books it first
(``services.journal_book_if_due``)."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.errors import ErrorSerializer
from apps.core.calendar import parse_period
from apps.journals import services
from apps.journals.common import with_lines
from apps.journals.filters import JournalEntryFilter
from apps.journals.models import JournalEntry
from apps.periods.models import BillingPeriod
from apps.tenancy.api.views import OrganizationReadOnlyViewSet
from apps.tenancy.roles import TokenScope

from .serializers import AcknowledgeSerializer, JournalEntrySerializer


@extend_schema_view(
    list=extend_schema(
        description="Journal entries, one per statement version booked (charge) or reversed (reversal), each "
        "balanced to the minor unit. `?period=YYYY-MM` books a closed period that has nothing booked yet. "
        "external_id is stable: key an ERP import on it."
    ),
    retrieve=extend_schema(description="One journal entry with its lines."),
)
class JournalEntryViewSet(OrganizationReadOnlyViewSet):
    queryset = JournalEntry.objects.none()
    serializer_class = JournalEntrySerializer
    filterset_class = JournalEntryFilter
    read_scope = TokenScope.JOURNAL_READ
    write_scope = TokenScope.JOURNAL_WRITE

    def restrict_queryset(self, queryset):
        return with_lines(queryset)

    def list(self, request, *args, **kwargs):
        self._book_requested_period(request)
        return super().list(request, *args, **kwargs)

    def _book_requested_period(self, request) -> None:
        text = request.query_params.get("period")
        try:
            month = parse_period(text) if text else None
        except ValidationError:
            return  # the filter answers 400
        if month is None:
            return
        billing_period = BillingPeriod.objects.filter(organization=request.organization, period=month).first()
        services.journal_book_if_due(organization=request.organization, billing_period=billing_period)

    @extend_schema(
        request=AcknowledgeSerializer,
        responses={
            200: JournalEntrySerializer,
            400: OpenApiResponse(ErrorSerializer, description="The body is invalid."),
            409: OpenApiResponse(ErrorSerializer, description="The entry is already posted under another reference."),
        },
        description="Report what the ERP did with the entry: posted (with its document number) or failed. "
        "Sending the same acknowledgement again changes nothing.",
    )
    @action(detail=True, methods=["post"], url_path="acknowledge")
    def acknowledge(self, request, pk=None):
        entry = self.get_object()
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            entry = services.journal_acknowledge(entry=entry, actor=request.user, **body.validated_data)
        except services.AcknowledgementConflict as exc:
            return Response({"detail": " ".join(exc.messages), "messages": exc.messages}, status=409)
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages), "messages": exc.messages}, status=400)
        return Response(self.get_serializer(self.get_queryset().get(pk=entry.pk)).data)
