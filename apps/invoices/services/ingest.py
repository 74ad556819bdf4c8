"""Invoice ingestion: keep the received bytes, then read the whole file in one transaction.

Bills are small next to usage (a month of a provider is hundreds to a few hundred thousand rows), so a
file is all-or-nothing for its valid rows: the invalid ones are reported with line and field, the valid
ones are stored together, and a crash stores nothing. Ingesting the same file twice changes nothing:
every line carries a deterministic ``line_key`` (unique per organisation), and an invoice's total is
recomputed exactly from its lines after each file. Identical rows of one file are separate charges (the n-th
keyed from the first's key and n). A cost-report bucket re-pulled with another amount supersedes the earlier
line (``bucket_key``): the old line moves to ``InvoiceLineRestatement``, audited, so the total is the latest
report's. A running job beats (``heartbeat_at``) while it reads;
one whose worker died is marked interrupted by the sweeper and is retried by reading the file again.
"""

import functools
import logging
import time
from collections import Counter, defaultdict
from typing import BinaryIO

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import Abs
from django.utils import timezone

from apps.audit.services import audit_record, model_snapshot
from apps.core.ceilings import MAX_SUM, within_sum
from apps.core.failures import failure_text
from apps.core.money import decimal_to_nano, money_text
from apps.ingest.jobs import job_enqueue, job_finish, job_heartbeat, job_mark_running, job_scope
from apps.ingest.payloads import ingest_job_receive, payload_open, payload_prescan
from apps.invoices.models import (
    CostView,
    InvoiceIngestError,
    InvoiceIngestJob,
    InvoiceLine,
    InvoiceLineRestatement,
    InvoiceSettings,
    ProviderInvoice,
)
from apps.invoices.parsers import FORMAT_CHOICES, FileRefused, ParsedLine, RowError, detect_format, reader_for
from apps.invoices.parsers.base import occurrence_key
from apps.pricing.selectors import price_book_for
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .late_data import flag_late_invoices

logger = logging.getLogger(__name__)

MAX_STORED_ERRORS = 1000
KEY_BATCH = 500
HEARTBEAT_SECONDS = 30  # while reading; far below INGEST_STALE_AFTER
# Where a cloud marketplace resells a model, the price book knows it under the model maker's name.
RESOLVE_FALLBACK = {"aws-bedrock": "anthropic", "azure-openai": "openai", "google-vertex": "google"}
INVOICE_AUDIT_FIELDS = ["provider", "invoice_number", "billing_period", "currency", "total_nano", "source_sha256"]


@tenant_scoped
def invoice_settings_for(*, organization: Organization) -> InvoiceSettings:
    found = InvoiceSettings.objects.filter(organization=organization).first()
    return found or InvoiceSettings(organization=organization)


@tenant_scoped
def invoice_ingest_create(
    *,
    organization: Organization,
    actor,
    file_name: str,
    stream: BinaryIO,
    format: str = "auto",
    channel: str,
    idempotency_key: str | None = None,
    enqueue: bool = True,
) -> tuple[InvoiceIngestJob, bool]:
    """Keep the bytes and queue a job. Returns (job, created); a known Idempotency-Key with the same body
    returns the earlier job and does nothing else."""
    job, created = ingest_job_receive(
        job_model=InvoiceIngestJob,
        organization=organization,
        actor=actor,
        file_name=file_name,
        stream=stream,
        format=format,
        format_choices=FORMAT_CHOICES,
        channel=channel,
        idempotency_key=idempotency_key,
        audit_action="invoices.ingest_received",
        extra_fields={"cost_view": invoice_settings_for(organization=organization).focus_cost_view},
    )
    if created and enqueue:
        job_enqueue(job)
    return job, created


def invoice_ingest_run(*, job_id: int) -> InvoiceIngestJob:
    """Read a job's file and store its invoices. Safe to call again: a finished job is returned as is."""
    with job_scope(InvoiceIngestJob, job_id) as job:
        if job.is_finished:
            return job
        job = job_mark_running(job=job)
        try:
            format_name, items = _read(job)
        except FileRefused as refused:
            return job_finish(job=job, status=InvoiceIngestJob.Status.REFUSED, message=str(refused))
        except Exception as exc:
            # Whatever went wrong, the job ends (never "queued" for ever) and says what happened.
            logger.exception("invoice ingest job %s could not be read", job.pk)
            job_finish(
                job=job,
                status=InvoiceIngestJob.Status.FAILED,
                message=f"the file could not be read, nothing was stored: {failure_text(exc)}",
            )
            raise
        try:
            job = _store(job, format_name, items)
        except Exception as exc:
            logger.exception("invoice ingest job %s failed", job.pk)
            job_finish(
                job=job,
                status=InvoiceIngestJob.Status.FAILED,
                message=f"the file could not be stored, nothing was stored: {failure_text(exc)}",
            )
            raise
    flag_late_invoices(job=job)  # committed: lines for a period past open are flagged on it
    return job


def _beating(items, job: InvoiceIngestJob):
    """Pass ``items`` through, recording the job's heartbeat every HEARTBEAT_SECONDS."""
    last = time.monotonic()
    for item in items:
        if time.monotonic() - last >= HEARTBEAT_SECONDS:
            job_heartbeat(job)
            last = time.monotonic()
        yield item


def _read(job: InvoiceIngestJob) -> tuple[str, list[ParsedLine | RowError]]:
    prescan = payload_prescan(job.payload)
    format_name = job.format if job.format != "auto" else detect_format(prescan.head, job.file_name)
    reader = reader_for(format_name)
    if format_name == "focus":
        reader = functools.partial(reader, cost_view=job.cost_view)
    job_heartbeat(job)
    with payload_open(job.payload) as stream:
        items = list(_beating(reader(stream), job))
    if not items:
        raise FileRefused("the file has a header but no charges")
    job_heartbeat(job)
    return format_name, items


def _resolver(organization: Organization):
    book = price_book_for(organization=organization)

    def resolve(line: ParsedLine) -> str:
        if line.model_hint:
            return line.model_hint
        if not line.model_raw:
            return ""
        for provider in (line.provider, RESOLVE_FALLBACK.get(line.provider)):
            if provider:
                found = book.resolve_model(provider, line.model_raw)
                if found:
                    return found
        return line.model_raw.strip().lower()[:120]

    return resolve


@transaction.atomic
def _store(job: InvoiceIngestJob, format_name: str, items: list[ParsedLine | RowError]) -> InvoiceIngestJob:
    organization = job.organization
    job = InvoiceIngestJob.objects.select_for_update().get(organization=organization, pk=job.pk)
    if job.is_finished:  # another runner finished it while this one was reading
        return job
    errors = [item for item in items if isinstance(item, RowError)]
    lines = [item for item in items if isinstance(item, ParsedLine)]

    keyed, buckets, duplicates = _keyed_lines(format_name, lines, errors)
    existing: set[str] = set()
    keys = list(keyed)
    for start in range(0, len(keys), KEY_BATCH):
        existing.update(
            InvoiceLine.objects.filter(line_key__in=keys[start : start + KEY_BATCH]).values_list("line_key", flat=True)
        )
    duplicates += len(existing)

    groups: dict[tuple, list[tuple[str, ParsedLine]]] = defaultdict(list)
    touched: dict[tuple, None] = {}
    for key, line in keyed.items():
        identity = (line.invoice_provider, line.invoice_number, line.billing_period)
        touched.setdefault(identity)
        if key not in existing:
            groups[identity].append((key, line))

    view = job.cost_view if format_name == "focus" else CostView.BILLED
    resolve = _resolver(organization)
    invoices: dict[tuple, ProviderInvoice] = {}
    before: dict[int, dict | None] = {}
    new_lines: list[InvoiceLine] = []
    superseded: list[tuple[InvoiceLine, InvoiceLine]] = []
    file_magnitude = 0
    for identity in touched:
        provider, number, period = identity
        invoice = (
            ProviderInvoice.objects.select_for_update()
            .filter(organization=organization, provider=provider, invoice_number=number, billing_period=period)
            .first()
        )
        pending = groups.get(identity, [])
        if invoice is None and not pending:
            continue
        if invoice is None:
            invoice = ProviderInvoice.objects.create(
                organization=organization,
                provider=provider,
                invoice_number=number,
                billing_period=period,
                currency=pending[0][1].currency,
                source_format=format_name,
                source_sha256=job.sha256,
                view=view,
            )
            before[invoice.pk] = None
        else:
            before[invoice.pk] = model_snapshot(invoice, INVOICE_AUDIT_FIELDS)
        invoices[identity] = invoice
        # Checked as lines are added: the sum of the lines' magnitudes, so that no partial sum of them in
        # any order (SQLite's SUM raises on one) leaves the 64-bit range.
        running = (
            InvoiceLine.objects.filter(invoice=invoice).aggregate(magnitude=Sum(Abs("amount_nano")))["magnitude"] or 0
        )
        # The lines of this invoice that a re-pulled bucket may supersede (read under the invoice's lock).
        earlier = _lines_by_bucket(invoice, [buckets[key] for key, _ in pending if key in buckets])
        for key, line in pending:
            if line.currency != invoice.currency:
                errors.append(
                    RowError(
                        line.line,
                        "currency",
                        f"invoice {number} for {period:%Y-%m} is in {invoice.currency}; this charge is in "
                        f"{line.currency}. One invoice has one currency.",
                    )
                )
                continue
            if invoice.view != view:
                errors.append(
                    RowError(
                        line.line,
                        "view",
                        f"invoice {number} was read with the {invoice.get_view_display().lower()}; this file was "
                        f"read with the other FOCUS cost column, and mixing them would double count.",
                    )
                )
                continue
            row = _line_row(job, invoice, key, line, resolve, buckets.get(key))
            magnitude = abs(row.amount_nano)
            old = earlier.get(row.bucket_key) if row.bucket_key else None
            if old is not None and old.amount_nano == row.amount_nano:
                duplicates += 1  # the same bucket re-pulled with the same amount: nothing to restate
                continue
            replaced = abs(old.amount_nano) if old is not None else 0
            if not within_sum(running - replaced + magnitude):
                errors.append(
                    RowError(
                        line.line,
                        "amount",
                        f"adding it would take the total of invoice {number} for {period:%Y-%m} beyond the "
                        f"largest sum that can be stored ({MAX_SUM:,} nano-units); the line is refused",
                    )
                )
                continue
            if not within_sum(file_magnitude + magnitude):
                errors.append(
                    RowError(
                        line.line,
                        "amount",
                        f"adding it would take this file's charges beyond the largest sum that can be stored "
                        f"({MAX_SUM:,} nano-units); the line is refused",
                    )
                )
                continue
            running += magnitude - replaced
            file_magnitude += magnitude
            new_lines.append(row)
            if old is not None:
                superseded.append((old, row))
    restated = _restate(job, superseded)
    InvoiceLine.objects.bulk_create(new_lines, batch_size=1000)

    for invoice in invoices.values():
        figures = InvoiceLine.objects.filter(invoice=invoice).aggregate(total=Sum("amount_nano"), lines=Count("id"))
        total = figures["total"] or 0
        changed = total != invoice.total_nano or before[invoice.pk] is None
        if changed:
            invoice.total_nano = total
            invoice.source_sha256 = job.sha256
            invoice.save(update_fields=["total_nano", "source_sha256", "updated_at"])
            audit_record(
                organization=organization,
                actor=None,
                action="invoice.ingested" if before[invoice.pk] is None else "invoice.lines_added",
                target=invoice,
                before=before[invoice.pk],
                after={
                    **model_snapshot(invoice, INVOICE_AUDIT_FIELDS),
                    "lines": figures["lines"],
                    "restated": restated.get(invoice.pk, 0),
                    "job": job.pk,
                },
            )
    job.invoices.add(*invoices.values())

    errors.sort(key=lambda e: (e.line, e.field))
    InvoiceIngestError.objects.bulk_create(
        [
            InvoiceIngestError(
                organization=organization, job=job, line=e.line, field=e.field[:100], message=e.message[:500]
            )
            for e in errors[:MAX_STORED_ERRORS]
        ]
    )
    job.format = format_name
    job.accepted = len(new_lines)
    job.duplicates = duplicates
    job.restated = sum(restated.values())
    job.rejected = len(errors)
    job.rows_total = job.accepted + job.duplicates + job.rejected
    job.status = InvoiceIngestJob.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.save()
    audit_record(
        organization=organization,
        actor=None,
        action="invoices.ingest_succeeded",
        target=job,
        after={
            "format": format_name,
            "accepted": job.accepted,
            "duplicates": job.duplicates,
            "restated": job.restated,
            "rejected": job.rejected,
            "invoices": sorted(str(i) for i in invoices.values()),
        },
    )
    return job


def _keyed_lines(
    format_name: str, lines: list[ParsedLine], errors: list[RowError]
) -> tuple[dict[str, ParsedLine], dict[str, str], int]:
    """The file's lines by their key, in file order: (lines by key, bucket key by line key, duplicates in the file).

    - A cost-report row is its bucket: the same row twice (overlapping pages) is one charge; the same bucket
      twice with another amount keeps the later row and rejects the earlier, saying so.
    - A row with the source's own id (CUR): the same id twice is one line item.
    - Any other row has no identity but its content and its place: identical rows are separate charges (two
      identical requests of a day), the n-th keyed ``occurrence_key(key, n)``. Reading the file again gives the
      same keys, so it adds nothing; a file with one more identical row adds one.
    """
    keyed: dict[str, ParsedLine] = {}
    buckets: dict[str, str] = {}
    by_bucket: dict[str, str] = {}
    occurrences: Counter[str] = Counter()
    duplicates = 0
    for line in lines:
        key = line.line_key(format_name)
        bucket = line.bucket_key(format_name)
        if bucket is not None:
            known = by_bucket.get(bucket)
            if known == key:
                duplicates += 1
                continue
            if known is not None:
                dropped = keyed.pop(known)
                del buckets[known]
                errors.append(
                    RowError(
                        dropped.line,
                        "amount",
                        f"the same bucket appears again at line {line.line} of this file with another amount; "
                        "the later one is kept",
                    )
                )
            by_bucket[bucket] = key
            buckets[key] = bucket
            keyed[key] = line
        elif line.source_id:
            if key in keyed:
                duplicates += 1
                continue
            keyed[key] = line
        else:
            occurrences[key] += 1
            keyed[occurrence_key(key, occurrences[key])] = line
    return keyed, buckets, duplicates


def _lines_by_bucket(invoice: ProviderInvoice, bucket_keys: list[str]) -> dict[str, InvoiceLine]:
    found: dict[str, InvoiceLine] = {}
    for start in range(0, len(bucket_keys), KEY_BATCH):
        for line in InvoiceLine.objects.filter(
            organization=invoice.organization_id, invoice=invoice, bucket_key__in=bucket_keys[start : start + KEY_BATCH]
        ):
            found[line.bucket_key] = line
    return found


def _restate(job: InvoiceIngestJob, superseded: list[tuple[InvoiceLine, InvoiceLine]]) -> dict[int, int]:
    """Move each superseded line to the restatements (its replacement is inserted next) and audit it. Returns
    the number restated per invoice id."""
    if not superseded:
        return {}
    organization = job.organization
    now = timezone.now()
    InvoiceLineRestatement.objects.bulk_create(
        [
            InvoiceLineRestatement(
                organization=organization,
                invoice_id=old.invoice_id,
                job_id=old.job_id,
                superseded_by_job=job,
                bucket_key=old.bucket_key,
                line_key=old.line_key,
                billing_period=old.billing_period,
                charge_period_start=old.charge_period_start,
                charge_period_end=old.charge_period_end,
                provider=old.provider,
                model=old.model,
                cost_source=old.cost_source,
                usage_type=old.usage_type,
                amount_nano=old.amount_nano,
                new_amount_nano=new.amount_nano,
                currency=old.currency,
                raw=old.raw,
                source_line=old.source_line,
                superseded_at=now,
            )
            for old, new in superseded
        ],
        batch_size=1000,
    )
    old_ids = [old.pk for old, _ in superseded]
    for start in range(0, len(old_ids), KEY_BATCH):
        InvoiceLine.objects.filter(organization=organization, pk__in=old_ids[start : start + KEY_BATCH]).delete()
    counts: Counter[int] = Counter()
    for old, new in superseded:
        counts[old.invoice_id] += 1
        audit_record(
            organization=organization,
            actor=None,
            action="invoice.line_restated",
            target=new.invoice,
            before={"amount_nano": old.amount_nano, "line_key": old.line_key, "job": old.job_id},
            after={
                "amount_nano": new.amount_nano,
                "line_key": new.line_key,
                "job": job.pk,
                "bucket_key": old.bucket_key,
                "day": f"{old.charge_period_start:%Y-%m-%d}",
                "model": old.model,
                "cost_source": old.cost_source,
                "usage_type": old.usage_type,
                "currency": old.currency,
            },
        )
    return dict(counts)


def _line_row(
    job, invoice: ProviderInvoice, key: str, line: ParsedLine, resolve, bucket_key: str | None = None
) -> InvoiceLine:
    return InvoiceLine(
        organization=job.organization,
        invoice=invoice,
        job=job,
        billing_period=invoice.billing_period,
        charge_period_start=line.charge_period_start,
        charge_period_end=line.charge_period_end,
        provider=line.provider,
        service=line.service[:200],
        model=resolve(line) if line.is_ai else "",
        model_raw=line.model_raw[:200],
        cost_source=line.cost_source if line.is_ai else InvoiceLine.CostSource.OTHER,
        usage_type=line.usage_type[:300],
        charge_category=line.charge_category,
        is_ai=line.is_ai,
        quantity=line.quantity,
        unit=line.unit[:60],
        amount_nano=decimal_to_nano(line.amount),
        currency=line.currency,
        tags=line.tags,
        raw=line.raw,
        source_line=line.line,
        line_key=key,
        bucket_key=bucket_key,
    )


@tenant_scoped(via="job")
def invoice_ingest_summary(*, job: InvoiceIngestJob, max_errors: int | None = None) -> dict:
    """The JSON the command prints: exactly status, invoices, duplicates, restated, rejected and errors."""
    invoices = [
        {
            "provider": invoice.provider,
            "billing_period": invoice.period_label,
            "total": money_text(invoice.total_nano, invoice.currency),
            "currency": invoice.currency,
            "lines": invoice.line_count,
        }
        for invoice in job.invoices.annotate(line_count=Count("lines")).order_by(
            "billing_period", "provider", "invoice_number"
        )
    ]
    if job.status in (InvoiceIngestJob.Status.REFUSED, InvoiceIngestJob.Status.FAILED):
        errors = [{"line": 0, "field": "(file)", "message": job.error_message}]
    else:
        rows = InvoiceIngestError.objects.filter(job=job).order_by("line", "id")
        if max_errors is not None:
            rows = rows[:max_errors]
        errors = [{"line": e.line, "field": e.field, "message": e.message} for e in rows]
    return {
        "status": job.status,
        "invoices": invoices,
        "duplicates": job.duplicates,
        "restated": job.restated,
        "rejected": job.rejected,
        "errors": errors,
    }
