"""Demo price book: the shipped list prices (global) and each organisation's negotiated terms.

acme (USD) has an Anthropic enterprise agreement (8% off list) and a committed-use price for
gpt-4o input; globex (EUR) buys OpenAI models through an Azure consumption commitment (12% off) and
has a Gemini discount. Everything goes through the loader and the catalog import, so it is
validated, audited and idempotent.
"""

from django.db import transaction

from apps.tenancy.models import Organization

from . import catalog_io
from .services import price_book_load_default

DEMO_OVERRIDES = {
    "acme": [
        {
            "provider": "anthropic",
            "model": "",
            "usage_type": "",
            "service_tier": "",
            "discount_pct": "8",
            "effective_from": "2025-01-01",
            "note": "Enterprise agreement EA-2025-114: 8% off list on all Claude usage",
        },
        {
            "provider": "openai",
            "model": "gpt-4o",
            "usage_type": "input",
            "service_tier": "standard",
            "price": "2.25",
            "unit": "1m_tokens",
            "effective_from": "2025-07-01",
            "note": "Committed-use contract OA-7731",
        },
    ],
    "globex": [
        {
            "provider": "azure-openai",
            "model": "",
            "usage_type": "",
            "service_tier": "",
            "discount_pct": "12",
            "effective_from": "2025-01-01",
            "note": "Microsoft Azure Consumption Commitment (MACC) discount",
        },
        {
            "provider": "google",
            "model": "gemini-2.5-pro",
            "usage_type": "",
            "service_tier": "",
            "discount_pct": "5",
            "effective_from": "2025-09-01",
            "effective_to": "2026-09-01",
            "note": "Google Cloud commit, year one",
        },
    ],
}


@transaction.atomic
def seed_demo(*, organization: Organization, stdout) -> None:
    book = price_book_load_default()
    rows = DEMO_OVERRIDES.get(organization.slug, [])
    errors = catalog_io.validate_section(organization=organization, rows=rows, context={})
    if errors:
        raise RuntimeError(f"demo price overrides for {organization.slug} are invalid: {errors}")
    counts = catalog_io.apply_section(organization=organization, rows=rows, actor=None)
    stdout.write(
        f"  {organization.slug}: list prices {book['price_rows']['created']} created, "
        f"{book['price_rows']['updated']} updated; price overrides {counts['created']} created, "
        f"{counts['updated']} updated"
    )
