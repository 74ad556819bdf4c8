"""``GET /api/v1/events/``: the organisation's events in ``seq`` order, for clients that poll.

``seq`` numbers an organisation's events without gaps and in commit order (``apps.webhooks.models``), so
``?after=<the last seq you have>`` never skips an event: keep the ``next`` URL of each answer and ask it
again later. ``has_more`` says a full page came back and more are waiting now. ``type`` keeps one event
type; ``limit`` (1 to 500, default 100) bounds a page.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from apps.core.api.filtering import single_values
from apps.tenancy.api.views import OrganizationScopedMixin
from apps.tenancy.roles import TokenScope
from apps.webhooks.models import Event, EventType

from .serializers import EventSerializer

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
MAX_SEQ = 2**63 - 1  # the seq column is a signed 64-bit integer
KNOWN_PARAMETERS = {"after", "limit", "type", "format"}  # format: DRF's response format


def _parameter_error(errors: dict[str, list[str]]) -> ValidationError:
    """A 400 by parameter, except ``limit``: the error body's ``limit`` is the 413's (the setting whose limit
    was crossed, a string), so the messages about this parameter go under ``non_field_errors``, named."""
    body = {name: messages for name, messages in errors.items() if name != "limit"}
    if "limit" in errors:
        body["non_field_errors"] = [f"limit: {message}" for message in errors["limit"]]
    return ValidationError(body)


def _whole_number(raw: str, *, name: str, low: int, high: int, message: str) -> int:
    # At most 20 digits before int(): past 4300 digits Python refuses to convert (a 500, not a 400).
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20) or not low <= int(raw) <= high:
        raise _parameter_error({name: [message]})
    return int(raw)


class EventFeedPagination(BasePagination):
    """Keyset paging over ``seq``: ``after`` is the last seq the client has, ``limit`` the page size."""

    after_query_param = "after"
    limit_query_param = "limit"

    def paginate_queryset(self, queryset, request, view=None):
        params = request.query_params
        errors = single_values(params, [self.after_query_param, self.limit_query_param])
        if errors:
            raise _parameter_error(errors)
        self.after = _whole_number(
            params.get(self.after_query_param, "0"),
            name=self.after_query_param,
            low=0,
            high=MAX_SEQ,
            message="Give the seq of the last event you have (a whole number; 0 for the start).",
        )
        self.limit = _whole_number(
            params.get(self.limit_query_param, str(DEFAULT_LIMIT)),
            name=self.limit_query_param,
            low=1,
            high=MAX_LIMIT,
            message=f"Give a whole number from 1 to {MAX_LIMIT}.",
        )
        self.request = request
        rows = list(queryset.filter(seq__gt=self.after).order_by("seq")[: self.limit + 1])
        self.has_more = len(rows) > self.limit
        self.page = rows[: self.limit]
        return self.page

    def next_url(self) -> str:
        last = self.page[-1].seq if self.page else self.after
        return replace_query_param(self.request.build_absolute_uri(), self.after_query_param, last)

    def get_paginated_response(self, data):
        return Response({"next": self.next_url(), "has_more": self.has_more, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "has_more", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "description": "This URL with after= the last seq of this page (the same after when the "
                    "page is empty): where to ask next.",
                },
                "has_more": {
                    "type": "boolean",
                    "description": "The page is full and more events are waiting: ask next now.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.after_query_param,
                "required": False,
                "in": "query",
                "description": "Only events with a seq above this one: the last seq you have (0, the default, "
                "from the first event).",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_SEQ, "default": 0},
            },
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Events per page, 1 to {MAX_LIMIT}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            },
        ]


class EventFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=EventType.choices, label="Event type")

    class Meta:
        model = Event
        fields = ["type"]


@extend_schema_view(
    list=extend_schema(
        description="What changed in the organisation, oldest first, numbered by `seq` without gaps and in "
        "commit order: poll with `?after=<the last seq you have>` (or follow `next`) and no event is ever "
        "skipped. Each row has the shape of the webhook body for the same event (same `id`, the webhook-id)."
    )
)
class EventFeedViewSet(OrganizationScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Event.objects.none()
    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = EventFeedPagination
    # The feed pages by seq (after, limit), not by cursor: the strict filter backend must know its parameters.
    extra_query_params = (EventFeedPagination.after_query_param, EventFeedPagination.limit_query_param)
    read_scope = TokenScope.EVENTS_READ

    def list(self, request, *args, **kwargs):
        # A poller that sends a parameter the feed does not read (page_size, since…) would believe it applied.
        unknown = sorted(set(request.query_params) - KNOWN_PARAMETERS)
        if unknown:
            names = ", ".join(repr(name) for name in unknown)
            raise ValidationError(
                {"non_field_errors": [f"Unknown parameter {names}: the feed takes after, limit and type."]}
            )
        return super().list(request, *args, **kwargs)
