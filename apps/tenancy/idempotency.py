"""Idempotency-Key on the API's POSTs: a retried request gets the answer of the first, never a second change.

The API views apply it (``apps.tenancy.api.views.OrganizationScopedMixin``); this module keeps the keys. A key
belongs to an organisation and an API client (two clients never collide), and is claimed before the view runs:

- a new key is stored "in flight" (no status yet) and committed at once, so a concurrent request with the same
  key sees it (the unique constraint decides which of two simultaneous requests runs: the other is answered
  409, or the stored answer once the first has finished);
- once the view answered below 500, its status, JSON body and ``Location`` are stored (``idempotency_complete``)
  and every later request with the key and the same method, path and body gets them back;
- a 5xx, or an exception no handler turned into an answer, drops the key (``idempotency_release``): nothing was
  changed that the client must not retry;
- the same key with another method, path or body is refused (``IdempotencyKeyReused``, 422);
- a key left in flight longer than ``IDEMPOTENCY_STALE_AFTER`` (its process died before answering) may be
  claimed again by the next request with it;
- keys are kept ``IDEMPOTENCY_KEY_RETENTION`` (48 h, never less than 24 h) and purged by a beat task.

A view's own transaction commits before its answer is stored: a process that dies between the two leaves the
key in flight, and a retry after ``IDEMPOTENCY_STALE_AFTER`` runs the request again (the services the API calls
are themselves safe to re-run on the same input, or refuse with 409 for a state already left).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from rest_framework.utils.encoders import JSONEncoder

from .models import IdempotencyKey, Organization
from .scoping import tenant_scoped

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Response headers stored with the answer and replayed with it.
KEPT_HEADERS = ("Location",)


class IdempotencyError(Exception):
    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class IdempotencyKeyInvalid(IdempotencyError):
    status_code = 400


class IdempotencyKeyReused(IdempotencyError):
    status_code = 422


class IdempotencyKeyInFlight(IdempotencyError):
    status_code = 409


@dataclass(frozen=True)
class Claimed:
    """The key is this request's: run the view, then complete or release the record."""

    record: IdempotencyKey


@dataclass(frozen=True)
class Replay:
    """The key was answered before, for the same request: send this answer again."""

    status_code: int
    body: object  # the JSON body decoded (None: the answer had no body)
    headers: dict


def key_check(key: str) -> str:
    """The key as sent, or IdempotencyKeyInvalid: 1 to 255 visible ASCII characters (a UUID fits)."""
    if not key or len(key) > MAX_KEY_LENGTH or not all(33 <= ord(char) <= 126 for char in key):
        raise IdempotencyKeyInvalid(
            f"Give an {HEADER} of 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces), e.g. a UUID."
        )
    return key


def request_fingerprint(*, method: str, path: str, data) -> str:
    """SHA-256 of the method, the path (with its query) and the body's JSON with sorted keys: a retry that
    re-serialises the same body in another key order or spacing is the same request."""
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()}\n{path}\n{body}".encode()).hexdigest()


@tenant_scoped
def idempotency_claim(
    *,
    organization: Organization,
    client_id: int,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
    now: datetime | None = None,
) -> Claimed | Replay:
    """Claim ``key`` for this request, or say what to answer instead (see the module docstring). Raises
    IdempotencyKeyReused (another request had the key) or IdempotencyKeyInFlight (it is still running)."""
    now = now or timezone.now()
    for _ in range(2):  # a row released or purged between our insert and our read: insert again, once
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    organization=organization,
                    client_id=client_id,
                    key=key,
                    method=method.upper(),
                    path=path[:2000],
                    fingerprint=fingerprint,
                    created_at=now,
                    claimed_at=now,
                )
            return Claimed(record)
        except IntegrityError:
            pass
        record = IdempotencyKey.objects.filter(organization=organization, client_id=client_id, key=key).first()
        if record is not None:
            break
    else:
        raise IdempotencyKeyInFlight(_in_flight_message())
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"This {HEADER} was already used for another request ({record.method} {record.path} with its own "
            "body): send a new key for a new request."
        )
    if record.status_code is not None:
        body = json.loads(record.response_body) if record.response_body else None
        return Replay(status_code=record.status_code, body=body, headers=dict(record.response_headers))
    if record.claimed_at < now - settings.IDEMPOTENCY_STALE_AFTER:
        taken = IdempotencyKey.objects.filter(
            organization=organization, pk=record.pk, status_code__isnull=True, claimed_at=record.claimed_at
        ).update(claimed_at=now)
        if taken:
            record.claimed_at = now
            return Claimed(record)
    raise IdempotencyKeyInFlight(_in_flight_message())


def _in_flight_message() -> str:
    return f"A request with this {HEADER} is still running: retry once it has answered to get its answer."


def response_body_text(data) -> str:
    """The answer's data as the JSON text to store ("" for no body), encoded as DRF encodes it."""
    if data is None:
        return ""
    return json.dumps(data, cls=JSONEncoder, ensure_ascii=False)


@tenant_scoped
def idempotency_complete(
    *,
    organization: Organization,
    record: IdempotencyKey,
    status_code: int,
    body_text: str,
    headers: dict,
    now: datetime | None = None,
) -> None:
    """Store the answer of the request that claimed ``record`` (an answer below 500)."""
    IdempotencyKey.objects.filter(organization=organization, pk=record.pk, status_code__isnull=True).update(
        status_code=status_code,
        response_body=body_text,
        response_headers={name: headers[name] for name in KEPT_HEADERS if name in headers},
        completed_at=now or timezone.now(),
    )


@tenant_scoped
def idempotency_release(*, organization: Organization, record: IdempotencyKey) -> None:
    """Drop the claim of a request that failed with a 5xx or an exception: a retry with the key runs again."""
    IdempotencyKey.objects.filter(organization=organization, pk=record.pk, status_code__isnull=True).delete()


def idempotency_keys_purge(*, now: datetime | None = None, retention: timedelta | None = None) -> int:
    """Delete the keys of every organisation first seen more than ``retention`` (IDEMPOTENCY_KEY_RETENTION)
    ago. Returns how many. Idempotent; the beat task ``tenancy.purge_idempotency_keys`` runs it."""
    now = now or timezone.now()
    retention = retention or settings.IDEMPOTENCY_KEY_RETENTION
    with scopes_disabled():
        deleted, _ = IdempotencyKey.objects.filter(created_at__lt=now - retention).delete()
    return deleted
