"""Each reader on a realistic fixture with a known total."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.invoices.parsers import FORMATS, FileRefused, ParsedLine, RowError, detect_format
from apps.invoices.parsers.naming import cur_model_code, split_cur_usage_type, split_openai_line_item

from .conftest import FIXTURES


def read(name: str, format_name: str | None = None, **options):
    path = FIXTURES / name
    format_name = format_name or detect_format(path.read_bytes()[:65536], name)
    with path.open("rb") as stream:
        items = list(FORMATS[format_name](stream, **options))
    return (
        [i for i in items if isinstance(i, ParsedLine)],
        [i for i in items if isinstance(i, RowError)],
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("focus_1_2_aws.csv", "focus"),
        ("focus_1_3_google.csv", "focus"),
        ("openai_costs_pages.ndjson", "openai-costs"),
        ("openai_costs_pages.json", "openai-costs"),
        ("anthropic_cost_report.json", "anthropic-cost-report"),
        ("aws_cur_bedrock.csv", "aws-cur"),
        ("generic_invoice.csv", "csv"),
    ],
)
def test_format_is_recognised_from_the_first_bytes(name, expected):
    assert detect_format((FIXTURES / name).read_bytes()[:65536], name) == expected


def test_unknown_header_is_refused_with_a_reason():
    with pytest.raises(FileRefused, match="could not recognise"):
        detect_format(b"foo,bar\n1,2\n")


def test_focus_billed_view_sums_to_the_invoice_with_credit_negative_and_nulls_empty():
    lines, errors = read("focus_1_2_aws.csv")
    assert errors == []
    assert sum(line.amount for line in lines) == Decimal("197.455678")
    assert {line.invoice_number for line in lines} == {"INV-AWS-2026-10"}
    credit = next(line for line in lines if line.charge_category == "Credit")
    assert credit.amount == Decimal("-10.00")
    ec2 = next(
        line for line in lines if line.service == "Amazon Elastic Compute Cloud" and line.charge_category == "Usage"
    )
    assert (ec2.is_ai, ec2.provider, ec2.cost_source, ec2.tags) == (False, "aws", "other", {})  # "NULL" Tags
    assert "SkuMeter" not in ec2.raw  # the NULL literal is dropped as empty
    bedrock = [line for line in lines if line.provider == "aws-bedrock" and line.charge_category == "Usage"]
    assert [(b.model_hint, b.cost_source, b.quantity, b.unit) for b in bedrock] == [
        ("claude-sonnet-4-5", "input", Decimal("4115226"), "Tokens"),
        ("claude-sonnet-4-5", "output", Decimal("2000000"), "Tokens"),
        ("claude-sonnet-4-5", "cache_read", Decimal("1000000"), "Tokens"),
    ]
    assert bedrock[0].tags == {"team": "search", "env": "prod"}
    assert {line.charge_category for line in lines} == {"Usage", "Credit", "Tax", "Purchase"}


def test_focus_effective_view_amortises_the_purchase():
    lines, errors = read("focus_1_2_aws.csv", cost_view="effective")
    assert errors == []
    assert sum(line.amount for line in lines) == Decimal("127.205678")


def test_focus_1_3_column_names_and_bad_rows():
    lines, errors = read("focus_1_3_google.csv")
    assert sum(line.amount for line in lines) == Decimal("9.00")
    assert {line.invoice_provider for line in lines} == {"google"}  # from ServiceProviderName
    assert lines[0].invoice_number == "google-focus-2026-10"  # InvoiceId NULL -> derived per period
    assert [(line.model_raw, line.cost_source, line.is_ai) for line in lines[:3]] == [
        ("gemini-2.5-flash", "input", True),
        ("gemini-2.5-flash", "output", True),
        ("", "other", False),
    ]
    assert [(e.line, e.field) for e in errors] == [(6, "ChargeCategory"), (7, "BilledCost")]


def test_focus_refuses_a_file_without_the_chosen_cost_column():
    with (FIXTURES / "focus_1_3_google.csv").open("rb") as stream:
        data = stream.read().replace(b"EffectiveCost", b"SomethingElse")
    import io

    with pytest.raises(FileRefused, match="EffectiveCost"):
        list(FORMATS["focus"](io.BytesIO(data), cost_view="effective"))


@pytest.mark.parametrize("name", ["openai_costs_pages.ndjson", "openai_costs_pages.json"])
def test_openai_costs_pages_are_exact_across_pages(name):
    lines, errors = read(name)
    assert errors == []
    # 12.34 + 0.1 + 0.2 + 5.555555555 + 1.5: a float sum would give 19.695555554999998
    assert sum(line.amount for line in lines) == Decimal("19.695555555")
    assert all(isinstance(line.amount, Decimal) for line in lines)
    assert [(line.model_raw, line.cost_source) for line in lines] == [
        ("gpt-4o-2024-08-06", "input"),
        ("gpt-4o-2024-08-06", "output"),
        ("gpt-4o-2024-08-06", "cache_read"),
        ("gpt-4o-mini", "input"),
        ("", "tool_calls"),
    ]
    assert lines[0].currency == "USD"
    assert lines[0].tags == {"openai_project": "proj_search"}
    assert lines[3].charge_period_start == datetime(2026, 10, 2, tzinfo=UTC)  # second page, "result" key
    assert {line.invoice_number for line in lines} == {"openai-costs-2026-10"}


def test_anthropic_cost_report_amounts_are_cents():
    lines, errors = read("anthropic_cost_report.json")
    assert [line.amount for line in lines] == [
        Decimal("12.345678"),
        Decimal("2.50"),
        Decimal("0.005"),
        Decimal("10.00"),
    ]
    assert sum(line.amount for line in lines) == Decimal("24.850678")
    assert [line.cost_source for line in lines] == ["input", "output", "cache_write", "tool_calls"]
    assert lines[0].tags == {"anthropic_workspace": "wrkspc_assistant", "service_tier": "standard"}
    assert [(e.line, e.field) for e in errors] == [(5, "amount")]


def test_aws_cur_bedrock_rows():
    lines, errors = read("aws_cur_bedrock.csv")
    assert errors == []
    assert sum(line.amount for line in lines) == Decimal("9.371")
    assert [(line.provider, line.model_hint, line.cost_source) for line in lines[:5]] == [
        ("aws-bedrock", "claude-sonnet-4-5", "input"),
        ("aws-bedrock", "claude-sonnet-4-5", "output"),
        ("aws-bedrock", "claude-sonnet-4-5", "cache_read"),
        ("aws-bedrock", "claude-sonnet-4-5", "cache_write"),
        ("aws", "", "other"),
    ]
    assert lines[4].is_ai is False
    assert lines[6].charge_category == "Credit" and lines[6].amount == Decimal("-2.0")
    assert lines[0].tags == {"user:team": "search"}
    assert {line.invoice_number for line in lines} == {"2026-INV-777"}


def test_generic_csv_keeps_good_rows_and_reports_bad_ones():
    lines, errors = read("generic_invoice.csv")
    assert sum(line.amount for line in lines) == Decimal("11.50")
    assert lines[2].amount == Decimal("-1.00")  # a credit reduces the bill even when written positive
    assert [(e.line, e.field) for e in errors] == [(5, "cost_source"), (6, "date")]


@pytest.mark.parametrize(
    ("usage_type", "expected"),
    [
        ("USW2-Claude4.5Sonnet-input-tokens", ("claude-sonnet-4-5", "Claude4.5Sonnet", "input")),
        ("USE1-Claude3.5Haiku-output-tokens", ("claude-3-5-haiku", "Claude3.5Haiku", "output")),
        ("EUC1-Claude4.1Opus-cache-write-input-token-count", ("claude-opus-4-1", "Claude4.1Opus", "cache_write")),
        ("USW2-NovaPro-input-tokens", ("nova-pro", "NovaPro", "input")),
    ],
)
def test_cur_usage_type_names(usage_type, expected):
    assert split_cur_usage_type(usage_type) == expected


def test_naming_helpers():
    assert cur_model_code("Claude4Sonnet") == "claude-sonnet-4"
    assert split_openai_line_item("gpt-4o-2024-08-06, cached input") == ("gpt-4o-2024-08-06", "cache_read")
