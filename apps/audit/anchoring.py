"""The chain head published outside the database, and read back from there.

Deleting the newest events leaves a chain that is intact by itself, and anyone who can write to the database
can recompute every hash from any point on. Both are caught only against something the database cannot
change: each organisation's head (seq and hash) is published to sinks outside it, signed with HMAC-SHA256
keyed with ``AUDIT_ANCHOR_KEY`` (from the environment, never stored in the database):

- a directory (``AUDIT_ANCHOR_DIR``): one file per organisation, ``org-<id>.jsonl``, one JSON line per
  publication, appended and fsynced. This is the sink that verification reads back, so it belongs on storage
  the application's database credentials cannot reach (another host's mount, an append-only attribute, a
  versioned or object-locked bucket synced from it).
- a webhook (``AUDIT_ANCHOR_WEBHOOK_URL``): the same line POSTed as JSON, for an auditor's own record.
- e-mail (``AUDIT_ANCHOR_EMAILS``): the same line to the auditors.

This module is pure I/O and cryptography (no queries); ``apps.audit.services`` decides what to publish and
when, and what a published head says about the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings

LINE_VERSION = 1


def anchor_key() -> bytes:
    """The HMAC key: ``AUDIT_ANCHOR_KEY``, or one derived from ``SECRET_KEY`` where it is unset (development and
    tests; production reports the fallback in ``manage.py check``). Neither lives in the database."""
    if settings.AUDIT_ANCHOR_KEY:
        return settings.AUDIT_ANCHOR_KEY.encode("utf-8")
    return hmac.new(settings.SECRET_KEY.encode("utf-8"), b"audit-anchor", hashlib.sha256).digest()


def _canonical(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(fields: dict) -> str:
    return hmac.new(anchor_key(), _canonical(fields), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PublishedHead:
    """One line of a sink: what was published, and whether its signature holds under the current key."""

    organization_id: int
    seq: int
    hash: str
    published_at: str
    mac: str
    signed: bool

    @classmethod
    def parse(cls, line: str) -> PublishedHead:
        """Read one line; raises ``ValueError`` when it is not a publication at all."""
        try:
            data = json.loads(line)
            fields = {key: value for key, value in data.items() if key != "mac"}
            mac = str(data["mac"])
            head = cls(
                int(data["organization_id"]),
                int(data["seq"]),
                str(data["hash"]),
                str(data["published_at"]),
                mac,
                hmac.compare_digest(sign(fields), mac),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a published head: {exc}") from exc
        return head


def make_line(*, organization_id: int, organization_slug: str, seq: int, hash: str, published_at: datetime) -> dict:
    """One publication: the head, when, and the HMAC over the rest of the line."""
    fields = {
        "v": LINE_VERSION,
        "organization_id": organization_id,
        "organization": organization_slug,
        "seq": seq,
        "hash": hash,
        "published_at": published_at.isoformat(),
    }
    return {**fields, "mac": sign(fields)}


# --- the directory sink -----------------------------------------------------------------------------------


def directory() -> Path | None:
    return Path(settings.AUDIT_ANCHOR_DIR) if settings.AUDIT_ANCHOR_DIR else None


def sink_path(organization_id: int) -> Path | None:
    folder = directory()
    return folder / f"org-{organization_id}.jsonl" if folder else None


def directory_append(organization_id: int, line: dict) -> None:
    """Append one line and fsync it (and the folder, when the file is new), so an acknowledged publication
    survives a crash. O_APPEND: concurrent publishers never interleave within a line."""
    path = sink_path(organization_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    data = (json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _last_line(path: Path, block: int = 4096) -> str | None:
    """The file's last non-empty line, read from the end (the file grows by a line an hour for years)."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        buffer = b""
        position = end
        while position > 0:
            step = min(block, position)
            position -= step
            handle.seek(position)
            buffer = handle.read(step) + buffer
            stripped = buffer.rstrip(b"\n")
            if b"\n" in stripped:
                return stripped.rsplit(b"\n", 1)[1].decode("utf-8", errors="replace")
        stripped = buffer.rstrip(b"\n")
        return stripped.decode("utf-8", errors="replace") if stripped else None


class SinkUnreadable(Exception):
    """The sink holds something that is not a publication where the last head should be."""


def directory_last_head(organization_id: int) -> PublishedHead | None:
    """The last head published for the organisation, read back from the directory (None: nothing yet)."""
    path = sink_path(organization_id)
    if path is None or not path.exists():
        return None
    line = _last_line(path)
    if line is None:
        return None
    try:
        return PublishedHead.parse(line)
    except ValueError as exc:
        raise SinkUnreadable(f"the last line of {path.name} is not a published head ({exc})") from exc


# --- the webhook sink -------------------------------------------------------------------------------------


def webhook_post(line: dict) -> str:
    """POST the line to ``AUDIT_ANCHOR_WEBHOOK_URL``; 'ok' or why it failed (never raises: the directory is
    the sink of record, a receiver that is down is reported on the publication)."""
    url = settings.AUDIT_ANCHOR_WEBHOOK_URL
    if not url.startswith(("https://", "http://")):
        return "failed: AUDIT_ANCHOR_WEBHOOK_URL must be an http(s) URL"
    body = json.dumps(line, sort_keys=True, separators=(",", ":")).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "chargeback-audit-anchor/1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.AUDIT_ANCHOR_WEBHOOK_TIMEOUT) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        return f"failed: HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"failed: {getattr(exc, 'reason', exc)}"
    return "ok" if 200 <= status < 300 else f"failed: HTTP {status}"


def email_body(line: dict) -> str:
    return (
        f"The audit trail of {line['organization']} reached event #{line['seq']} "
        f"(hash {line['hash']}) at {line['published_at']}.\n\n"
        "Keep this message: it is the head the portal's verification compares the trail with. The line below "
        "is signed (HMAC-SHA256) with the portal's audit anchor key.\n\n"
        + json.dumps(line, sort_keys=True, separators=(",", ":"))
        + "\n"
    )
