"""Keeping the received bytes of an ingest so that a worker (or a re-run) can read them."""

import codecs
import hashlib
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from apps.core.limits import GZIP_MAGIC, LimitExceeded, capped, drain, gunzip_capped
from apps.ingest.rows import FileRefused
from apps.tenancy.scoping import tenant_scoped

BLOCK = 1024 * 1024
# Files received from people and clients are capped at INGEST_MAX_UPLOAD_BYTES; a file an operator's
# ingest command reads from the server's own disk is not (the decompression limits apply to every file).
UNCAPPED_CHANNELS = ("command", "demo")


def _root() -> Path:
    return Path(settings.INGEST_PAYLOAD_DIR)


@dataclass(frozen=True)
class StoredPayload:
    path: str
    sha256: str
    size_bytes: int


def payload_store(*, organization_id: int, stream: BinaryIO, max_bytes: int | None = None) -> StoredPayload:
    """Copy the stream to the payload directory, hashing as it goes (bounded memory). With ``max_bytes``,
    more than that many bytes raise LimitExceeded as soon as they arrive. A gzip file is then read through
    once, decompressing as it goes, so that one over the decompression limits is refused now, at receipt.
    A refused file is not kept."""
    directory = _root() / str(organization_id)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.bin"
    if max_bytes is not None:
        stream = capped(stream, max_bytes=max_bytes, what="The file", limit="INGEST_MAX_UPLOAD_MB")
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("wb") as out:
            while block := stream.read(BLOCK):
                digest.update(block)
                size += len(block)
                out.write(block)
        relative = str(path.relative_to(_root()))
        if _is_gzip(path):
            try:
                with payload_open(relative) as unzipped:
                    drain(unzipped)
            except (OSError, EOFError, zlib.error):
                pass  # a broken gzip file is refused by the job, with its reason, like any unreadable file
    except LimitExceeded:
        path.unlink(missing_ok=True)
        raise
    return StoredPayload(relative, digest.hexdigest(), size)


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as probe:
        return probe.read(2) == GZIP_MAGIC


def payload_open(relative_path: str) -> BinaryIO:
    """The payload's bytes; a gzip file decompressed as it is read, within the decompression limits
    (LimitExceeded beyond them)."""
    path = _root() / relative_path
    if not _is_gzip(path):
        return path.open("rb")
    return gunzip_capped(
        path.open("rb"),
        max_bytes=settings.INGEST_MAX_DECOMPRESSED_BYTES,
        max_ratio=settings.INGEST_MAX_GZIP_RATIO,
    )


@dataclass(frozen=True)
class Prescan:
    lines: int
    head: bytes


def payload_prescan(relative_path: str) -> Prescan:
    """One streaming pass before anything is written: refuse empty, non-UTF-8 or broken gzip files."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    lines = 0
    offset = 0
    head = b""
    non_blank = False
    last_byte = b"\n"
    try:
        with payload_open(relative_path) as stream:
            while block := stream.read(BLOCK):
                if len(head) < 64 * 1024:
                    head += block[: 64 * 1024 - len(head)]
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    raise FileRefused(
                        f"the file is not UTF-8 text (invalid byte at offset {offset + exc.start}); "
                        "export it as UTF-8 and upload it again"
                    ) from exc
                non_blank = non_blank or bool(block.strip())
                lines += block.count(b"\n")
                offset += len(block)
                last_byte = block[-1:]
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                raise FileRefused("the file is not UTF-8 text (it ends inside a multi-byte character)") from exc
    except LimitExceeded as exc:
        raise FileRefused(exc.message) from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise FileRefused(f"the file could not be read: {exc}") from exc
    if not non_blank:
        raise FileRefused("the file is empty")
    if last_byte != b"\n":
        lines += 1  # a last line without a newline
    return Prescan(lines=lines, head=head)


@tenant_scoped
def ingest_job_receive(
    *,
    job_model,
    organization,
    actor,
    file_name: str,
    stream: BinaryIO,
    format: str,
    format_choices: tuple[str, ...],
    channel: str,
    idempotency_key: str | None,
    audit_action: str,
    extra_fields: dict | None = None,
):
    """What every ingest does on receipt (usage and invoices): check the format name, keep the bytes,
    honour the Idempotency-Key (same body: the earlier job; another body: refused), create the job and
    audit it, in one transaction. Returns (job, created); the caller enqueues the job. A file over a limit
    (apps/core/limits.py) raises LimitExceeded and nothing is kept."""
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from apps.audit.services import actor_label_for, audit_record

    if format not in format_choices:
        raise ValidationError({"format": f"Unknown format {format!r}; use one of: {', '.join(format_choices)}."})
    max_bytes = None if channel in UNCAPPED_CHANNELS else settings.INGEST_MAX_UPLOAD_BYTES
    stored = payload_store(organization_id=organization.pk, stream=stream, max_bytes=max_bytes)
    extra_fields = extra_fields or {}
    with transaction.atomic():
        if idempotency_key:
            existing = job_model.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                if existing.sha256 != stored.sha256:
                    raise ValidationError(
                        {"idempotency_key": "This Idempotency-Key was already used with a different body."}
                    )
                return existing, False
        user = actor if getattr(actor, "_meta", None) is not None else None
        job = job_model.objects.create(
            organization=organization,
            channel=channel,
            format=format,
            file_name=file_name[:255],
            sha256=stored.sha256,
            size_bytes=stored.size_bytes,
            payload=stored.path,
            idempotency_key=idempotency_key or None,
            created_by=user,
            created_by_label=actor_label_for(actor),
            **extra_fields,
        )
        audit_record(
            organization=organization,
            actor=actor,
            action=audit_action,
            target=job,
            after={
                "file_name": job.file_name,
                "sha256": job.sha256,
                "format": format,
                "size_bytes": job.size_bytes,
                "channel": channel,
                **extra_fields,
            },
        )
    return job, True
