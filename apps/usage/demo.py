"""Demo usage: three months of realistic requests for acme (about 210,000), a smaller set for globex (whose
OpenAI models come through Azure OpenAI), loaded through the real ingest path. Idempotent: the generator is
deterministic, so a second run finds the same file already ingested and skips it."""

import hashlib
import tempfile
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction

from apps.tenancy.scoping import organization_scope
from apps.usage.models import IngestJob, SourceMapping
from apps.usage.services.ingest import ingest_job_create
from apps.usage.services.mappings import source_mapping_create
from apps.usage.synthetic import generate_events, write_ndjson
from apps.usage.tasks import run_ingest_job

DEMO_START = date(2026, 9, 1)
DEMO_DAYS = 88  # 1 September to 27 November 2026: September and October closed months, November open
DEFAULT_VOLUME = {"acme": 210_000, "globex": 24_000}
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
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{organization.slug}-usage-2026-09-to-11.ndjson"
        write_ndjson(
            path,
            generate_events(
                count=count,
                start=DEMO_START,
                days=DEMO_DAYS,
                workspace_prefix=organization.slug,
                seed=sum(map(ord, organization.slug)),
                provider_names=PROVIDER_NAMES.get(organization.slug),
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
