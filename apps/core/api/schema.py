"""The OpenAPI document tells the truth about errors: every operation declares the error statuses it can
answer, each with the one error body (``ErrorSerializer``), unless the view declares that status itself."""

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
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
}

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

    def error_statuses(self) -> list[str]:
        statuses = ["401", "403", "429"]
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
