"""The OpenAPI document tells the truth about errors: every operation declares the error statuses it can
answer, each with the one error body (``ErrorSerializer``), unless the view declares that status itself."""

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .errors import ErrorSerializer

BODY_METHODS = ("POST", "PUT", "PATCH")

ERROR_DESCRIPTIONS = {
    "400": "The request is invalid: a parameter or the body (each field's messages, or detail).",
    "401": "No token, or the token is unknown, revoked or expired.",
    "403": "The token lacks the scope this request needs, or its member may not do this.",
    "404": "Nothing with this id or period in the token's organisation, or an invalid cursor.",
    "413": "The body is over the size limit named in detail.",
    "415": "The body's Content-Type is not one this operation reads.",
    "429": "Over the client's request rate; Retry-After says when to try again.",
    "409": "The Idempotency-Key is still in use by a request that has not answered yet: retry later.",
    "422": "The Idempotency-Key was already used for another request (another path or body).",
}

# The sync conventions every organisation-scoped view follows (apps/tenancy/api/views.py), said in the document.
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    OpenApiParameter.HEADER,
    required=False,
    description="Makes a retry safe: the same key with the same path and body answers the first request's "
    "status and body (with Idempotent-Replayed: true) instead of running it again; with another path or body "
    "422; while the first still runs 409. A 5xx is not kept. Keys are per API client, kept 48 hours (at least "
    "24). 1 to 255 visible ASCII characters, e.g. a UUID.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    response=["200", "201", "202"],
    description="Present when this is the stored answer to an earlier request with the same Idempotency-Key.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag of an earlier answer: 304 with no body when the answer would be the same.",
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=["200", "304"],
    description="The answer's entity tag (Cache-Control: private, no-cache; Vary: Authorization): send it back "
    "as If-None-Match.",
)
NOT_MODIFIED = "Not modified: If-None-Match named the current ETag. No body."

# Strings a filter or a body field refuses although nothing else in their schema excludes them.
NO_NUL_PATTERN = r"^[^\x00]*$"


def decimal_pattern(field) -> str:
    """drf-spectacular's decimal pattern lets every digit be optional, so it admits "" and "-", which DRF
    refuses; this one needs a digit."""
    places = field.decimal_places
    whole = "\\d+" if field.max_digits is None else f"\\d{{1,{max(field.max_digits - (places or 0), 1)}}}"
    if not places:
        return f"^-?{whole}$"
    return rf"^-?(?:{whole}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"


class ApiAutoSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field)
        # DRF's CharField refuses the NUL character ("Null characters are not allowed."): say so.
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and not ({"format", "enum", "pattern"} & set(schema))
        ):
            schema["pattern"] = NO_NUL_PATTERN
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if serializer is bytes:
            # A raw upload (usage events, a bill): an empty body is refused with 400, so the body is required.
            schema, required = {**schema, "minLength": 1}, True
        return schema, required

    def shares_idempotency(self) -> bool:
        """A POST of a view that follows the shared Idempotency-Key (not one whose handler keeps its own)."""
        if self.method != "POST" or not hasattr(self.view, "own_idempotency_actions"):
            return False
        handler = getattr(self.view, "action", None) or self.method.lower()
        return handler not in self.view.own_idempotency_actions

    def is_conditional_read(self) -> bool:
        return self.method == "GET" and hasattr(self.view, "own_idempotency_actions")

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.shares_idempotency():
            parameters += [IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED]
        if self.is_conditional_read():
            parameters += [IF_NONE_MATCH, ETAG]
        return parameters

    def error_statuses(self) -> list[str]:
        statuses = ["401", "403", "429"]
        if self.shares_idempotency():
            statuses += ["409", "422"]
        has_path_parameters = "{" in self.path
        is_list = self.method == "GET" and self._is_list_view()
        if self.method in BODY_METHODS or is_list:
            statuses.append("400")
        if has_path_parameters or is_list:
            statuses.append("404")
        if self.method in BODY_METHODS:
            statuses += ["413", "415"]
        return sorted(statuses)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self.error_statuses():
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status]), status
                )
        if self.is_conditional_read() and "200" in responses:
            responses["304"] = self._get_response_for_code(OpenApiResponse(description=NOT_MODIFIED), "304")
        return responses


class ErrorSerializerExtension(OpenApiSerializerExtension):
    """Adds the per-field messages of a 400 to the error body's schema as its other properties."""

    target_class = "apps.core.api.errors.ErrorSerializer"

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = {
            "description": "A field's messages: a list of strings, or an object of item -> messages.",
            "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}],
        }
        return schema


class StrictFilterExtension(DjangoFilterExtension):
    """The strict backend's parameters: django-filter's, with the NUL character excluded from free text (the
    filter forms refuse it)."""

    target_class = "apps.core.api.filtering.StrictFilterBackend"
    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "string" and not ({"format", "enum", "pattern"} & set(schema)):
                schema["pattern"] = NO_NUL_PATTERN
        return parameters
