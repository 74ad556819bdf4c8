"""The ingest floor's job kit: both job kinds registered with their task, one base, no service↔task cycle."""

import ast
from pathlib import Path

import pytest

from apps.ingest.jobs import job_kind_of
from apps.ingest.models import IngestJobBase
from apps.invoices.models import InvoiceIngestJob
from apps.invoices.tasks import run_invoice_ingest
from apps.usage.models import IngestJob
from apps.usage.tasks import run_ingest_job

ROOT = Path(__file__).resolve().parents[2]


def test_each_job_kind_is_registered_with_the_task_that_runs_it():
    usage, invoices = job_kind_of(IngestJob), job_kind_of(InvoiceIngestJob)
    assert (usage.task, usage.audit_prefix, usage.noun) == (run_ingest_job, "usage", "job")
    assert (invoices.task, invoices.audit_prefix, invoices.noun) == (run_invoice_ingest, "invoices", "import")
    with pytest.raises(LookupError, match="not a registered job kind"):
        job_kind_of(IngestJobBase)


def test_both_jobs_share_the_base_and_its_idempotency_constraint():
    for model in (IngestJob, InvoiceIngestJob):
        assert issubclass(model, IngestJobBase)
        names = {c.name for c in model._meta.constraints}
        assert f"{model.__name__.lower()}_unique_idempotency_key" in names
    assert InvoiceIngestJob.Status.REFUSED == "refused"
    assert [c for c, _ in IngestJob.Status.choices] == ["queued", "running", "succeeded", "failed", "interrupted"]
    assert InvoiceIngestJob.Channel.DEMO == "demo" and not hasattr(IngestJob.Channel, "DEMO")


@pytest.mark.parametrize("app", ["usage", "invoices"])
def test_no_service_imports_its_tasks_module(app):
    for path in (ROOT / "apps" / app / "services").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").endswith("tasks"), f"{path.name} imports {node.module}"
