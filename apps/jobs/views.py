"""The jobs of one organisation: the list, and a job's page, which polls itself (htmx) while the job is
queued or running and sends people on to the result when it is done."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.workers import worker_wait_seconds
from apps.tenancy.permissions import org_perm_required, require_second_factor
from apps.tenancy.roles import Perm

from . import selectors, services
from .models import Job
from .registry import job_kind, kinds_for

JOBS_PER_PAGE = 50


def _visible_job(request, pk: int) -> Job:
    kinds = kinds_for(request.membership.has_perm)
    return get_object_or_404(
        selectors.job_list(organization=request.organization, kinds=kinds, user=request.user), pk=pk
    )


def _context(job: Job) -> dict:
    queued_since = (job.queued_at or job.created_at) if job.status == Job.Status.QUEUED else None
    return {"job": job, "worker_wait": worker_wait_seconds(queued_since=queued_since)}


@org_perm_required(Perm.VIEW_ORG)
def job_list(request, org_slug: str):
    kinds = kinds_for(request.membership.has_perm)
    rows = selectors.job_list(organization=request.organization, kinds=kinds, user=request.user)
    page = Paginator(rows, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "jobs/list.html", {"page": page})


@org_perm_required(Perm.VIEW_ORG)
def job_detail(request, org_slug: str, pk: int):
    job = _visible_job(request, pk)
    context = {**_context(job), "follow": request.GET.get("follow") == "1"}
    if request.htmx:
        response = render(request, "jobs/_job.html", context)
        if job.status == Job.Status.SUCCEEDED and job.result_url and request.GET.get("follow") == "1":
            response["HX-Redirect"] = job.result_url
        return response
    return render(request, "jobs/detail.html", context)


@require_POST
@org_perm_required(Perm.VIEW_ORG)
def job_retry(request, org_slug: str, pk: int):
    job = _visible_job(request, pk)
    perm = job_kind(job.kind).perm
    if not request.membership.has_perm(perm):
        raise PermissionDenied("Your role cannot run this kind of job.")
    require_second_factor(request, perm)
    try:
        job = services.job_retry(job=job, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Job {job.pk} queued again.")
    return redirect("jobs:detail", org_slug=org_slug, pk=job.pk)
