"""Cross-tenant cases for the jobs app: the job record, its pages and its API routes."""

from django_scopes import scope

from apps.jobs.models import Job
from tests.jobs import kinds  # noqa: F401  (registers the test kinds the jobs below are of)

from . import api_route, portal_route, tenant_model


def make_job(world, organization) -> Job:
    with scope(organization=organization):
        job, _ = Job.objects.get_or_create(
            organization=organization,
            kind="tests.flaky",
            title=f"Flaky for {organization.slug}",
            defaults={"status": Job.Status.FAILED, "error_message": "refused", "attempts": 1},
        )
    return job


tenant_model("jobs.job", make_job)


def _job(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_job(world, organization).pk}


portal_route("jobs:list", lambda world, organization: {"org_slug": organization.slug})
# The test kinds are a preparer's work (period.prepare), which org admins do not do.
portal_route("jobs:detail", _job, role="finance_analyst")
portal_route("jobs:retry", _job, method="post", role="finance_analyst")

api_route("api:job-list", row_id=lambda world, organization: make_job(world, organization).pk)
api_route("api:job-detail", lambda world, organization: {"pk": make_job(world, organization).pk})
api_route("api:job-retry", lambda world, organization: {"pk": make_job(world, organization).pk}, method="post")
