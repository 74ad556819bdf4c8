import datetime
from io import StringIO

import pytest
from django_scopes import scope

from apps.audit.services import audit_chain_verify
from apps.pricing.demo import seed_demo
from apps.pricing.models import PriceOverride, PriceRow
from apps.pricing.selectors import price_book_for
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_demo_seeds_the_price_book_and_each_orgs_terms_idempotently():
    acme = OrganizationFactory(slug="acme", name="Acme", base_currency="USD")
    globex = OrganizationFactory(slug="globex", name="Globex", base_currency="EUR")
    for _ in range(2):
        for organization in (acme, globex):
            seed_demo(organization=organization, stdout=StringIO())
    rows = PriceRow.objects.count()
    out = StringIO()
    seed_demo(organization=acme, stdout=out)
    assert "list prices 0 created, 0 updated; price overrides 0 created, 0 updated" in out.getvalue()
    assert PriceRow.objects.count() == rows
    for organization, expected in ((acme, 2), (globex, 2)):
        with scope(organization=organization):
            assert PriceOverride.objects.count() == expected
        assert audit_chain_verify(organization=organization).ok
    usage = {"input_tokens": 100_000, "output_tokens": 0}
    arguments = {
        "service_tier": "standard",
        "occurred_on": datetime.date(2025, 11, 20),
        "usage": usage,
        "tool_calls": {},
    }
    acme_book, globex_book = price_book_for(organization=acme), price_book_for(organization=globex)
    assert acme_book.estimate(provider="anthropic", model="claude-sonnet-4-5", **arguments).total_nano == 276_000_000
    assert globex_book.estimate(provider="anthropic", model="claude-sonnet-4-5", **arguments).total_nano == 300_000_000
    assert globex_book.estimate(provider="azure-openai", model="gpt-4o", **arguments).total_nano == 220_000_000
