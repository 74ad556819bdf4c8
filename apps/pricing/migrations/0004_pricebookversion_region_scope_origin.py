"""Price-book versions, and price rows that know where they come from.

- ``PriceBookVersion``: one state of the global list prices (a new number only when what prices changes).
- ``PriceRow.region_scope`` (Bedrock global / regional profiles), ``origin`` (upstream snapshot or reviewed
  correction) and ``reason``; the unique keys gain the scope.
- r1 is the book already loaded (if any): the prices every existing estimate was computed with.
"""

import hashlib

from django.db import migrations, models


def _fingerprint(rows) -> str:
    digest = hashlib.sha256()
    lines = sorted(
        "|".join(
            str(part)
            for part in (
                provider,
                model,
                scope,
                tier,
                usage_type,
                threshold or "",
                start,
                end or "",
                unit,
                price.normalize(),
                currency,
            )
        )
        for provider, model, scope, tier, usage_type, threshold, start, end, unit, price, currency in rows
    )
    for line in lines:
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def record_first_version(apps, schema_editor):
    PriceRow = apps.get_model("pricing", "PriceRow")
    PriceBookVersion = apps.get_model("pricing", "PriceBookVersion")
    rows = list(
        PriceRow.objects.values_list(
            "provider__code",
            "model__code",
            "region_scope",
            "service_tier",
            "usage_type",
            "min_context_tokens",
            "effective_from",
            "effective_to",
            "unit",
            "price",
            "currency",
        )
    )
    if rows:
        PriceBookVersion.objects.create(
            number=1,
            upstream="",
            content_sha256=_fingerprint(rows),
            row_count=len(rows),
            diff={"note": "the price book loaded before versions were recorded"},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0003_scale_tier"),
    ]

    operations = [
        migrations.CreateModel(
            name="PriceBookVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField(unique=True)),
                ("upstream", models.CharField(blank=True, help_text='e.g. "genai-prices 0.2.5".', max_length=100)),
                (
                    "upstream_sha256",
                    models.CharField(blank=True, help_text="sha256 of the package's data module.", max_length=64),
                ),
                ("content_sha256", models.CharField(max_length=64)),
                ("corrections_sha256", models.CharField(blank=True, max_length=64)),
                ("row_count", models.PositiveIntegerField(default=0)),
                ("loaded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "diff",
                    models.JSONField(
                        blank=True, default=dict, help_text="Counts and lines of what changed since the last."
                    ),
                ),
            ],
            options={
                "ordering": ["-number"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="pricerow",
            name="pricerow_unique_standard_context",
        ),
        migrations.RemoveConstraint(
            model_name="pricerow",
            name="pricerow_unique_long_context",
        ),
        migrations.AddField(
            model_name="pricerow",
            name="origin",
            field=models.CharField(
                choices=[("upstream", "Upstream (genai-prices)"), ("correction", "Reviewed correction")],
                default="correction",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="pricerow",
            name="reason",
            field=models.CharField(
                blank=True, help_text="Why a correction replaces or adds to upstream.", max_length=500
            ),
        ),
        migrations.AddField(
            model_name="pricerow",
            name="region_scope",
            field=models.CharField(
                blank=True,
                choices=[("", "Any"), ("global", "Global"), ("regional", "Regional")],
                default="",
                help_text="Bedrock: global or regional (geographic) inference profiles only; empty: any.",
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerow",
            constraint=models.UniqueConstraint(
                condition=models.Q(("min_context_tokens__isnull", True)),
                fields=("provider", "model", "region_scope", "service_tier", "usage_type", "effective_from"),
                name="pricerow_unique_scope_standard_context",
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerow",
            constraint=models.UniqueConstraint(
                condition=models.Q(("min_context_tokens__isnull", False)),
                fields=(
                    "provider",
                    "model",
                    "region_scope",
                    "service_tier",
                    "usage_type",
                    "min_context_tokens",
                    "effective_from",
                ),
                name="pricerow_unique_scope_long_context",
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerow",
            constraint=models.CheckConstraint(
                condition=models.Q(("region_scope__in", ["", "global", "regional"])), name="pricerow_region_scope_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerow",
            constraint=models.CheckConstraint(
                condition=models.Q(("origin__in", ["upstream", "correction"])), name="pricerow_origin_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="pricebookversion",
            constraint=models.CheckConstraint(condition=models.Q(("number__gte", 1)), name="pricebookversion_number_1"),
        ),
        migrations.RunPython(record_first_version, migrations.RunPython.noop),
    ]
