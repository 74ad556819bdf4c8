"""Hard limits on what comes in (usage and invoices): request and upload size, gzip decompression caps,
JSON arrays read one element at a time. Over a limit: 413 from the API, a form error in the portal, a
refusal from the command, and memory that stays flat."""

import gzip
import io
import json
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from apps.core.limits import RATIO_FLOOR
from apps.core.parsers import PayloadTooLarge, RawBodyParser
from apps.invoices.models import InvoiceIngestJob
from apps.invoices.parsers import reader_for as invoice_reader_for
from apps.tenancy.roles import Role
from apps.usage.models import IngestJob
from apps.usage.parsers import reader_for
from apps.usage.services.ingest import ingest_job_create, ingest_job_run
from tests.usage.test_ingest import event, ndjson

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def _payload_files(settings) -> int:
    return sum(1 for _ in Path(settings.INGEST_PAYLOAD_DIR).rglob("*.bin"))


def _job_count(model) -> int:
    with scopes_disabled():
        return model.objects.count()


def _bomb(decompressed_mb: int) -> bytes:
    """A gzip of a JSON array of ``decompressed_mb`` MB of usage events, built a block at a time."""
    row = json.dumps(event("bomb")).encode() + b","
    block = row * (MB // len(row))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as zipped:
        zipped.write(b"[")
        for _ in range(decompressed_mb):
            zipped.write(block)
        zipped.write(json.dumps(event("last")).encode() + b"]")
    return out.getvalue()


class ReadSpy(io.RawIOBase):
    """A stream that records the biggest read asked of it and whether anyone read it whole."""

    def __init__(self, data: bytes):
        self.data = io.BytesIO(data)
        self.biggest = 0
        self.read_whole = False

    def readable(self):
        return True

    def readinto(self, buffer):
        self.biggest = max(self.biggest, len(buffer))
        return self.data.readinto(buffer)

    def readall(self):
        self.read_whole = True
        return self.data.read()


# --- the API --------------------------------------------------------------------------------------------


def test_api_body_over_the_default_limit_is_413_naming_it_and_keeps_nothing(world, settings):
    assert settings.INGEST_MAX_UPLOAD_BYTES == 50 * MB  # the documented default
    files_before = _payload_files(settings)
    body = ndjson(event("x")) * (51 * MB // len(ndjson(event("x"))) + 1)
    response = world.api("a", scopes=["usage:write"]).post(
        reverse("api:usage-job-list"), body, content_type="application/x-ndjson"
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than the limit of 50 MB.",
        "limit": "INGEST_MAX_UPLOAD_MB",
        "limit_value": 50 * MB,
    }
    assert _job_count(IngestJob) == 0 and _payload_files(settings) == files_before


def test_invoice_api_body_over_the_limit_is_413(world, settings):
    settings.INGEST_MAX_UPLOAD_BYTES = 4096
    body = b"provider,invoice_number,date,description,model,cost_source,amount,currency\n" + b"x" * 5000
    response = world.api("a", scopes=["invoices:write"]).post(
        reverse("api:invoice-list"), body, content_type="text/csv"
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is larger than the limit of 4 KB."
    assert _job_count(InvoiceIngestJob) == 0


def test_every_json_api_body_is_capped_before_it_is_read(world, settings):
    """DRF reads bodies with request.read(), which DATA_UPLOAD_MAX_MEMORY_SIZE did not bound."""
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 10 * MB
    body = json.dumps({"owner": 1, "period": "2026-10", "amount": "1", "pad": "x" * (11 * MB)})
    response = world.api("a").post(reverse("api:budget-list"), body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than the limit of 10 MB.",
        "limit": "DATA_UPLOAD_MAX_MEMORY_SIZE",
        "limit_value": 10 * MB,
    }
    # The API reads JSON bodies only: a form body of any size is refused before it is read.
    form = world.api("a").post(
        reverse("api:budget-list"), "pad=" + "x" * (11 * MB), content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 415


def test_a_body_without_content_length_is_refused_while_read_not_after(settings):
    """Chunked bodies declare no length: the parser stops reading just past the limit."""
    settings.INGEST_MAX_UPLOAD_BYTES = 2 * MB

    class Request:
        META: dict = {}

    spy = ReadSpy(b"{}\n" * (20 * MB // 3))
    stream = io.BufferedReader(spy)
    with pytest.raises(PayloadTooLarge) as refused:
        RawBodyParser().parse(stream, parser_context={"request": Request()})
    assert refused.value.status_code == 413
    assert refused.value.detail["limit"] == "INGEST_MAX_UPLOAD_MB"
    assert spy.data.tell() <= 3 * MB and not spy.read_whole


def test_a_gzip_bomb_to_the_api_is_413_with_flat_memory(world, settings):
    """A 100 MB JSON array in under 500 KB of gzip: refused at receipt, naming the ratio limit, and the
    request never holds the decompressed text (peak far below 100 MB)."""
    bomb = _bomb(100)
    assert len(bomb) < 500 * 1024  # over 200 times smaller than its text
    api = world.api("a", scopes=["usage:write"])
    tracemalloc.start()
    try:
        response = api.post(reverse("api:usage-job-list"), bomb, content_type="application/json")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert response.json()["limit"] == "INGEST_MAX_GZIP_RATIO"
    assert "decompresses to more than 100 times its compressed size" in response.json()["detail"]
    assert peak < 20 * MB, f"peak {peak / MB:.1f} MB"
    assert _job_count(IngestJob) == 0


def test_the_decompressed_size_cap_names_its_limit(world, settings):
    settings.INGEST_MAX_DECOMPRESSED_BYTES = 1 * MB
    body = gzip.compress(ndjson(*(event(f"r{i}") for i in range(4000))))  # about 2 MB of text
    response = world.api("a", scopes=["usage:write"]).post(
        reverse("api:usage-job-list"), body, content_type="application/x-ndjson"
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "The decompressed file is larger than the limit of 1 MB."
    assert response.json()["limit"] == "INGEST_MAX_DECOMPRESSED_MB"


def test_the_ratio_is_only_judged_past_a_floor(catalog, django_capture_on_commit_callbacks, eager_celery):
    """Small files of repetitive rows compress far beyond the ratio and are harmless: they go through."""
    body = gzip.compress(ndjson(*(event(f"s{i}") for i in range(300))))
    assert len(gzip.decompress(body)) < RATIO_FLOOR
    with django_capture_on_commit_callbacks(execute=True):
        response = catalog.api("a", scopes=["usage:write"]).post(
            reverse("api:usage-job-list"), body, content_type="application/x-ndjson"
        )
    assert response.status_code == 202
    with scope(organization=catalog.org("a")):
        assert IngestJob.objects.get(pk=response.json()["id"]).accepted == 300


# --- the portal -----------------------------------------------------------------------------------------


def test_portal_usage_upload_over_the_limit_is_a_form_error_and_only_the_limit_is_kept(world, settings):
    settings.INGEST_MAX_UPLOAD_BYTES = 10 * 1024
    client = world.login("a", Role.FINANCE_ANALYST)
    upload = SimpleUploadedFile("big.ndjson", ndjson(event("p")) * 500)  # about 250 KB
    response = client.post(reverse("usage:jobs", kwargs={"org_slug": "alpha"}), {"file": upload, "format": "auto"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["file"] == ["The file is larger than the upload limit of 10 KB."]
    # The upload handler kept one byte over the limit, not the 250 KB sent.
    assert form.files["file"].size == 10 * 1024 + 1
    assert _job_count(IngestJob) == 0


def test_portal_invoice_upload_of_a_gzip_bomb_is_a_form_error(world, settings):
    client = world.login("a", Role.FINANCE_ANALYST)
    upload = SimpleUploadedFile("bill.csv.gz", _bomb(30))
    response = client.post(
        reverse("invoices:imports", kwargs={"org_slug": "alpha"}), {"file": upload, "format": "auto"}
    )
    assert response.status_code == 200
    (message,) = response.context["form"].errors["file"]
    assert message.startswith("The file decompresses to more than 100 times its compressed size")
    assert _job_count(InvoiceIngestJob) == 0


def test_portal_invoice_upload_over_the_size_limit(world, settings):
    settings.INGEST_MAX_UPLOAD_BYTES = 1024
    client = world.login("a", Role.FINANCE_ANALYST)
    upload = SimpleUploadedFile("bill.csv", b"a,b\n" * 1000)
    response = client.post(
        reverse("invoices:imports", kwargs={"org_slug": "alpha"}), {"file": upload, "format": "auto"}
    )
    assert response.context["form"].errors["file"] == ["The file is larger than the upload limit of 1 KB."]


# --- the commands and the worker ------------------------------------------------------------------------


def test_command_refuses_a_gzip_bomb_naming_the_limit(world, tmp_path, settings):
    path = tmp_path / "october.ndjson.gz"
    path.write_bytes(_bomb(30))
    with pytest.raises(CommandError, match="decompresses to more than 100 times its compressed size"):
        call_command("ingest_usage", str(path), "--org", "alpha")
    with pytest.raises(CommandError, match="decompresses to more than 100 times"):
        call_command("ingest_invoice", str(path), "--org", "alpha")
    assert _job_count(IngestJob) == _job_count(InvoiceIngestJob) == 0


def test_commands_reading_stdin_apply_the_upload_cap(catalog, settings, monkeypatch, capsys):
    from apps.ingest.command import IngestFileCommand

    settings.INGEST_MAX_UPLOAD_BYTES = 4096
    body = ndjson(*(event(f"i{i}") for i in range(20)))  # about 10 KB
    monkeypatch.setattr(IngestFileCommand, "stdin_bytes", lambda self: io.BytesIO(body))
    with pytest.raises(CommandError, match="The input is larger than the limit of 4 KB"):
        call_command("ingest_usage", "-", "--org", "alpha")
    with pytest.raises(CommandError, match="The input is larger than the limit of 4 KB"):
        call_command("ingest_invoice", "-", "--org", "alpha")
    assert _job_count(IngestJob) == _job_count(InvoiceIngestJob) == 0
    settings.INGEST_MAX_UPLOAD_BYTES = 50 * MB
    call_command("ingest_usage", "-", "--org", "alpha", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert (summary["status"], summary["accepted"]) == ("succeeded", 20)


def test_a_job_over_the_limits_when_read_fails_with_the_limit_named(catalog, settings):
    """The worker applies the limits too (settings lowered after receipt, or a file placed by other means)."""
    org = catalog.org("a")
    with transaction.atomic():
        job, _ = ingest_job_create(
            organization=org,
            actor=None,
            file_name="u.ndjson.gz",
            stream=io.BytesIO(gzip.compress(ndjson(*(event(f"w{i}") for i in range(3000))))),
            format="auto",
            channel="command",
            enqueue=False,
        )
    settings.INGEST_MAX_DECOMPRESSED_BYTES = 1 * MB
    job = ingest_job_run(job_id=job.pk)
    assert (job.status, job.accepted) == ("failed", 0)
    assert job.error_message == "The decompressed file is larger than the limit of 1 MB."


# --- JSON arrays, one element at a time -----------------------------------------------------------------


def _consume(reader, data: bytes) -> tuple[int, int, ReadSpy]:
    spy = ReadSpy(data)
    tracemalloc.start()
    try:
        count = sum(1 for _ in reader(io.BufferedReader(spy)))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak, spy


def test_a_json_array_is_read_one_element_at_a_time():
    events = [event(f"a{i}") for i in range(25_000)]
    data = json.dumps(events).encode()
    assert len(data) > 10 * MB
    reader, _source = reader_for("json")
    count, peak, spy = _consume(reader, data)
    assert count == 25_000
    assert not spy.read_whole and spy.biggest <= 128 * 1024
    assert peak < 5 * MB, f"peak {peak / MB:.1f} MB for a {len(data) / MB:.0f} MB array"


def test_litellm_arrays_and_pages_of_provider_exports_stream_too():
    rows = [
        {
            "request_id": f"l{i}",
            "spend": "0.001",
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "startTime": "2026-10-03T10:00:00Z",
            "model": "gpt-4o",
            "custom_llm_provider": "openai",
        }
        for i in range(20_000)
    ]
    count, peak, spy = _consume(reader_for("litellm")[0], json.dumps(rows).encode())
    assert count == 20_000 and not spy.read_whole and peak < 5 * MB
    page = json.loads((Path(__file__).parent / "fixtures" / "openai_usage_page.json").read_text())
    pages = [page] * 3000
    count, peak, spy = _consume(reader_for("openai-usage")[0], json.dumps(pages).encode())
    assert count > 3000 and not spy.read_whole and peak < 5 * MB
    ndjson_pages = b"".join(json.dumps(page).encode() + b"\n" for page in pages)
    count_ndjson, _peak, spy = _consume(reader_for("openai-usage")[0], ndjson_pages)
    assert count_ndjson == count and not spy.read_whole


def test_invoice_cost_report_pages_stream():
    fixture = Path(__file__).parent.parent / "invoices" / "fixtures" / "openai_costs_pages.ndjson"
    lines = fixture.read_bytes().splitlines(keepends=True)
    data = b"".join(lines * 2000)
    count, peak, spy = _consume(invoice_reader_for("openai-costs"), data)
    assert count > 2000 and not spy.read_whole and peak < 5 * MB


def test_a_broken_array_keeps_the_elements_before_the_break():
    data = json.dumps([event("ok1"), event("ok2")]).encode()[:-1] + b', {"request_id": oops}]'
    items = list(reader_for("json")[0](io.BytesIO(data)))
    assert [getattr(i, "request_id", None) for i in items[:2]] == ["ok1", "ok2"]
    (error,) = items[2:]
    assert (error.line, error.field) == (3, "(json)") and error.message.startswith("invalid JSON: ")


def test_a_json_object_where_an_array_is_expected_is_one_row_error():
    items = list(reader_for("json")[0](io.BytesIO(b'\xef\xbb\xbf {"request_id": "x"}')))
    assert [(i.line, i.field, i.message) for i in items] == [(1, "(json)", "expected a JSON array of usage events")]
