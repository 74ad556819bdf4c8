import pytest
from django.db import transaction
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.pricing import catalog_io
from apps.pricing.models import PriceOverride

pytestmark = pytest.mark.django_db

ROWS = [
    {
        "provider": "anthropic",
        "model": "",
        "org_model": "",
        "usage_type": "",
        "service_tier": "",
        "price": None,
        "unit": "",
        "currency": "",
        "discount_pct": "8",
        "effective_from": "2025-01-01",
        "effective_to": None,
        "note": "EA-2025-114",
        "is_active": True,
    },
    {
        "provider": "openai",
        "model": "gpt-4o",
        "org_model": "",
        "usage_type": "input",
        "service_tier": "standard",
        "price": "2.25",
        "unit": "1m_tokens",
        "currency": "USD",
        "discount_pct": None,
        "effective_from": "2025-07-01",
        "effective_to": "2026-07-01",
        "note": "OA-7731",
        "is_active": True,
    },
    {
        "provider": "openai",
        "model": "",
        "org_model": "",
        "usage_type": "web_search",
        "service_tier": "",
        "price": None,
        "unit": "",
        "currency": "",
        "discount_pct": "12.5",
        "effective_from": "2024-01-01",
        "effective_to": None,
        "note": "",
        "is_active": False,
    },
]


def _import(organization, rows):
    errors = catalog_io.validate_section(organization=organization, rows=rows, context={})
    if errors:
        return errors, None
    with transaction.atomic():
        return [], catalog_io.apply_section(organization=organization, rows=rows, actor=None)


def _count(organization):
    with scope(organization=organization):
        return PriceOverride.objects.count(), AuditEvent.objects.count()


def test_export_apply_into_the_other_org_and_export_again_gives_the_same_data(world, price_book):
    a, b = world.org("a"), world.org("b")
    # web_search has no Azure OpenAI list price, so that row is refused; the other two go in (OpenAI's
    # web_search is a list price since the book takes genai-prices' rows)
    errors, _ = _import(a, [*ROWS[:2], {**ROWS[2], "provider": "azure-openai"}])
    assert errors == [
        (
            "price_overrides[azure-openai/* web_search * 2024-01-01]",
            "usage_type",
            "Azure OpenAI list prices have no usage type 'web_search'; use one of input, output, cache_read, "
            "cache_write_5m, cache_write_1h, input_audio, output_audio, cache_read_audio, input_image, output_image, "
            "or leave it empty for all.",
        )
    ]
    rows = [*ROWS[:2], {**ROWS[2], "provider": "anthropic"}]
    assert _import(a, rows) == ([], {"created": 3, "updated": 0, "unchanged": 0})
    exported = catalog_io.export_section(organization=a)
    assert exported == sorted(rows, key=lambda r: (r["provider"], r["model"], r["usage_type"], r["service_tier"]))
    assert _import(b, exported) == ([], {"created": 3, "updated": 0, "unchanged": 0})
    assert catalog_io.export_section(organization=b) == exported
    before = _count(b)
    assert _import(b, exported) == ([], {"created": 0, "updated": 0, "unchanged": 3})
    assert _count(b) == before  # re-importing the same file changes nothing
    changed = [{**exported[0], "discount_pct": "10"}]
    assert _import(b, changed) == ([], {"created": 0, "updated": 1, "unchanged": 0})


def test_csv_round_trips(world, price_book):
    rows = [*ROWS[:2], {**ROWS[2], "provider": "anthropic"}]
    text = catalog_io.rows_to_csv(rows)
    assert text.splitlines()[0] == ",".join(f'"{column}"' for column in catalog_io.CSV_COLUMNS)
    assert (
        '"openai","gpt-4o","","input","standard","2.25","1m_tokens","USD","","2025-07-01","2026-07-01","OA-7731","true"'
        in text.splitlines()
    )
    assert catalog_io.rows_from_csv(text) == rows


def test_an_invalid_row_is_reported_with_its_label_and_field_and_nothing_is_written(world, price_book):
    organization = world.org("a")
    before = _count(organization)
    rows = [
        ROWS[0],
        {"provider": "openai", "model": "gpt-4o", "discount_pct": 5.5, "effective_from": "2025-01-01"},
        {"provider": "openai", "model": "gpt-7", "discount_pct": "5", "effective_from": "2025-01-01"},
        {"provider": "google", "discount_pct": "5", "effective_from": "01/02/2025"},
        {**ROWS[0], "discount_pct": "9", "effective_from": "2025-06-01"},
        {
            "provider": "azure-openai",
            "discount_pct": "5",
            "price": "1",
            "unit": "1m_tokens",
            "usage_type": "input",
            "effective_from": "2025-01-01",
            "colour": "red",
        },
    ]
    errors, result = _import(organization, rows)
    assert result is None
    assert errors == [
        (
            "price_overrides[openai/gpt-4o * * 2025-01-01]",
            "discount_pct",
            'Write the number as a string, e.g. "5.5", so no digit is lost.',
        ),
        ("price_overrides[openai/gpt-7 * * 2025-01-01]", "model", "OpenAI has no model 'gpt-7'."),
        ("price_overrides[3]", "effective_from", "Give the date as YYYY-MM-DD."),
        (
            "price_overrides[azure-openai/* input * 2025-01-01]",
            "colour",
            "Unknown field; use " + ", ".join(catalog_io.CSV_COLUMNS) + ".",
        ),
        (
            "price_overrides[anthropic/* * * 2025-06-01]",
            "effective_from",
            "Overlaps price_overrides[anthropic/* * * 2025-01-01] for the same provider, model, usage type and tier.",
        ),
    ]
    assert _count(organization) == before
    with pytest.raises(ValueError, match="invalid rows"):
        catalog_io.apply_section(organization=organization, rows=rows, actor=None)
    assert _count(organization) == before


def test_a_file_may_end_one_term_and_start_the_next(world, price_book):
    organization = world.org("a")
    _import(organization, [ROWS[0]])
    renewal = [
        {**ROWS[0], "effective_to": "2026-01-01"},
        {**ROWS[0], "discount_pct": "10", "effective_from": "2026-01-01", "note": "EA renewal"},
    ]
    assert _import(organization, renewal) == ([], {"created": 1, "updated": 1, "unchanged": 0})
