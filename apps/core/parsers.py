"""DRF parsers that enforce a request-size limit before reading: DRF reads a body through ``request.read()``,
which Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not bound (it guards ``request.body`` and form parsing only)."""

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException

from .limits import LimitExceeded, too_large


class PayloadTooLarge(APIException):
    """413, with the limit named: {"detail": ..., "limit": "SETTING", "limit_value": bytes}."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self, exc: LimitExceeded):
        super().__init__(exc.message)
        # Set as is (not coerced to strings): the limit's value stays a number.
        self.detail = {"detail": exc.message, "limit": exc.limit, "limit_value": exc.value}


def check_content_length(parser_context, *, limit: int, setting: str) -> None:
    """413 when the request declares a body over ``limit`` (WSGI reads no more than Content-Length)."""
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if declared and str(declared).isdigit() and int(declared) > limit:
        raise PayloadTooLarge(too_large(what="The request body", limit=setting, value=limit))


class CappedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_content_length(
            parser_context, limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE, setting="DATA_UPLOAD_MAX_MEMORY_SIZE"
        )
        return super().parse(stream, media_type, parser_context)
