"""One error body for the whole API, and the exception handler that makes every error fit it.

Every error answers a JSON object. Errors that are not about fields (401, 403, 404, 405, 409, 413, 415, 429,
and a 400 for a body that does not parse) carry ``detail``, one sentence for a person; refusals that have
several reasons (period transitions) add ``messages``, every reason. A 400 about fields maps each field to its
messages, a list of strings (an object of item -> messages for a list or object field); messages that are
about no one field are under ``non_field_errors``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler


class ErrorSerializer(serializers.Serializer):
    """The body of every error response. ``detail`` says what went wrong; a refusal with several reasons adds
    ``messages``. A 400 about fields maps each field to its messages instead (``non_field_errors`` for those
    about no one field)."""

    detail = serializers.CharField(required=False, help_text="What went wrong, for a person.")
    messages = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Every reason, when a refusal has several."
    )
    limit = serializers.CharField(required=False, help_text="413 only: the setting whose limit was crossed.")
    limit_value = serializers.IntegerField(required=False, help_text="413 only: that limit, in bytes.")


def non_field_key() -> str:
    return settings.REST_FRAMEWORK.get("NON_FIELD_ERRORS_KEY", "non_field_errors")


def _as_messages(value):
    """A field's messages as the error body promises them: a list of strings, or an object for nested fields."""
    if isinstance(value, dict):
        return {str(key): _as_messages(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        if any(isinstance(item, dict | list | tuple) for item in value):
            return {str(index): _as_messages(item) for index, item in enumerate(value)}
        return [str(item) for item in value]
    return [str(value)]


def api_exception_handler(exc, context):
    """DRF's handler, then the body normalised to the one error shape: a validation error raised with a bare
    list or string becomes ``non_field_errors``, and a bare string under a field becomes a one-item list.

    A Django ``ValidationError`` (what services and ``TenantModel.clean()`` raise) is a 400 with its messages
    by field, wherever in a view it comes from; DRF alone would let it through as a 500."""
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(serializers.as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, ValidationError):
        return response
    data = response.data
    if isinstance(data, dict):
        response.data = {str(key): _as_messages(value) for key, value in data.items()}
    else:
        response.data = {non_field_key(): _as_messages(data if isinstance(data, list | tuple) else [data])}
    return response


class NotFoundView(APIView):
    """Any path under the API that matches no route: the API's 404 (JSON, the one error body), not the
    portal's HTML page. No token is needed to learn that a path does not exist."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    schema = None  # not an operation

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound()
