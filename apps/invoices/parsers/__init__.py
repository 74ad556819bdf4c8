"""Readers that turn a provider bill into ``ParsedLine``s and ``RowError``s.

Each reader is a generator over a binary stream: a bad row yields a ``RowError`` (line and field) and the
reader carries on; a file that cannot be read at all raises ``FileRefused`` (``apps.ingest.rows``)."""

from apps.ingest.rows import FileRefused, RowError

from .base import ParsedLine
from .registry import FORMAT_CHOICES, FORMATS, detect_format, reader_for

__all__ = ["FORMATS", "FORMAT_CHOICES", "FileRefused", "ParsedLine", "RowError", "detect_format", "reader_for"]
