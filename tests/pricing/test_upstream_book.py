"""The price book from upstream: the genai-prices importer, the corrections layer, the diff printed when
the pin moves, price-book versions, organisation model names and the currency of a negotiated price."""

import datetime
import io
import json
import shutil
from decimal import Decimal
from io import StringIO

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django_scopes import scope

from apps.pricing import book_file, services, upstream
from apps.pricing.book_file import merge_books, parse_price_book, read_price_book
from apps.pricing.models import AiModel, OrgModel, PriceBookVersion, PriceRow, Provider
from apps.pricing.selectors import price_book_for
from apps.usage.models import IngestJob, UsageRecord
from apps.usage.services.ingest import ingest_job_create, ingest_job_run

DAY = datetime.date(2026, 10, 14)
M = 1_000_000


@pytest.fixture(scope="module")
def built():
    return upstream.build_snapshot()


def _rows(snapshot, provider, model, tier, usage_type):
    return {
        (row.min_context_tokens, row.effective_from, row.region_scope): row.price
        for row in snapshot.rows
        if (row.provider, row.model, row.service_tier, row.usage_type) == (provider, model, tier, usage_type)
    }


# --- the importer on the installed genai-prices 0.2.5 ------------------------------------------------------


def test_the_importer_reads_the_pinned_package(built):
    assert built.version == "0.2.5"
    # tiered prices: a base row and a >200,000-token row
    assert _rows(built, "anthropic", "claude-sonnet-4-5", "standard", "input") == {
        (None, upstream.UNDATED_FROM, ""): Decimal("3"),
        (200000, upstream.UNDATED_FROM, ""): Decimal("6"),
    }
    # a partial variant merged onto the base: batch gives input/output, cached input keeps the base 1.25
    assert _rows(built, "openai", "gpt-4o", "batch", "cache_read") == {(None, DAY, ""): Decimal("1.25")}
    assert _rows(built, "openai", "gpt-4o", "batch", "input") == {(None, DAY, ""): Decimal("1.25")}
    assert _rows(built, "openai", "gpt-4o", "priority", "input") == {
        (None, datetime.date(2026, 10, 12), ""): Decimal("4.25")
    }
    # upstream ids mapped onto our codes (never renamed): claude-sonnet-4-0 -> claude-sonnet-4
    assert ("anthropic", "claude-sonnet-4") in built.models
    assert ("anthropic", "claude-sonnet-4-0") not in built.models
    # Bedrock global and regional profiles
    assert _rows(built, "aws-bedrock", "claude-sonnet-4-5", "standard", "input") == {
        (None, upstream.UNDATED_FROM, "global"): Decimal("3"),
        (None, upstream.UNDATED_FROM, "regional"): Decimal("3.3"),
    }
    # models of late 2026 the old book lacked
    assert _rows(built, "openai", "gpt-6-sol", "standard", "input") == {
        (None, upstream.UNDATED_FROM, ""): Decimal("2"),
        (272000, upstream.UNDATED_FROM, ""): Decimal("4"),
    }
    assert any("variant {'service_tier': 'fast'}" in line for line in built.skipped)


def test_the_committed_snapshot_matches_the_pinned_package():
    out = StringIO()
    call_command("import_genai_prices", "--check", stdout=out)
    assert "0 added, 0 removed, 0 changed" in out.getvalue()


def test_the_diff_of_an_older_snapshot_and_check_fails(tmp_path):
    path = tmp_path / "genai-prices.yaml"
    text = upstream.SNAPSHOT_PATH.read_text()
    # pretend the committed snapshot is older: gpt-4o input was 2.75, gpt-6-sol did not exist, one row is gone
    data = yaml.safe_load(text)
    openai = next(p for p in data["providers"] if p["code"] == "openai")
    for model in openai["models"]:
        if model["code"] == "gpt-4o":
            for block in model["prices"]:
                if block["tier"] == "standard" and "input" in block["rates"]:
                    block["rates"]["input"] = "2.75"
    openai["models"] = [m for m in openai["models"] if m["code"] != "gpt-6-sol"]
    openai["models"].append(
        {
            "code": "gpt-retired",
            "name": "retired",
            "prices": [{"tier": "standard", "unit": "1m_tokens", "from": "2024-01-01", "rates": {"input": "9.00"}}],
        }
    )
    data["package_version"] = "0.2.4"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = StringIO()
    with pytest.raises(CommandError, match="does not match the installed genai-prices"):
        call_command("import_genai_prices", "--check", "--snapshot", str(path), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("genai-prices 0.2.5 (committed snapshot: 0.2.4)")
    assert "~ openai/gpt-4o standard input: 2.75 per 1m_tokens → 2.50 per 1m_tokens from 2020-01-01" in lines
    assert "+ openai/gpt-6-sol standard input 2.00 per 1m_tokens from 2020-01-01" in lines
    assert "- openai/gpt-retired standard input 9.00 per 1m_tokens from 2024-01-01" in lines
    # --write brings it back in line
    call_command("import_genai_prices", "--write", "--snapshot", str(path), stdout=StringIO())
    call_command("import_genai_prices", "--check", "--snapshot", str(path), stdout=StringIO())


# --- corrections -----------------------------------------------------------------------------------------


def _book(models, reason=True):
    provider = {"code": "openai", "name": "OpenAI", "source": "https://openai.com/api/pricing/"}
    if reason:
        provider["reason"] = "checked"
    return {"providers": [{**provider, "source_date": "2026-12-07", "models": models}]}


def test_a_correction_wins_over_upstream_for_the_days_it_covers():
    up = parse_price_book(
        _book(
            [
                {
                    "code": "o3",
                    "prices": [
                        {
                            "tier": "standard",
                            "unit": "1m_tokens",
                            "from": "2020-01-01",
                            "to": "2025-06-10",
                            "rates": {"input": "10.00", "cache_read": "0.50"},
                        },
                        {"tier": "standard", "unit": "1m_tokens", "from": "2025-06-10", "rates": {"input": "2.00"}},
                    ],
                }
            ]
        ),
        origin="upstream",
    )
    fix = parse_price_book(
        _book(
            [
                {
                    "code": "o3",
                    "prices": [
                        {
                            "tier": "standard",
                            "unit": "1m_tokens",
                            "from": "2025-04-16",
                            "to": "2025-06-10",
                            "rates": {"cache_read": "2.50"},
                        },
                        {"tier": "standard", "unit": "1m_tokens", "from": "2025-06-10", "rates": {"input": "2.10"}},
                    ],
                }
            ]
        ),
        require_reason=True,
    )
    merged = {(r.usage_type, r.effective_from, r.effective_to): (r.price, r.origin) for r in merge_books(up, fix).rows}
    d = datetime.date
    assert merged == {
        # the same key: the correction replaces the upstream row
        ("input", d(2025, 6, 10), None): (Decimal("2.10"), "correction"),
        # the correction's days are cut out of the upstream cache-read row, and an undated upstream price of a
        # model the corrections list starts at its reviewed launch (2025-04-16): nothing of it is left
        ("cache_read", d(2025, 4, 16), d(2025, 6, 10)): (Decimal("2.50"), "correction"),
        ("input", d(2025, 4, 16), d(2025, 6, 10)): (Decimal("10.00"), "upstream"),
    }


def test_a_correction_without_a_reason_is_refused():
    with pytest.raises(book_file.PriceBookFileError, match="a correction needs a `reason`"):
        parse_price_book(
            _book(
                [
                    {
                        "code": "o3",
                        "prices": [
                            {"tier": "standard", "unit": "1m_tokens", "from": "2025-01-01", "rates": {"input": "1.00"}}
                        ],
                    }
                ],
                reason=False,
            ),
            require_reason=True,
        )


def test_the_shipped_book_keeps_the_reviewed_prices_and_adds_upstream():
    book = book_file.price_book_from_file()

    def cost(provider, model, tier, **usage):
        tools = usage.pop("tools", {})
        return book.estimate(
            provider=provider, model=model, service_tier=tier, occurred_on=DAY, usage=usage, tool_calls=tools
        )

    # reviewed prices unchanged: o3 launch cache read, Sonnet 4.5 batch long context
    early = book.estimate(
        provider="openai",
        model="o3",
        service_tier="standard",
        occurred_on=datetime.date(2025, 5, 1),
        usage={"cache_read_tokens": M},
        tool_calls={},
    )
    assert early.total_nano == 2_500_000_000
    # Sonnet 4 batch long context (a correction: upstream has none): 250,000 in / 10,000 out
    assert cost("anthropic", "claude-sonnet-4", "batch", input_tokens=250_000, output_tokens=10_000).total_nano == (
        862_500_000
    )
    # gpt-4o batch cached input from upstream's merged variant (unpriced before)
    assert cost("openai", "gpt-4o", "batch", cache_read_tokens=M).total_nano == 1_250_000_000
    # gpt-4o priority (upstream, from 2026-10-12): 1,000,000 in / 200,000 out = 4.25 + 3.40
    assert cost("openai", "gpt-4o", "priority", input_tokens=M, output_tokens=200_000).total_nano == 7_650_000_000
    # OpenAI web search 2 calls at 10 per 1,000
    assert cost("openai", "gpt-4o", "standard", tools={"web_search": 2}).total_nano == 20_000_000
    # a late-2026 model: gpt-6-sol 2 / 10 per MTok up to a 272,000-token prompt
    assert cost("openai", "gpt-6-sol", "standard", input_tokens=100_000, output_tokens=100_000).total_nano == (
        1_200_000_000
    )
    rows = read_price_book().rows
    assert all(r.reason and r.source.startswith("https://") for r in rows if r.origin == "correction")


# --- versions ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unchanged_reload_keeps_the_version_and_a_changed_correction_makes_the_next(
    world, price_book, tmp_path, monkeypatch
):
    assert price_book["version"] == {"number": 1, "created": True}
    first = PriceBookVersion.objects.get()
    assert first.upstream == "genai-prices 0.2.5"
    assert first.row_count == PriceRow.objects.count()
    assert services.price_book_load()["version"] == {"number": 1, "created": False}
    with scope(organization=world.org("a")):
        assert price_book_for(organization=world.org("a")).version == 1

    corrections = tmp_path / "corrections.yaml"
    shutil.copy(book_file.CORRECTIONS_PATH, corrections)
    text = corrections.read_text()
    old = 'rates: {input: "2.50", cache_read: "1.25", output: "10.00"}}'
    assert old in text
    corrections.write_text(text.replace(old, 'rates: {input: "2.40", cache_read: "1.25", output: "10.00"}}', 1))
    monkeypatch.setattr(book_file, "CORRECTIONS_PATH", corrections)
    result = services.price_book_load()
    assert result["version"] == {"number": 2, "created": True}
    second = PriceBookVersion.objects.get(number=2)
    assert (second.diff["added"], second.diff["removed"], second.diff["changed"]) == (0, 0, 1)
    assert second.diff["lines"] == [
        "~ openai/gpt-4o standard input: 2.50 per 1m_tokens → 2.40 per 1m_tokens from 2024-10-01"
    ]
    assert second.corrections_sha256 != first.corrections_sha256
    with scope(organization=world.org("a")):
        book = price_book_for(organization=world.org("a"))
    assert book.version == 2
    estimate = book.estimate(
        provider="openai",
        model="gpt-4o",
        service_tier="standard",
        occurred_on=DAY,
        usage={"input_tokens": M},
        tool_calls={},
    )
    assert estimate.total_nano == 2_400_000_000

    # A request ingested now is priced by version 2, and says so on its record and its job.
    organization = world.org("a")
    line = {
        "request_id": "req_v2",
        "occurred_at": "2026-10-03T14:22:05Z",
        "provider": "openai",
        "model": "gpt-4o",
        "service_tier": "standard",
        "tags": {"team": "search"},
        "usage": {"input_tokens": 1_000_000, "output_tokens": 0},
    }
    with transaction.atomic():
        job, _ = ingest_job_create(
            organization=organization,
            actor=None,
            file_name="v2.ndjson",
            stream=io.BytesIO(json.dumps(line).encode() + b"\n"),
            format="auto",
            channel=IngestJob.Channel.COMMAND,
            enqueue=False,
        )
    job = ingest_job_run(job_id=job.pk)
    with scope(organization=organization):
        record = UsageRecord.objects.get(request_id="req_v2")
    assert (job.accepted, job.price_book_version_id) == (1, 2)
    assert (record.price_book_version_id, record.estimated_nano) == (2, 2_400_000_000)


# --- organisation model names and the currency of a negotiated price -------------------------------------------


def _estimate(book, provider, model, *, input_tokens, output_tokens):
    return book.estimate(
        provider=provider,
        model=model,
        service_tier="standard",
        occurred_on=DAY,
        usage={"input_tokens": input_tokens, "output_tokens": output_tokens},
        tool_calls={},
    )


@pytest.mark.django_db
def test_org_models_price_deployment_names_and_fine_tunes(world, price_book):
    org, other = world.org("a"), world.org("b")
    actor = world.user("a")
    azure = Provider.objects.get(code="azure-openai")
    openai = Provider.objects.get(code="openai")
    with scope(organization=org):
        services.org_model_create(
            organization=org,
            actor=actor,
            provider=azure,
            name="globex-gpt4o-prod",
            maps_to=AiModel.objects.get(provider=azure, code="gpt-4o"),
            note="West Europe deployment",
        )
        # the MACC: 12% off every Azure OpenAI list price
        services.price_override_create(
            organization=org, actor=actor, provider=azure, discount_pct=Decimal("12"), effective_from=DAY
        )
        fine_tune = services.org_model_create(
            organization=org, actor=actor, provider=openai, name="ft:gpt-4o-mini:globex::x1"
        )
        for usage_type, price in (("input", "0.30"), ("output", "1.20")):
            services.price_override_create(
                organization=org,
                actor=actor,
                provider=openai,
                org_model=fine_tune,
                usage_type=usage_type,
                price=Decimal(price),
                unit="1m_tokens",
                currency="EUR",
                effective_from=DAY,
            )
        book = price_book_for(organization=org)
    deployment = _estimate(book, "azure-openai", "globex-gpt4o-prod", input_tokens=M, output_tokens=200_000)
    assert (deployment.model, deployment.total_nano, deployment.currency) == ("gpt-4o", 3_960_000_000, "USD")
    tuned = _estimate(book, "openai", "ft:gpt-4o-mini:globex::x1", input_tokens=M, output_tokens=200_000)
    assert (tuned.model, tuned.total_nano, tuned.currency) == ("ft:gpt-4o-mini:globex::x1", 540_000_000, "EUR")
    unknown = _estimate(book, "azure-openai", "globex-gpt5-test", input_tokens=M, output_tokens=0)
    assert (unknown.model, unknown.total_nano, unknown.unpriced) == (None, 0, ("input",))
    # another organisation's book knows none of these names
    with scope(organization=other):
        other_book = price_book_for(organization=other)
    assert _estimate(other_book, "azure-openai", "globex-gpt4o-prod", input_tokens=M, output_tokens=0).model is None
    assert _estimate(other_book, "openai", "ft:gpt-4o-mini:globex::x1", input_tokens=M, output_tokens=0).unpriced == (
        "input",
    )


@pytest.mark.django_db
def test_org_model_rules(world, price_book):
    org = world.org("a")
    actor = world.user("a")
    azure = Provider.objects.get(code="azure-openai")
    openai = Provider.objects.get(code="openai")
    with scope(organization=org):
        with pytest.raises(ValidationError) as error:
            services.org_model_create(organization=org, actor=actor, provider=openai, name="gpt-4o")
        assert "already a OpenAI list model name" in str(error.value)
        with pytest.raises(ValidationError) as error:
            services.org_model_create(
                organization=org,
                actor=actor,
                provider=azure,
                name="prod",
                maps_to=AiModel.objects.get(provider=openai, code="gpt-4o"),
            )
        assert "not one of Azure OpenAI's models" in str(error.value)
        mapped = services.org_model_create(
            organization=org,
            actor=actor,
            provider=azure,
            name="Prod-4o",
            maps_to=AiModel.objects.get(provider=azure, code="gpt-4o"),
        )
        assert mapped.name == "prod-4o"
        with pytest.raises(ValidationError) as error:
            services.price_override_create(
                organization=org,
                actor=actor,
                provider=azure,
                org_model=mapped,
                discount_pct=Decimal("5"),
                effective_from=DAY,
            )
        assert "priced as gpt-4o: put the override on that model" in str(error.value)
        with pytest.raises(ValidationError) as error:
            services.price_override_create(
                organization=org,
                actor=actor,
                provider=azure,
                discount_pct=Decimal("5"),
                currency="EUR",
                effective_from=DAY,
            )
        assert "A discount has no currency" in str(error.value)
        services.org_model_set_active(org_model=mapped, active=False, actor=actor)
        book = price_book_for(organization=org)
        assert OrgModel.objects.get(pk=mapped.pk).is_active is False
    assert _estimate(book, "azure-openai", "prod-4o", input_tokens=M, output_tokens=0).model is None
