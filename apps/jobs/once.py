"""A job's result written once. A kind's runner may run again for the same job (a task redelivered after its
worker died, a retry): the transaction that writes the result also records it on the job (``job_record_written``),
so a later attempt finds it (``job_written``) and returns it instead of writing it a second time. A killed
attempt rolls back both together: the job then records nothing and the next attempt writes the result."""

from django.db import connection

from apps.tenancy.scoping import tenant_scoped

from .models import Job


@tenant_scoped(via="job")
def job_written(*, job: Job, lock: bool = True) -> dict:
    """Inside the write's transaction: what an earlier attempt of ``job`` recorded as written ({} if none).
    ``lock`` holds the job's row until the commit, so two deliveries of the job write one after the other
    (a kind that already locks what it writes, e.g. the billing period, may pass ``lock=False``)."""
    rows = Job.objects.filter(organization=job.organization_id, pk=job.pk)
    if lock:
        rows = rows.select_for_update()
    return rows.values_list("result", flat=True).get() or {}


@tenant_scoped(via="job")
def job_record_written(*, job: Job, result: dict) -> None:
    """Record on ``job``, in the transaction that wrote it, what it wrote (ids: kept as the job's result)."""
    if not connection.in_atomic_block:
        raise RuntimeError("job_record_written must run inside the transaction that wrote the result.")
    Job.objects.filter(organization=job.organization_id, pk=job.pk).update(result=result)
