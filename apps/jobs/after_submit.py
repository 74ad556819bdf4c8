"""Where a portal POST that submitted a job sends the person: to the job's page, which follows it, while it is
queued or running (a worker does it); straight to the result with its message when it is already done (no
broker: it ran in the request); back to ``refused_url`` with the reason when it failed."""

from django.contrib import messages
from django.shortcuts import redirect

from .models import Job


def after_submit(request, job: Job, *, refused_url: str):
    if job.status == Job.Status.SUCCEEDED:
        message = str(job.result.get("message") or f"{job.title}: done.")
        if job.result.get("level") == "info":
            messages.info(request, message)
        else:
            messages.success(request, message)
        return redirect(job.result_url or refused_url)
    if job.status == Job.Status.FAILED:
        messages.error(request, job.error_message)
        return redirect(refused_url)
    return redirect("jobs:detail", org_slug=request.organization.slug, pk=job.pk)
