"""Ingest end to end on the configured database: exact costs, idempotency, resume, bad input."""

import gzip
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django_scopes import scope

from apps.audit.services import audit_chain_verify
from apps.ingest.jobs import job_retry
from apps.taxonomy.models import TagDimension, TagSet, TagValue
from apps.tenancy.roles import Role
from apps.usage.models import DailyUsage, IngestError, IngestJob, UsageRecord
from apps.usage.selectors import UsageFilter, daily_usage, usage_totals
from apps.usage.services import ingest as ingest_service
from apps.usage.services.ingest import ingest_job_create, ingest_job_run

pytestmark = pytest.mark.django_db


def event(rid="req_8f2a", **overrides) -> dict:
    base = {
        "request_id": rid,
        "occurred_at": "2026-10-03T14:22:05Z",
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "service_tier": "standard",
        "tags": {
            "team": "search",
            "feature": "answer-summaries",
            "workspace": "acme-prod",
            "environment": "production",
            "customer": "cust_042",
        },
        "usage": {
            "input_tokens": 1200,
            "output_tokens": 350,
            "cache_read_tokens": 8000,
            "cache_write_5m_tokens": 0,
            "cache_write_1h_tokens": 0,
        },
        "tool_calls": {"web_search": 1},
        "is_retry": False,
        "trace_id": "tr_91c",
        "cost": None,
    }
    base.update(overrides)
    return base


def ndjson(*events) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


# claude-sonnet-4-5: 1,200 x $3/M + 350 x $15/M + 8,000 x $0.30/M + 1 search x $10/1,000
SONNET_EVENT_NANO = 3_600_000 + 5_250_000 + 2_400_000 + 10_000_000


def ingest(organization, body: bytes, *, format="auto", name="usage.ndjson") -> IngestJob:
    with transaction.atomic():
        job, _ = ingest_job_create(
            organization=organization,
            actor=None,
            file_name=name,
            stream=io.BytesIO(body),
            format=format,
            channel=IngestJob.Channel.COMMAND,
            enqueue=False,
        )
    return ingest_job_run(job_id=job.pk)


def counts(organization) -> tuple[int, int, int]:
    with scope(organization=organization):
        cube = DailyUsage.objects.all()
        return (UsageRecord.objects.count(), sum(c.records for c in cube), sum(c.estimated_nano for c in cube))


def test_canonical_event_is_priced_exactly_per_cost_source(catalog):
    org = catalog.org("a")
    job = ingest(org, ndjson(event()))
    assert (job.status, job.accepted, job.rejected, job.estimated_nano) == ("succeeded", 1, 0, SONNET_EVENT_NANO)
    with scope(organization=org):
        record = UsageRecord.objects.get()
        cell = DailyUsage.objects.get()
    assert (
        record.cost_input_nano,
        record.cost_output_nano,
        record.cost_cache_read_nano,
        record.cost_cache_write_nano,
        record.cost_tools_nano,
    ) == (3_600_000, 5_250_000, 2_400_000, 0, 10_000_000)
    # customer is a detail dimension: on the record, not in the cube's tag set.
    assert record.tagset.tags == {
        "team": "search",
        "feature": "answer-summaries",
        "workspace": "acme-prod",
        "environment": "production",
        "provider": "anthropic",
    }
    assert record.detail_tags == {"customer": "cust_042"}
    assert record.missing_required_tags is False and record.unpriced is False
    assert (
        cell.records,
        cell.requests,
        cell.input_tokens,
        cell.cache_read_tokens,
        cell.tool_calls,
        cell.estimated_nano,
    ) == (1, 1, 1200, 8000, 1, SONNET_EVENT_NANO)


def test_same_file_twice_stores_each_request_once(catalog):
    org = catalog.org("a")
    body = ndjson(*(event(f"r{i}") for i in range(7)))
    first = ingest(org, body)
    second = ingest(org, body)
    assert (first.accepted, first.duplicates) == (7, 0)
    assert (second.accepted, second.duplicates, second.estimated_nano) == (0, 7, 0)
    assert counts(org) == (7, 7, 7 * SONNET_EVENT_NANO)


def test_overlapping_files_and_duplicates_inside_one_file(catalog):
    org = catalog.org("a")
    ingest(org, ndjson(event("r1"), event("r2"), event("r2")))
    job = ingest(org, ndjson(event("r2"), event("r3")))
    assert (job.accepted, job.duplicates) == (1, 1)
    assert counts(org) == (3, 3, 3 * SONNET_EVENT_NANO)


def test_the_same_request_id_in_two_organisations_is_two_records(catalog):
    ingest(catalog.org("a"), ndjson(event("shared")))
    job_b = ingest(catalog.org("b"), ndjson(event("shared")))
    assert job_b.accepted == 1
    assert counts(catalog.org("a"))[0] == counts(catalog.org("b"))[0] == 1


def test_bad_rows_are_reported_and_good_rows_kept(catalog):
    org = catalog.org("a")
    body = ndjson(event("ok1")) + b"{broken\n" + ndjson(event("neg", usage={"input_tokens": -3})) + ndjson(event("ok2"))
    job = ingest(org, body)
    assert (job.status, job.rows_total, job.accepted, job.rejected) == ("succeeded", 4, 2, 2)
    with scope(organization=org):
        errors = list(IngestError.objects.order_by("line").values_list("line", "field"))
    assert errors == [(2, "(json)"), (3, "usage.input_tokens")]
    assert counts(org)[0] == 2


def test_nested_tag_value_is_a_row_error(catalog):
    job = ingest(catalog.org("a"), ndjson(event("n", tags={"team": {"nested": 1}}), event("ok")))
    assert (job.accepted, job.rejected) == (1, 1)
    with scope(organization=catalog.org("a")):
        assert IngestError.objects.get().field == "tags"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        (b'{"request_id": "x", "caf\xe9": 1}\n', "not UTF-8"),
        (b"hello,world\n1,2\n", "could not recognise the format"),
    ],
)
def test_files_refused_as_a_whole_write_nothing(catalog, body, message):
    org = catalog.org("a")
    job = ingest(org, body)
    assert job.status == "failed" and message in job.error_message
    assert counts(org) == (0, 0, 0)
    with scope(organization=org):
        assert not IngestError.objects.exists()


def test_gzip_is_read_transparently(catalog):
    job = ingest(catalog.org("a"), gzip.compress(ndjson(event("g1"), event("g2"))), name="usage.ndjson.gz")
    assert (job.format, job.accepted) == ("ndjson", 2)


def test_missing_required_tags_are_stored_not_defaulted(catalog):
    org = catalog.org("a")
    ingest(org, ndjson(event("untagged", tags={"feature": "answer-summaries"})))
    with scope(organization=org):
        record = UsageRecord.objects.get()
    assert record.missing_required_tags is True
    assert "team" not in record.tagset.tags


def test_aliases_normalise_into_one_tag_set(catalog):
    org = catalog.org("a")
    with scope(organization=org):
        environment = TagDimension.objects.get(key="environment")
        production = TagValue.objects.create(organization=org, dimension=environment, value="production")
        from apps.taxonomy.models import TagAlias

        TagAlias.objects.create(organization=org, dimension=environment, alias="prod", value=production)
    tags = dict(event()["tags"])
    ingest(org, ndjson(event("e1"), event("e2", tags={**tags, "environment": "  Prod "})))
    with scope(organization=org):
        assert TagSet.objects.count() == 1
        assert DailyUsage.objects.get().records == 2


def test_unknown_model_is_counted_unpriced_never_zero_silently(catalog):
    org = catalog.org("a")
    job = ingest(org, ndjson(event("u1", model="mystery-model-9000")))
    assert job.unpriced_rows == 1 and job.estimated_nano == 0
    with scope(organization=org):
        assert DailyUsage.objects.get().unpriced_records == 1


def test_batch_tier_and_openai_dated_alias(catalog):
    gpt = event(
        "b1",
        provider="openai",
        model="gpt-4o-2024-08-06",
        service_tier="batch",
        tool_calls={},
        usage={"input_tokens": 1_000_000, "output_tokens": 1_000_000},
    )
    job = ingest(catalog.org("a"), ndjson(gpt))
    # batch halves gpt-4o: $1.25 input + $5.00 output per million
    assert job.estimated_nano == 6_250_000_000
    with scope(organization=catalog.org("a")):
        assert UsageRecord.objects.get().model == "gpt-4o"


def test_a_crash_mid_file_resumes_without_loss_or_double_count(catalog, monkeypatch, settings):
    org = catalog.org("a")
    monkeypatch.setattr(ingest_service, "CHUNK_LINES", 3)
    body = ndjson(*(event(f"c{i}") for i in range(10)))
    with transaction.atomic():
        job, _ = ingest_job_create(
            organization=org,
            actor=None,
            file_name="c.ndjson",
            stream=io.BytesIO(body),
            format="ndjson",
            channel="command",
            enqueue=False,
        )
    real_commit = ingest_service._commit_chunk
    calls = {"n": 0}

    def crash_on_third_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(ingest_service, "_commit_chunk", crash_on_third_chunk)
    with pytest.raises(RuntimeError):
        ingest_job_run(job_id=job.pk)
    with scope(organization=org):
        job.refresh_from_db()
    assert job.status == "failed" and job.lines_done == 6 and job.accepted == 6
    monkeypatch.setattr(ingest_service, "_commit_chunk", real_commit)
    with scope(organization=org):
        job_retry(job=job, actor=None)  # queued; eager task runs on commit
    job = ingest_job_run(job_id=job.pk)
    assert (job.status, job.accepted, job.duplicates, job.rows_total, job.lines_done) == ("succeeded", 10, 0, 10, 10)
    assert counts(org) == (10, 10, 10 * SONNET_EVENT_NANO)


def test_openai_usage_export_with_project_mapping(catalog):
    from pathlib import Path

    from apps.usage.services.mappings import source_mapping_create

    org = catalog.org("a")
    with scope(organization=org), transaction.atomic():
        source_mapping_create(
            organization=org,
            actor=None,
            kind="openai_project",
            external_id="proj_search",
            tags={"team": "search", "feature": "answer-summaries"},
        )
    body = (Path(__file__).parent / "fixtures" / "openai_usage_page.json").read_bytes()
    job = ingest(org, body, name="openai.json")
    assert (job.format, job.accepted, job.rejected) == ("openai-usage", 2, 1)
    with scope(organization=org):
        search = UsageRecord.objects.get(tagset__tags__team="search")
        batch = UsageRecord.objects.get(is_batch=True)
    # 600,000 uncached x $2.50/M + 400,000 cached x $1.25/M + 200,000 output x $10/M
    assert search.estimated_nano == 1_500_000_000 + 500_000_000 + 2_000_000_000
    assert search.request_count == 120
    # batch: 2M input x $1.25/M + 1M output x $5/M
    assert batch.estimated_nano == 2_500_000_000 + 5_000_000_000
    assert ingest(org, body, name="openai-again.json").duplicates == 2


def test_gateway_cost_is_kept_beside_the_estimate(catalog):
    org = catalog.org("a")
    ingest(org, ndjson(event("g", cost="0.02")))
    with scope(organization=org):
        record = UsageRecord.objects.get()
    assert (record.gateway_cost_nano, record.estimated_nano) == (20_000_000, SONNET_EVENT_NANO)


def test_ingest_is_audited_and_the_chain_stays_intact(catalog):
    org = catalog.org("a")
    job = ingest(org, ndjson(event()))
    from apps.audit.models import AuditEvent

    with scope(organization=org):
        actions = list(AuditEvent.objects.filter(object_id=str(job.pk)).values_list("action", flat=True))
    assert actions == ["usage.ingest_received", "usage.ingest_succeeded"]
    assert audit_chain_verify(organization=org).ok


def test_command_json_output_and_exit_codes(catalog, tmp_path, capsys):
    good = tmp_path / "usage.ndjson"
    good.write_bytes(ndjson(event("cmd1")) + b"[1]\n")
    call_command("ingest_usage", str(good), org="alpha", json=True)
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "job": out["job"],
        "status": "succeeded",
        "rows_total": 2,
        "accepted": 1,
        "duplicates": 0,
        "rejected": 1,
        "replaced": 0,
        "estimated_cost": "0.02125",
        "currency": "USD",
        "estimated_by_currency": {"USD": "0.02125"},
        "price_book_version": 1,  # the book the catalog fixture loaded: its first version
        "overlaps": [],
        "errors": [{"line": 2, "field": "(row)", "message": "must be a JSON object, got list"}],
    }
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(SystemExit) as excinfo:
        call_command("ingest_usage", str(bad), org="alpha", json=True)
    assert excinfo.value.code == 1
    refused = json.loads(capsys.readouterr().out)
    assert refused["status"] == "failed" and refused["accepted"] == 0 and "not UTF-8" in refused["message"]


def test_api_accepts_ndjson_with_202_and_honours_idempotency_key(
    catalog, django_capture_on_commit_callbacks, eager_celery
):
    api = catalog.api("a", scopes=["usage:write"])
    url = reverse("api:usage-job-list")
    body = ndjson(event("api1"), event("api2"))
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(url, body, content_type="application/x-ndjson", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 202
    # 202 before the worker has run; the job then finishes (here: eagerly, on commit).
    assert first.json()["status"] == "queued"
    job_url = reverse("api:usage-job-detail", kwargs={"pk": first.json()["id"]})
    assert first["Location"].endswith(job_url)
    assert (api.get(job_url).json()["status"], api.get(job_url).json()["accepted"]) == ("succeeded", 2)
    again = api.post(url, body, content_type="application/x-ndjson", headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    conflict = api.post(
        url, ndjson(event("other")), content_type="application/x-ndjson", headers={"Idempotency-Key": "k-1"}
    )
    assert conflict.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        array = api.post(url, json.dumps([event("arr1")]), content_type="application/json")
    array_job = api.get(reverse("api:usage-job-detail", kwargs={"pk": array.json()["id"]})).json()
    assert (array_job["format"], array_job["accepted"]) == ("json", 1)
    assert counts(catalog.org("a"))[0] == 3


def test_api_needs_usage_write_and_a_body(catalog):
    url = reverse("api:usage-job-list")
    assert (
        catalog.api("a", scopes=["org:read"])
        .post(url, ndjson(event()), content_type="application/x-ndjson")
        .status_code
        == 403
    )
    empty = catalog.api("a", scopes=["usage:write"]).post(url, b"", content_type="application/x-ndjson")
    assert empty.status_code == 400


def test_portal_upload_job_page_and_error_csv(catalog, django_capture_on_commit_callbacks, eager_celery):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = catalog.login("a", Role.FINANCE_ANALYST)
    upload = SimpleUploadedFile("october.ndjson", ndjson(event("p1")) + b"oops\n")
    with django_capture_on_commit_callbacks(execute=True):
        with_callbacks = client.post(
            reverse("usage:jobs", kwargs={"org_slug": "alpha"}), {"file": upload, "format": "auto"}
        )
    assert with_callbacks.status_code == 302
    detail = client.get(with_callbacks["Location"])
    assert detail.context["job"].accepted == 1 and detail.context["job"].status == "succeeded"
    csv_response = client.get(with_callbacks["Location"] + "errors.csv")
    assert csv_response.content.decode().splitlines()[1].startswith('"october.ndjson",2,"(json)","invalid JSON')


@pytest.mark.parametrize(("role", "status"), [(Role.BUDGET_OWNER, 403), (Role.VIEWER, 403), (Role.FINANCE_ADMIN, 200)])
def test_only_finance_uploads(catalog, role, status):
    assert catalog.login("a", role).get(reverse("usage:jobs", kwargs={"org_slug": "alpha"})).status_code == status


def test_explorer_totals_and_budget_owner_subtree(catalog):
    org = catalog.org("a")
    search = dict(event()["tags"])
    ingest(org, ndjson(event("s1"), event("s2"), event("m1", tags={**search, "team": "marketing"})))
    from apps.owners.models import BudgetOwner

    owner_user = catalog.user("a", Role.BUDGET_OWNER)
    with scope(organization=org):
        team = TagDimension.objects.get(key="team")
        cc = BudgetOwner.objects.create(organization=org, code="CC-1101", name="Search")
        cc.owner_users.add(owner_user)
        TagValue.objects.create(organization=org, dimension=team, value="search", owner=cc)
        TagValue.objects.create(organization=org, dimension=team, value="marketing")
        rows = daily_usage(organization=org, usage_filter=UsageFilter(), team_values=None)
        totals = usage_totals(rows, organization=org)
    assert totals["estimated_nano"] == 3 * SONNET_EVENT_NANO and totals["requests"] == 3
    url = reverse("usage:explorer", kwargs={"org_slug": "alpha"})
    finance_view = catalog.login("a", Role.FINANCE_ANALYST).get(url, {"group_by": "team"})
    assert [(r["key"], r["requests"]) for r in finance_view.context["breakdown"]] == [("search", 2), ("marketing", 1)]
    owner_view = catalog.login("a", Role.BUDGET_OWNER).get(url, {"group_by": "team"})
    assert [(r["key"], r["requests"]) for r in owner_view.context["breakdown"]] == [("search", 2)]
    assert owner_view.context["totals"]["cost_nano"] == 2 * SONNET_EVENT_NANO
    drill = catalog.login("a", Role.BUDGET_OWNER).get(reverse("usage:records", kwargs={"org_slug": "alpha"}))
    assert sorted(r.request_id for r in drill.context["page"]) == ["s1", "s2"]
    filtered = catalog.login("a", Role.FINANCE_ANALYST).get(url, {"cost_source": "tool_calls", "month": "2026-10"})
    assert filtered.context["totals"]["cost_nano"] == 3 * 10_000_000
    assert Decimal(filtered.context["totals"]["cost_nano"]).scaleb(-9) == Decimal("0.03")


def test_customers_stay_out_of_the_cube_but_have_their_own_daily_totals(catalog):
    from apps.usage.models import DailyDetailUsage

    org = catalog.org("a")
    tags = dict(event()["tags"])
    events = [event(f"c{i}", tags={**tags, "customer": f"cust_{i % 3}"}) for i in range(9)]
    events.append(event("m1", tags={**tags, "team": "marketing", "customer": "cust_0"}))
    events.append(event("none", tags={k: v for k, v in tags.items() if k != "customer"}))
    ingest(org, ndjson(*events))
    with scope(organization=org):
        # 11 requests, 3 customers: two cube cells (search, marketing), not one per customer
        assert DailyUsage.objects.count() == 2
        assert TagSet.objects.count() == 2
        detail = {(d.value, d.team): d.requests for d in DailyDetailUsage.objects.filter(dimension="customer")}
        assert detail == {
            ("cust_0", "search"): 3,
            ("cust_1", "search"): 3,
            ("cust_2", "search"): 3,
            ("cust_0", "marketing"): 1,
        }
        assert sum(d.estimated_nano for d in DailyDetailUsage.objects.all()) == 10 * SONNET_EVENT_NANO
    url = reverse("usage:explorer", kwargs={"org_slug": "alpha"})
    client = catalog.login("a", Role.FINANCE_ANALYST)
    by_customer = client.get(url, {"group_by": "customer"})
    assert [(r["key"], r["requests"]) for r in by_customer.context["breakdown"]] == [
        ("cust_0", 4),
        ("cust_1", 3),
        ("cust_2", 3),
    ]
    assert "per-customer daily totals" in by_customer.context["note"]
    one_customer = client.get(url, {"tag_customer": "cust_0", "group_by": "team"})
    assert [(r["key"], r["requests"]) for r in one_customer.context["breakdown"]] == [("search", 3), ("marketing", 1)]
    drill = client.get(reverse("usage:records", kwargs={"org_slug": "alpha"}), {"tag_customer": "cust_2"})
    assert sorted(r.request_id for r in drill.context["page"]) == ["c2", "c5", "c8"]
    missing = client.get(reverse("usage:records", kwargs={"org_slug": "alpha"}), {"tag_customer": "(missing)"})
    assert [r.request_id for r in missing.context["page"]] == ["none"]
