"""Readers that turn a usage file into ``UsageEvent``s and ``RowError``s, one pass, bounded memory.

Every reader is a generator over a binary stream; a problem with one row yields a ``RowError`` and the
reader carries on, a problem with the file as a whole raises ``FileRefused`` before anything is yielded
where it can be known up front (see ``apps.usage.services.ingest.prescan``).
"""

from apps.ingest.rows import FileRefused, RowError

from .base import UsageEvent
from .registry import FORMATS, detect_format, reader_for

__all__ = ["FORMATS", "FileRefused", "RowError", "UsageEvent", "detect_format", "reader_for"]
