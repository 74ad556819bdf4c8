import io
from pathlib import Path

import pytest
from django_scopes import scope

from apps.invoices.models import InvoiceIngestJob
from apps.invoices.services.ingest import invoice_ingest_create, invoice_ingest_run
from apps.pricing.models import AiModel, Provider

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _payload_dir(settings, tmp_path):
    settings.INGEST_PAYLOAD_DIR = str(tmp_path / "payloads")


@pytest.fixture(autouse=True)
def _tasks_in_process(eager_celery):
    """These tests follow the web flow, not a worker: run the ingest task in-process even when CI
    configures a broker."""


@pytest.fixture
def models_catalog(db):
    """Just enough of the price book's model list for names to resolve to canonical codes."""
    for provider_code, codes in {
        "openai": ["gpt-4o", "gpt-4o-mini"],
        "anthropic": ["claude-sonnet-4-5"],
        "google": ["gemini-2.5-flash"],
    }.items():
        provider, _ = Provider.objects.get_or_create(code=provider_code, defaults={"name": provider_code})
        for code in codes:
            AiModel.objects.get_or_create(provider=provider, code=code, defaults={"display_name": code})


def ingest(organization, source, *, format: str = "auto", file_name: str | None = None) -> InvoiceIngestJob:
    """Run a file through the real ingest path (create, then run in-process) and return the finished job."""
    if isinstance(source, str):
        path = FIXTURES / source
        data, file_name = path.read_bytes(), file_name or path.name
    else:
        data = source
    job, _ = invoice_ingest_create(
        organization=organization,
        actor=None,
        file_name=file_name or "upload.bin",
        stream=io.BytesIO(data),
        format=format,
        channel=InvoiceIngestJob.Channel.COMMAND,
        enqueue=False,
    )
    invoice_ingest_run(job_id=job.pk)
    with scope(organization=organization):
        job.refresh_from_db()
    return job
