import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.pricing.book_file import PriceBookFileError, parse_price_book, read_price_book
from apps.pricing.models import AiModel, ModelAlias, PriceRow, Provider
from apps.pricing.selectors import price_book_for
from apps.pricing.services import price_book_load

pytestmark = pytest.mark.django_db


def test_the_default_book_loads_and_a_second_load_changes_nothing(price_book):
    book = read_price_book()
    assert price_book["price_rows"] == {"created": len(book.rows), "updated": 0, "unchanged": 0}
    assert set(Provider.objects.values_list("code", flat=True)) == {
        "openai",
        "anthropic",
        "google",
        "aws-bedrock",
        "azure-openai",
    }
    again = price_book_load()
    assert again["price_rows"] == {"created": 0, "updated": 0, "unchanged": len(book.rows)}
    assert again["models"]["created"] == again["aliases"]["created"] == 0
    assert PriceRow.objects.count() == len(book.rows)


def test_every_row_has_a_source_and_date(price_book):
    assert not PriceRow.objects.filter(source="").exists()
    assert PriceRow.objects.filter(source__startswith="https://").count() == PriceRow.objects.count()
    row = PriceRow.objects.get(
        model__code="claude-sonnet-4-5", provider__code="anthropic", usage_type="web_search", service_tier="standard"
    )
    assert (row.price, row.unit, row.source_date) == (Decimal("10.0000000000"), "1k_calls", datetime.date(2025, 11, 15))


def test_the_command_prints_counts_and_updates_a_changed_price(tmp_path, price_book):
    text = """
version: 1
providers:
  - code: openai
    name: OpenAI
    source: https://openai.com/api/pricing/
    source_date: 2026-01-01
    models:
      - code: gpt-4o
        name: GPT-4o
        aliases: [gpt-4o-2030-01-01]
        prices:
          - {tier: standard, unit: 1m_tokens, from: 2024-10-01, rates: {input: "2.40"}}
"""
    path = tmp_path / "book.yaml"
    path.write_text(text)
    out = StringIO()
    call_command("load_price_book", str(path), stdout=out)
    assert "price rows: 0 created, 1 updated, 0 unchanged" in out.getvalue()
    assert "aliases: 1 created, 0 updated, 0 unchanged" in out.getvalue()
    row = PriceRow.objects.get(
        model__code="gpt-4o", provider__code="openai", usage_type="input", service_tier="standard"
    )
    assert (row.price, row.source_date) == (Decimal("2.4"), datetime.date(2026, 1, 1))
    # rows missing from the file stay: past usage was priced with them
    assert PriceRow.objects.filter(model__code="gpt-4o", provider__code="openai", usage_type="output").exists()


def test_a_bad_file_is_refused_with_every_problem_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        """
providers:
  - code: openai
    source_date: 2026-01-01
    models:
      - code: gpt-x
        prices:
          - {tier: turbo, unit: 1m_tokens, from: 2025-01-01, rates: {input: 2.5, output: "-1"}}
          - {tier: standard, unit: per_token, from: "2025-13-01", rates: {input: "1"}}
"""
    )
    with pytest.raises(CommandError) as excinfo:
        call_command("load_price_book", str(path), stdout=StringIO())
    message = str(excinfo.value)
    assert "tier must be one of standard, batch, priority, flex" in message
    assert 'write the price as a quoted string such as "2.50"' in message
    assert "a price must be zero or more" in message
    assert "unit must be one of" in message
    assert "'2025-13-01' is not a date" in message
    assert Provider.objects.count() == 0
    path.write_text("providers:\n  - {code: x, source_date: 2025-13-01}\n")
    with pytest.raises(CommandError, match=r"not readable YAML: month must be in 1\.\.12"):
        call_command("load_price_book", str(path), stdout=StringIO())


def test_a_token_usage_type_cannot_be_priced_per_call():
    with pytest.raises(PriceBookFileError, match="input cannot be priced 1k_calls"):
        parse_price_book(
            {
                "providers": [
                    {
                        "code": "x",
                        "source_date": "2026-01-01",
                        "models": [
                            {
                                "code": "m",
                                "prices": [{"unit": "1k_calls", "from": "2025-01-01", "rates": {"input": "1"}}],
                            }
                        ],
                    }
                ]
            }
        )


def test_price_book_for_reads_the_same_prices_as_the_file(world, price_book, django_assert_max_num_queries):
    # rows, aliases, models, the organisation's model names, its overrides, the book's version
    with django_assert_max_num_queries(6):
        book = price_book_for(organization=world.org("a"))
    result = book.estimate(
        provider="aws-bedrock",
        model="global.anthropic.claude-sonnet-4-5-20250929-v1:0",  # the global profile: list price
        service_tier="standard",
        occurred_on=datetime.date(2025, 11, 20),
        usage={"input_tokens": 100_000, "output_tokens": 1000},
        tool_calls={},
    )
    assert (result.model, result.total_nano) == ("claude-sonnet-4-5", 300_000_000 + 15_000_000)
    assert AiModel.objects.filter(code="claude-sonnet-4-5").count() == 2  # direct and on Bedrock
    assert ModelAlias.objects.get(provider__code="openai", alias="gpt-4o-2024-08-06").model.code == "gpt-4o"
