"""Writes of provider connections and their pulls, each in one transaction with its audit event.

Credentials never reach the audit trail: an event says that a key was set or replaced, not which. A pull reads
the provider's reports (``client.read_pages``) outside any transaction, then hands the pages to the usage and
invoice ingest exactly as an uploaded export would be handed over (``ingest_job_create``,
``invoice_ingest_create``, channel "connector"): the same readers, the same idempotency (a bucket is one derived
request id in usage and one bucket key in invoices, so a window read again stores nothing twice, and a restated
bucket replaces the stored one), the same jobs pages and retries."""

import hashlib
import io
import logging
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.audit.snapshots import actor_label_for
from apps.core.failures import failure_text
from apps.invoices.services.ingest import invoice_ingest_create
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.services.ingest import ingest_job_create

from . import client, crypto
from .models import MAX_REPULL_DAYS, ConnectorPull, Provider, ProviderConnection, PullStatus
from .providers import PROVIDERS

logger = logging.getLogger(__name__)

MAX_LABEL = 100
MAX_KEY = 500


def _user(actor):
    return actor if getattr(actor, "_meta", None) is not None else getattr(actor, "user", None)


def _snapshot(connection: ProviderConnection) -> dict:
    """What the audit trail records of a connection: never its credentials."""
    return {
        "provider": connection.provider,
        "label": connection.label,
        "repull_days": connection.repull_days,
        "is_active": connection.is_active,
    }


def _clean_label(organization, label: str, exclude_pk=None) -> str:
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": "Give the connection a name."})
    if len(label) > MAX_LABEL:
        raise ValidationError({"label": f"At most {MAX_LABEL} characters."})
    taken = ProviderConnection.objects.filter(organization=organization, label=label)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"label": "Another connection has this name."})
    return label


def _clean_key(api_key: str) -> str:
    api_key = (api_key or "").strip()
    if not api_key:
        raise ValidationError({"api_key": "Give the provider's admin API key."})
    if len(api_key) > MAX_KEY or any(ch.isspace() for ch in api_key):
        raise ValidationError({"api_key": "This does not look like an API key (one word, at most 500 characters)."})
    return api_key


def _clean_repull(days) -> int:
    if not isinstance(days, int) or not 1 <= days <= MAX_REPULL_DAYS:
        raise ValidationError({"repull_days": f"Between 1 and {MAX_REPULL_DAYS} days."})
    return days


@tenant_scoped
@transaction.atomic
def connection_create(
    *, organization: Organization, actor, provider: str, label: str, api_key: str, repull_days: int = 3
) -> ProviderConnection:
    if provider not in Provider.values:
        raise ValidationError({"provider": f"Unknown provider {provider!r}."})
    api_key = _clean_key(api_key)
    connection = ProviderConnection.objects.create(
        organization=organization,
        provider=provider,
        label=_clean_label(organization, label),
        repull_days=_clean_repull(repull_days),
        credentials_encrypted=crypto.encrypt({"api_key": api_key}),
        credentials_hint=crypto.hint(api_key),
        created_by=_user(actor),
    )
    audit_record(
        organization=organization, actor=actor, action="connector.created", target=connection,
        after={**_snapshot(connection), "credentials": "set"},
    )  # fmt: skip
    return connection


def _locked(connection: ProviderConnection) -> ProviderConnection:
    return ProviderConnection.objects.select_for_update().get(organization=connection.organization_id, pk=connection.pk)


@tenant_scoped(via="connection")
@transaction.atomic
def connection_update(
    *, connection: ProviderConnection, actor, label=None, repull_days=None, is_active=None, api_key: str = ""
) -> ProviderConnection:
    """Change the name, the re-pull window, whether it is pulled on the schedule, and (when given) replace the
    key. An empty ``api_key`` keeps the stored one."""
    stored = _locked(connection)
    before = _snapshot(stored)
    if label is not None:
        stored.label = _clean_label(stored.organization, label, exclude_pk=stored.pk)
    if repull_days is not None:
        stored.repull_days = _clean_repull(repull_days)
    if is_active is not None:
        stored.is_active = bool(is_active)
    after = _snapshot(stored)
    replaced = bool((api_key or "").strip())
    if replaced:
        key = _clean_key(api_key)
        stored.credentials_encrypted = crypto.encrypt({"api_key": key})
        stored.credentials_hint = crypto.hint(key)
        after["credentials"] = "replaced"
    if after != before:
        stored.save()
        audit_record(
            organization=stored.organization, actor=actor, action="connector.updated", target=stored,
            before=before, after=after,
        )  # fmt: skip
    return stored


@tenant_scoped(via="connection")
@transaction.atomic
def connection_delete(*, connection: ProviderConnection, actor) -> None:
    """Remove a connection and its pull history (the jobs its pulls made, and what they stored, stay)."""
    stored = _locked(connection)
    audit_record(
        organization=stored.organization, actor=actor, action="connector.deleted", target=stored,
        before=_snapshot(stored),
    )  # fmt: skip
    stored.delete()


# --- pulls ------------------------------------------------------------------------------------------------


def _day(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _pull_window(connection: ProviderConnection, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the next pull: to the end of today (UTC); from ``repull_days`` before the end of the last
    successful pull, or CONNECTOR_BACKFILL_DAYS back for a connection never pulled."""
    end = _day(now) + timedelta(days=1)
    if connection.pulled_through is None:
        return end - timedelta(days=settings.CONNECTOR_BACKFILL_DAYS), end
    return _day(min(connection.pulled_through, end)) - timedelta(days=connection.repull_days), end


def _running(connection: ProviderConnection, now: datetime) -> bool:
    stale = now - timedelta(minutes=settings.CONNECTOR_PULL_STALE_MINUTES)
    return (
        connection.last_pull_status == PullStatus.RUNNING
        and connection.last_pull_started_at is not None
        and connection.last_pull_started_at > stale
    )


@tenant_scoped(via="connection")
def pull_start_check(*, connection: ProviderConnection, now: datetime | None = None) -> None:
    """Refuse (ValidationError) a pull of a connection whose pull is running; what "pull now" asks first."""
    now = now or timezone.now()
    if _running(connection, now):
        raise ValidationError(
            f"A pull of {connection.label} is running (started {connection.last_pull_started_at:%Y-%m-%d %H:%M} "
            "UTC); its status shows here when it ends."
        )


@tenant_scoped(via="connection")
def connection_pull(*, connection: ProviderConnection, trigger: str, actor=None, now: datetime | None = None):
    """Pull the connection's reports for its window and hand them to the ingest. Returns the ConnectorPull
    (succeeded or failed: a failure is recorded with its reason, not raised). A pull already running refuses
    (ValidationError) before anything is read."""
    now = now or timezone.now()
    began = time.monotonic()
    with transaction.atomic():
        stored = _locked(connection)
        pull_start_check(connection=stored, now=now)
        start, end = _pull_window(stored, now)
        # A pull left running by a worker that died (past CONNECTOR_PULL_STALE_MINUTES) ends here, failed.
        ConnectorPull.objects.filter(
            organization=stored.organization_id, connection=stored, status=PullStatus.RUNNING
        ).update(
            status=PullStatus.FAILED,
            error_message="The worker running this pull stopped before it ended; a later pull read its window.",
            finished_at=now,
        )
        pull = ConnectorPull.objects.create(
            organization=stored.organization,
            connection=stored,
            trigger=trigger,
            window_start=start,
            window_end=end,
            created_by=_user(actor),
            created_by_label=actor_label_for(actor),
        )
        stored.last_pull_status = PullStatus.RUNNING
        stored.last_pull_started_at = now
        stored.save(update_fields=["last_pull_status", "last_pull_started_at", "updated_at"])
    figures = client.ReadFigures()
    try:
        documents = _read_reports(stored, start, end, figures)
        jobs = _hand_over(stored, documents, actor, start, end)
    except (client.ConnectorError, crypto.CredentialsUnreadable) as refused:
        return _finish(stored, pull, figures, began, error=str(refused))
    except Exception as exc:
        # Whatever went wrong, the pull ends (never "running" for ever) and says what happened.
        logger.exception("pull %s of connection %s failed", pull.pk, stored.pk)
        return _finish(stored, pull, figures, began, error=failure_text(exc))
    return _finish(stored, pull, figures, began, jobs=jobs)


def _read_reports(connection: ProviderConnection, start: datetime, end: datetime, figures) -> dict:
    """{(kind, format): [page bytes, …]} of every report of the provider, in the order they are listed."""
    api = PROVIDERS[connection.provider]
    credentials = crypto.decrypt(connection.credentials_encrypted)
    headers = api.headers(credentials)
    documents: dict[tuple[str, str], list[bytes]] = {}
    for report in api.reports:
        before = figures.results
        pages = client.read_pages(
            api.base_url(), report.path, {**api.window(start, end), **report.params}, headers, figures
        )
        if figures.results > before:
            documents.setdefault((report.kind, report.format), []).extend(pages)
    return documents


def _hand_over(connection: ProviderConnection, documents: dict, actor, start: datetime, end: datetime) -> dict:
    """One ingest job per kind (usage, costs) with results, through the same services as an upload. The
    Idempotency-Key is the connection, the kind and the body's hash: pulling the same pages again returns the
    earlier job instead of a second one."""
    jobs = {}
    organization = connection.organization
    for (kind, format_name), pages in documents.items():
        body = client.pages_document(pages)
        digest = hashlib.sha256(body).hexdigest()
        common = {
            "organization": organization,
            "actor": actor,
            "file_name": f"{connection.provider}-{kind} {start:%Y-%m-%d}..{end - timedelta(days=1):%Y-%m-%d}.json",
            "stream": io.BytesIO(body),
            "format": format_name,
            "channel": "connector",
            "idempotency_key": f"connector-{connection.pk}-{kind}-{digest}",
        }
        if kind == "usage":
            jobs["usage"], _created = ingest_job_create(**common)
        else:
            jobs["costs"], _created = invoice_ingest_create(**common)
    return jobs


def _finish(connection, pull, figures, began, *, jobs=None, error: str = "") -> ConnectorPull:
    now = timezone.now()
    with transaction.atomic():
        stored = _locked(connection)
        pull = ConnectorPull.objects.select_for_update().get(organization=stored.organization_id, pk=pull.pk)
        pull.status = PullStatus.FAILED if error else PullStatus.SUCCEEDED
        pull.requests, pull.pages, pull.results = figures.requests, figures.pages, figures.results
        pull.rate_limited = figures.rate_limited
        pull.usage_job = (jobs or {}).get("usage")
        pull.invoice_job = (jobs or {}).get("costs")
        pull.error_message = error
        pull.finished_at = now
        pull.seconds = Decimal(round(time.monotonic() - began, 3)).quantize(Decimal("0.001"))
        pull.save()
        stored.last_pull_status = pull.status
        stored.last_pull_finished_at = now
        stored.last_pull_error = error
        fields = ["last_pull_status", "last_pull_finished_at", "last_pull_error", "updated_at"]
        if not error:
            stored.pulled_through = pull.window_end
            fields.append("pulled_through")
        stored.save(update_fields=fields)
        audit_record(
            organization=stored.organization,
            actor=None,
            action="connector.pull_failed" if error else "connector.pulled",
            target=stored,
            after={
                "pull": pull.pk,
                "trigger": pull.trigger,
                "window": [f"{pull.window_start:%Y-%m-%d}", f"{pull.window_end:%Y-%m-%d}"],
                "requests": pull.requests,
                "pages": pull.pages,
                "results": pull.results,
                "rate_limited": pull.rate_limited,
                "usage_job": pull.usage_job_id,
                "invoice_job": pull.invoice_job_id,
                **({"error": error} if error else {}),
            },
        )
    return pull
