"""Keeping the received bytes of an ingest so that a worker (or a re-run) can read them."""

import codecs
import gzip
import hashlib
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from apps.usage.parsers import FileRefused

GZIP_MAGIC = b"\x1f\x8b"
BLOCK = 1024 * 1024


def _root() -> Path:
    return Path(settings.INGEST_PAYLOAD_DIR)


@dataclass(frozen=True)
class StoredPayload:
    path: str
    sha256: str
    size_bytes: int


def payload_store(*, organization_id: int, stream: BinaryIO) -> StoredPayload:
    """Copy the stream to the payload directory, hashing as it goes (bounded memory)."""
    directory = _root() / str(organization_id)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.bin"
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as out:
        while block := stream.read(BLOCK):
            digest.update(block)
            size += len(block)
            out.write(block)
    return StoredPayload(str(path.relative_to(_root())), digest.hexdigest(), size)


def payload_open(relative_path: str) -> BinaryIO:
    path = _root() / relative_path
    with path.open("rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else path.open("rb")


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
    except (OSError, EOFError, zlib.error) as exc:
        raise FileRefused(f"the file could not be read: {exc}") from exc
    if not non_blank:
        raise FileRefused("the file is empty")
    if last_byte != b"\n":
        lines += 1  # a last line without a newline
    return Prescan(lines=lines, head=head)


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
    audit it, in one transaction. Returns (job, created); the caller enqueues the job."""
    from django.core.exceptions import ValidationError
    from django.db import transaction
    from django_scopes import scope

    from apps.audit.services import actor_label_for, audit_record

    if format not in format_choices:
        raise ValidationError({"format": f"Unknown format {format!r}; use one of: {', '.join(format_choices)}."})
    stored = payload_store(organization_id=organization.pk, stream=stream)
    extra_fields = extra_fields or {}
    with scope(organization=organization), transaction.atomic():
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
