"""DRF parsers that enforce a request-size limit before reading: DRF reads a body through ``request.read()``,
which Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not bound (it guards ``request.body`` and form parsing only).
The raw-body parser is the one every file-upload endpoint uses (usage events, bills)."""

import tempfile
from typing import BinaryIO

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException

from .limits import LimitExceeded, capped, too_large


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


class RawBodyParser(parsers.BaseParser):
    """Keeps the body as a file (in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then on disk): usage and bills
    arrive as raw files and are parsed by the ingest. More than INGEST_MAX_UPLOAD_BYTES is refused with 413
    as soon as it is known (from Content-Length, else while reading), never read whole."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.INGEST_MAX_UPLOAD_BYTES
        check_content_length(parser_context, limit=limit, setting="INGEST_MAX_UPLOAD_MB")
        body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115 (returned)
        if stream is not None:
            source = capped(stream, max_bytes=limit, what="The request body", limit="INGEST_MAX_UPLOAD_MB")
            try:
                while block := source.read(1024 * 1024):
                    body.write(block)
            except LimitExceeded as exc:
                body.close()
                raise PayloadTooLarge(exc) from exc
        body.seek(0)
        return body


def raw_body(request) -> tuple[BinaryIO | None, bytes]:
    """(the body as a file, its first non-blank byte); (None, b"") for an empty or blank body."""
    body = request.data if hasattr(request.data, "read") else None
    if body is None:
        return None, b""
    while block := body.read(64 * 1024):
        stripped = block.lstrip()
        if stripped:
            body.seek(0)
            return body, stripped[:1]
    return None, b""
