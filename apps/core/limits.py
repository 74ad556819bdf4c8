"""Hard limits on what comes in: bounded reads, capped gzip decompression, JSON arrays read element by element.

Everything here streams: memory is a buffer or one element whatever the input's size. A limit that is
crossed raises ``LimitExceeded`` naming the limit, as soon as it is crossed (never after reading the rest).
"""

import codecs
import gzip
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import BinaryIO

import ijson

BLOCK = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# The compression ratio is judged only once this much has come out: small files of repetitive text
# compress far beyond any ratio limit and are harmless.
RATIO_FLOOR = 10 * 1024 * 1024


class LimitExceeded(Exception):
    """Input over a configured limit. ``limit`` names it (the setting), ``value`` is its value."""

    def __init__(self, message: str, *, limit: str, value: int):
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.value = value


def size_text(size: int) -> str:
    """1024-based, as the settings are given: 52428800 -> "50 MB", 1536 -> "1.5 KB"."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            figure = size / scale
            return f"{figure:.0f} {unit}" if figure == int(figure) else f"{figure:.1f} {unit}"
    return f"{size} bytes"


def too_large(*, what: str, limit: str, value: int) -> LimitExceeded:
    return LimitExceeded(f"{what} is larger than the limit of {size_text(value)}.", limit=limit, value=value)


class _CountingReader(io.RawIOBase):
    """Reads from ``source`` and counts the bytes; ``check`` runs after every read. Closing it closes
    ``source`` when ``owns_source``."""

    def __init__(self, source: BinaryIO, check=None, *, owns_source: bool = True):
        self.source = source
        self.count = 0
        self.check = check
        self.owns_source = owns_source

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed and self.owns_source:
            self.source.close()
        super().close()

    def readinto(self, buffer) -> int:
        data = self.source.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        if self.check is not None:
            self.check(self.count)
        return size


def capped(stream: BinaryIO, *, max_bytes: int, what: str, limit: str) -> BinaryIO:
    """A buffered reader of ``stream`` that raises LimitExceeded once more than ``max_bytes`` were read."""

    def check(count: int) -> None:
        if count > max_bytes:
            raise too_large(what=what, limit=limit, value=max_bytes)

    return io.BufferedReader(_CountingReader(stream, check, owns_source=False), buffer_size=64 * 1024)


def gunzip_capped(compressed: BinaryIO, *, max_bytes: int, max_ratio: int) -> BinaryIO:
    """Decompress ``compressed`` as it is read, refusing more than ``max_bytes`` of output or an output
    more than ``max_ratio`` times the compressed bytes consumed so far (once past RATIO_FLOOR)."""
    source = _CountingReader(compressed)
    unzipped = gzip.GzipFile(fileobj=io.BufferedReader(source, buffer_size=64 * 1024), mode="rb")

    def check(count: int) -> None:
        if count > max_bytes:
            raise too_large(what="The decompressed file", limit="INGEST_MAX_DECOMPRESSED_MB", value=max_bytes)
        if count > RATIO_FLOOR and count > max_ratio * max(source.count, 1):
            raise LimitExceeded(
                f"The file decompresses to more than {max_ratio} times its compressed size, the limit for "
                "compressed files (it looks like a decompression bomb).",
                limit="INGEST_MAX_GZIP_RATIO",
                value=max_ratio,
            )

    return io.BufferedReader(_CountingReader(unzipped, check), buffer_size=64 * 1024)


def drain(stream: BinaryIO) -> int:
    """Read a stream to its end in blocks (so its limits are checked); returns the byte count."""
    total = 0
    while block := stream.read(BLOCK):
        total += len(block)
    return total


class JSONStreamError(ValueError):
    """The JSON text is broken at (or after) the ``position``-th element of the array (or line)."""

    def __init__(self, message: str, position: int, *, too_long: bool = False):
        super().__init__(message)
        self.position = position
        self.too_long = too_long

    def row_message(self) -> str:
        return str(self) if self.too_long else f"invalid JSON: {self}"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()


def first_significant_byte(stream: BinaryIO) -> bytes:
    """The first byte of the first 4 KB that is not whitespace or a UTF-8 byte order mark, without consuming
    anything (``stream`` must support ``peek``); b"" when there is none."""
    head = stream.peek(4096)[:4096]
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    return head.lstrip()[:1]


def _skip_bom(stream: BinaryIO) -> None:
    if stream.peek(3)[:3] == codecs.BOM_UTF8:
        stream.read(3)


def iter_json_array(stream: BinaryIO) -> Iterator[tuple[int, object]]:
    """(position, element) for each element of the top-level JSON array of ``stream``, read incrementally
    (see iter_json_values); JSONStreamError at position 1 when the top-level value is not an array."""
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream)
    first = first_significant_byte(buffered)
    if first and first != b"[":
        raise JSONStreamError("expected a JSON array", 1)
    return iter_json_values(buffered)


def iter_json_values(stream: BinaryIO) -> Iterator[tuple[int, object]]:
    """(position, value) for the top-level JSON value of ``stream``, read incrementally: each element of a
    top-level array in turn (positions from 1), else the one value (position 1). Numbers with a fraction
    are Decimals, never floats. Memory is one element, whatever the array's length. A syntax error raises
    JSONStreamError after the elements before it were yielded."""
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream)
    first = first_significant_byte(buffered)
    if not first:
        raise JSONStreamError("the JSON text is empty", 1)
    _skip_bom(buffered)
    prefix = "item" if first == b"[" else ""
    position = 0
    try:
        for position, value in enumerate(ijson.items(buffered, prefix, use_float=False), start=1):
            yield position, value
    except ijson.JSONError as exc:
        raise JSONStreamError(_first_line(exc), position + 1) from exc


class _Prepended(io.RawIOBase):
    """``head`` followed by the rest of ``source``."""

    def __init__(self, head: bytes, source: BinaryIO):
        self.head = memoryview(head)
        self.source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size] = self.head[:size]
            self.head = self.head[size:]
            return size
        data = self.source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def lookahead(stream: BinaryIO, size: int) -> tuple[bytes, BinaryIO]:
    """The first ``size`` bytes of ``stream`` (fewer at its end), and a stream that still starts with them."""
    head = stream.read(size)
    return head, io.BufferedReader(_Prepended(head, stream), buffer_size=64 * 1024)


def iter_json_pages(stream: BinaryIO, *, max_line_bytes: int) -> Iterator[tuple[str, int, object]]:
    """The JSON documents of a file of pages, read incrementally: one JSON document, a JSON array of them,
    or one per line (NDJSON). Yields (kind, number, value): kind "array" numbers elements from 1, "document"
    is the one document (number 1), "line" numbers lines from 1. ``value`` is a JSONStreamError for an
    invalid line (reading goes on) or for broken JSON in an array or document (reading stops there).

    A file whose first line is a whole JSON value and that has more after it is NDJSON; anything else
    starting with "{" is one document. Memory is one page (or one line), whatever the file's size."""
    head, stream = lookahead(stream, max_line_bytes + 1)
    text = head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head
    first = text.lstrip()[:1]
    if first == b"[" or not first:
        try:
            for position, value in iter_json_values(stream):
                yield ("array" if first == b"[" else "document"), position, value
        except JSONStreamError as exc:
            yield ("array" if first == b"[" else "document"), exc.position, exc
        return
    first_line, newline, rest = text.partition(b"\n")
    ndjson = False
    if newline and rest.strip():
        try:
            json.loads(first_line)
            ndjson = True
        except ValueError:
            ndjson = False
    if not ndjson:
        try:
            for _position, value in iter_json_values(stream):
                yield "document", 1, value
        except JSONStreamError as exc:
            yield "document", 1, exc
        return
    if head.startswith(codecs.BOM_UTF8):
        stream.read(len(codecs.BOM_UTF8))
    line_no = 0
    while chunk := stream.readline(max_line_bytes + 1):
        line_no += 1
        if len(chunk) > max_line_bytes and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = stream.readline(max_line_bytes)
            yield (
                "line",
                line_no,
                JSONStreamError(f"line is longer than {max_line_bytes} bytes", line_no, too_long=True),
            )
            continue
        if not chunk.strip():
            continue
        try:
            yield "line", line_no, json.loads(chunk, parse_float=Decimal)
        except ValueError as exc:
            yield "line", line_no, JSONStreamError(str(exc), line_no)
