"""Issue 15: the bucket keys of the cost-report lines stored before 0007, and the double counts they reveal.

Before bucket keys, a re-pulled OpenAI Costs or Anthropic cost report bucket with another amount was stored as a
second line beside the first (both counted in the invoice total). Here every ``openai-costs`` and
``anthropic-cost-report`` line gets its key from its ``raw`` row; where two or more lines share one, the newest (by
id: the later import) stays, the others move to ``InvoiceLineRestatement``, and the invoice total is recomputed from
its lines. The number resolved is printed. Then the bucket key becomes unique per organisation.
"""

import hashlib
import json

from django.db import migrations, models
from django.utils import timezone

BUCKET_FIGURES = {"openai-costs": ("amount", "quantity"), "anthropic-cost-report": ("amount",)}


def bucket_key_of(format_name, provider, invoice_number, period, raw):
    """A copy of ``apps.invoices.parsers.base.bucket_key_of`` as it was when this migration was written."""
    figures = BUCKET_FIGURES.get(format_name)
    if figures is None:
        return None
    identity = {
        "format": format_name,
        "provider": provider,
        "invoice": invoice_number,
        "period": period.isoformat(),
        "bucket": {k: v for k, v in raw.items() if k not in figures},
    }
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def fill_bucket_keys(apps, schema_editor):
    ProviderInvoice = apps.get_model("invoices", "ProviderInvoice")
    InvoiceLine = apps.get_model("invoices", "InvoiceLine")
    Restatement = apps.get_model("invoices", "InvoiceLineRestatement")
    now = timezone.now()
    resolved = 0
    invoices = ProviderInvoice._base_manager.filter(source_format__in=list(BUCKET_FIGURES)).order_by("pk")
    for invoice in invoices.iterator():
        lines = list(
            InvoiceLine._base_manager.filter(organization_id=invoice.organization_id, invoice_id=invoice.pk).order_by(
                "pk"
            )
        )
        by_bucket = {}
        for line in lines:
            key = bucket_key_of(
                invoice.source_format, invoice.provider, invoice.invoice_number, invoice.billing_period, line.raw
            )
            by_bucket.setdefault(key, []).append(line)
        superseded = []
        for key, same in by_bucket.items():
            newest = same[-1]
            for older in same[:-1]:
                superseded.append(
                    Restatement(
                        organization_id=invoice.organization_id,
                        invoice_id=invoice.pk,
                        job_id=older.job_id,
                        superseded_by_job_id=newest.job_id,
                        bucket_key=key,
                        line_key=older.line_key,
                        billing_period=older.billing_period,
                        charge_period_start=older.charge_period_start,
                        charge_period_end=older.charge_period_end,
                        provider=older.provider,
                        model=older.model,
                        cost_source=older.cost_source,
                        usage_type=older.usage_type,
                        amount_nano=older.amount_nano,
                        new_amount_nano=newest.amount_nano,
                        currency=older.currency,
                        raw=older.raw,
                        source_line=older.source_line,
                        superseded_at=now,
                    )
                )
        if superseded:
            Restatement._base_manager.bulk_create(superseded)
            old_keys = [r.line_key for r in superseded]
            InvoiceLine._base_manager.filter(
                organization_id=invoice.organization_id, invoice_id=invoice.pk, line_key__in=old_keys
            ).delete()
            resolved += len(superseded)
        kept = []
        for key, same in by_bucket.items():
            same[-1].bucket_key = key
            kept.append(same[-1])
        InvoiceLine._base_manager.bulk_update(kept, ["bucket_key"], batch_size=1000)
        if superseded:
            total = (
                InvoiceLine._base_manager.filter(
                    organization_id=invoice.organization_id, invoice_id=invoice.pk
                ).aggregate(total=models.Sum("amount_nano"))["total"]
                or 0
            )
            ProviderInvoice._base_manager.filter(organization_id=invoice.organization_id, pk=invoice.pk).update(
                total_nano=total
            )
    if resolved:
        print(f"\n  invoices: {resolved} cost-report line(s) counted twice moved to restatements")


class Migration(migrations.Migration):
    dependencies = [("invoices", "0007_invoiceline_bucket_key_restatement")]

    operations = [
        migrations.RunPython(fill_bucket_keys, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="invoiceline",
            constraint=models.UniqueConstraint(
                condition=models.Q(("bucket_key__isnull", False)),
                fields=("organization", "bucket_key"),
                name="invoiceline_unique_bucket_key",
            ),
        ),
    ]
