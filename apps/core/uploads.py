"""Bounding what a multipart upload costs before any view sees it."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler


class CappedUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: passes on at most INGEST_MAX_UPLOAD_BYTES + 1 bytes of each file and
    drops the rest, so an oversized upload costs neither memory nor disk beyond the limit. The file the
    view receives is then one byte over the limit, and the form refuses it with the limit named
    (``check_upload_size``)."""

    def receive_data_chunk(self, raw_data, start):
        keep = settings.INGEST_MAX_UPLOAD_BYTES + 1 - start
        if keep <= 0:
            return None
        return raw_data[:keep]

    def file_complete(self, file_size):
        return None  # the next handler builds the file


def check_upload_size(upload) -> str | None:
    """The form error for an upload over INGEST_MAX_UPLOAD_BYTES, or None."""
    from .limits import size_text

    limit = settings.INGEST_MAX_UPLOAD_BYTES
    if upload is not None and upload.size > limit:
        return f"The file is larger than the upload limit of {size_text(limit)}."
    return None
