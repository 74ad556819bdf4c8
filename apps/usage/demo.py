"""Demo usage, loaded through the real ingest path. acme: thirteen months and a week of requests (about
180,000, from 1 November 2025 to 6 December 2026), so "this month to date", "last month" and "the same month
last year" all have data: the volume grows about 15% a month with quieter weekends, the assistant team grows
fastest, claude-haiku-4-5 arrives in March 2026, and data-platform's 3 December 2026 is a spike (a backfill
left running: eight times its usual day). globex (whose OpenAI models come through Azure OpenAI): a lighter
six months, June to 27 November 2026. Idempotent: the generator is deterministic, so a second run finds the
same file already ingested and skips it."""

import hashlib
import tempfile
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from apps.core.money import nano_to_decimal
from apps.fx.convert import ConvertItem, RateGap
from apps.fx.selectors import convert_items
from apps.owners.demo import TEAM_OF_COST_CENTRE, planned_budget_rows, seed_budgets
from apps.taxonomy.models import TagSet
from apps.tenancy.scoping import organization_scope
from apps.usage.models import DailyUsage, IngestJob, SourceMapping
from apps.usage.services.ingest import ingest_job_create
from apps.usage.services.mappings import source_mapping_create
from apps.usage.synthetic import Spike, generate_history, write_ndjson
from apps.usage.tasks import run_ingest_job

# slug: (first day, last day): acme to the day before "today" of the demo (7 December 2026).
DEMO_SPAN = {"acme": (date(2025, 11, 1), date(2026, 12, 6)), "globex": (date(2026, 6, 1), date(2026, 11, 27))}
DEFAULT_VOLUME = {"acme": 180_000, "globex": 24_000}
SPIKES = {"acme": Spike(team="data-platform", day=date(2026, 12, 3), factor=8)}
# globex buys OpenAI models through Azure OpenAI (its MACC discount is an azure-openai price override).
PROVIDER_NAMES = {"globex": {"openai": "azure-openai"}}
MAPPINGS = {
    "openai_project": {"proj_search": {"team": "search"}, "proj_support": {"team": "support"}},
    "anthropic_workspace": {"wrkspc_assistant": {"team": "assistant"}},
}


def seed_demo(*, organization, stdout) -> None:
    # The test settings shrink the demo (DEMO_USAGE_REQUESTS) so the suite can seed it quickly.
    count = getattr(settings, "DEMO_USAGE_REQUESTS", DEFAULT_VOLUME).get(organization.slug)
    if not count:
        return
    with organization_scope(organization):
        for kind, entries in MAPPINGS.items():
            for external_id, tags in entries.items():
                if not SourceMapping.objects.filter(kind=kind, external_id=external_id).exists():
                    source_mapping_create(
                        organization=organization,
                        actor=None,
                        kind=kind,
                        external_id=external_id,
                        tags=tags,
                        note="demo",
                    )
    first, last = DEMO_SPAN[organization.slug]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{organization.slug}-usage-{first:%Y-%m}-to-{last:%Y-%m}.ndjson"
        write_ndjson(
            path,
            generate_history(
                count=count,
                start=first,
                end=last,
                workspace_prefix=organization.slug,
                seed=sum(map(ord, organization.slug)),
                provider_names=PROVIDER_NAMES.get(organization.slug),
                monthly_growth=0.15 if organization.slug == "acme" else 0.05,
                spike=SPIKES.get(organization.slug),
            ),
        )
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with organization_scope(organization):
            if IngestJob.objects.filter(sha256=digest, status=IngestJob.Status.SUCCEEDED).exists():
                stdout.write(f"  {organization.slug}: demo usage already ingested")
                return
        with path.open("rb") as stream, transaction.atomic():
            job, _ = ingest_job_create(
                organization=organization,
                actor=None,
                file_name=path.name,
                stream=stream,
                format="ndjson",
                channel=IngestJob.Channel.COMMAND,
                enqueue=False,
            )
    run_ingest_job.apply(args=[job.pk])
    with organization_scope(organization):
        job.refresh_from_db()
    stdout.write(f"  {organization.slug}: ingested {job.accepted:,} demo requests ({job.status})")


def seed_demo_budgets(*, organization, stdout) -> None:
    """Budgets at realistic levels: near each team's spend (the cube's price-book estimate, as showback
    reads it), by the demo's planning rule (``apps.owners.demo.planned_budget_rows``), for every month of
    the demo usage and the current one (December 2026). Here, not in owners, because they are made from the
    usage cube; the seeder runs right after the usage one."""
    if organization.slug not in DEMO_SPAN:
        return
    spend = _team_month_spend(organization)
    if not spend:
        stdout.write(f"  {organization.slug}: no demo usage yet, so no demo budgets")
        return
    first, _last = DEMO_SPAN[organization.slug]
    months = [date(first.year, first.month, 1)]
    while months[-1] < BUDGETS_UNTIL:
        months.append(_next_month(months[-1]))
    rows = planned_budget_rows(organization=organization, months=months, spend=spend)
    with organization_scope(organization):
        seed_budgets(organization=organization, rows=rows, stdout=stdout)


BUDGETS_UNTIL = date(2026, 12, 1)  # the demo's current month


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _team_month_spend(organization) -> dict[str, dict[date, Decimal | None]]:
    """{cost-centre code: {month: spend in the organisation's currency}} from the DailyUsage cube; a month
    with a day whose exchange rate is not loaded is ``None`` (never converted at an invented rate)."""
    code_of_team = {team: code for code, team in TEAM_OF_COST_CENTRE.items()}
    with organization_scope(organization):
        teams = {
            pk: code_of_team.get((tags or {}).get("team"))
            for pk, tags in TagSet.objects.filter(organization=organization).values_list("pk", "tags")
        }
        rows = list(
            DailyUsage.objects.filter(organization=organization)
            .values("day", "tagset_id", "currency")
            .annotate(nano=Sum("estimated_nano"))
            .order_by()
        )
    by_month: dict[date, list] = defaultdict(list)
    for row in rows:
        code = teams.get(row["tagset_id"])
        if code and row["nano"]:
            by_month[date(row["day"].year, row["day"].month, 1)].append((code, row))
    spend: dict[str, dict[date, Decimal | None]] = defaultdict(dict)
    for month, items in sorted(by_month.items()):
        try:
            with organization_scope(organization):
                _converter, amounts = convert_items(
                    organization=organization,
                    items=[ConvertItem(amount_nano=r["nano"], currency=r["currency"], day=r["day"]) for _c, r in items],
                    period_start=month,
                    period_end=_next_month(month) - timedelta(days=1),
                )
        except RateGap:
            for code, _row in items:
                spend[code][month] = None
            continue
        totals: dict[str, int] = defaultdict(int)
        for (code, _row), nano in zip(items, amounts, strict=True):
            totals[code] += nano
        for code, nano in totals.items():
            spend[code][month] = nano_to_decimal(nano)
    return spend
