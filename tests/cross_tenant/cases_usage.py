"""Cross-tenant cases for the usage app."""

import io

from django.db import transaction
from django_scopes import scope

from apps.taxonomy.models import TagDimension
from apps.usage.models import (
    DailyDetailUsage,
    DailyUsage,
    IngestError,
    IngestJob,
    MonthlyDetailUsage,
    MonthlyUsage,
    SourceMapping,
    UsageRecord,
    UsageSourceDay,
)
from apps.usage.services.ingest import ingest_job_create, ingest_job_run

from . import api_route, portal_route, tenant_model

FINANCE = "finance_analyst"

EVENT = (
    '{{"request_id": "{rid}", "occurred_at": "2026-10-03T14:22:05Z", "provider": "openai", "model": "gpt-4o", '
    '"tags": {{"team": "search", "customer": "cust_1"}}, "usage": {{"input_tokens": 10, "output_tokens": 5}}}}\n'
    "not json\n"
)


def ingested_job(world, organization) -> IngestJob:
    """A finished job of one good and one bad row, in the given organisation (made once per test)."""
    cache = world.__dict__.setdefault("_usage_jobs", {})
    if organization.pk not in cache:
        with scope(organization=organization):
            TagDimension.objects.get_or_create(
                organization=organization, key="customer", defaults={"label": "Customer", "granularity": "detail"}
            )
        body = EVENT.format(rid=f"req-{organization.slug}").encode()
        with transaction.atomic():
            job, _ = ingest_job_create(
                organization=organization,
                actor=None,
                file_name="x.ndjson",
                stream=io.BytesIO(body),
                format="ndjson",
                channel="command",
                enqueue=False,
            )
        cache[organization.pk] = ingest_job_run(job_id=job.pk)
    return cache[organization.pk]


def _first(model, world, organization):
    ingested_job(world, organization)
    with scope(organization=organization):
        return model.objects.order_by("pk").first()


def _mapping(world, organization) -> SourceMapping:
    with scope(organization=organization):
        mapping, _ = SourceMapping.objects.get_or_create(
            organization=organization,
            kind="openai_project",
            external_id=f"proj_{organization.slug}",
            defaults={"tags": {"team": "search"}},
        )
    return mapping


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _job_kwargs(world, organization) -> dict:
    return {**_org(world, organization), "pk": ingested_job(world, organization).pk}


portal_route("usage:explorer", _org)
portal_route("usage:records", _org)
portal_route("usage:jobs", _org, role=FINANCE)
portal_route("usage:job_detail", _job_kwargs, role=FINANCE)
portal_route("usage:job_errors_csv", _job_kwargs, role=FINANCE)
portal_route("usage:job_retry", _job_kwargs, method="post", role=FINANCE)
portal_route("usage:tagging_health", _org)
portal_route("usage:mappings", _org)
portal_route("usage:mapping_delete", lambda w, o: {**_org(w, o), "pk": _mapping(w, o).pk}, method="post")

api_route("api:usage-job-list", row_id=lambda w, o: ingested_job(w, o).pk)
api_route("api:usage-job-detail", lambda w, o: {"pk": ingested_job(w, o).pk})
api_route("api:usage-job-errors", lambda w, o: {"pk": ingested_job(w, o).pk})
api_route("api:usage-job-retry", lambda w, o: {"pk": ingested_job(w, o).pk}, method="post")

tenant_model("usage.ingestjob", ingested_job)
tenant_model("usage.ingesterror", lambda w, o: _first(IngestError, w, o))
tenant_model("usage.usagerecord", lambda w, o: _first(UsageRecord, w, o))
tenant_model("usage.dailyusage", lambda w, o: _first(DailyUsage, w, o))
tenant_model("usage.sourcemapping", _mapping)
tenant_model("usage.dailydetailusage", lambda w, o: _first(DailyDetailUsage, w, o))
tenant_model("usage.monthlyusage", lambda w, o: _first(MonthlyUsage, w, o))
tenant_model("usage.monthlydetailusage", lambda w, o: _first(MonthlyDetailUsage, w, o))
tenant_model("usage.usagesourceday", lambda w, o: _first(UsageSourceDay, w, o))
