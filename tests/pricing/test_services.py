import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.pricing import services
from apps.pricing.models import AiModel, PriceOverride, Provider
from apps.pricing.selectors import price_book_for

pytestmark = pytest.mark.django_db
DAY = datetime.date(2025, 11, 20)


def _gpt_4o_input(organization) -> int:
    return (
        price_book_for(organization=organization)
        .estimate(
            provider="openai",
            model="gpt-4o-2024-08-06",
            service_tier="standard",
            occurred_on=DAY,
            usage={"input_tokens": 1_000_000, "output_tokens": 1_000_000},
            tool_calls={},
        )
        .cost_nano
    )


def test_overrides_apply_to_their_organisation_only_and_are_audited(world, price_book):
    a, b = world.org("a"), world.org("b")
    openai = Provider.objects.get(code="openai")
    gpt_4o = AiModel.objects.get(provider=openai, code="gpt-4o")
    with scope(organization=a):
        services.price_override_create(
            organization=a,
            actor=world.user("a"),
            provider=openai,
            model=gpt_4o,
            usage_type="input",
            price=Decimal("2.25"),
            unit="1m_tokens",
            effective_from=datetime.date(2025, 7, 1),
            note="OA-7731",
        )
        services.price_override_create(
            organization=a, actor=world.user("a"), provider=openai, discount_pct=Decimal("10"), effective_from=DAY
        )
        events = list(AuditEvent.objects.filter(action="price_override.created").order_by("seq"))
    assert _gpt_4o_input(a) == {
        "input": 2_250_000_000,
        "output": 9_000_000_000,
        "cache_read": 0,
        "cache_write": 0,
        "tool_calls": 0,
        "audio": 0,
        "image": 0,
    }
    assert _gpt_4o_input(b)["input"] == 2_500_000_000  # list price: a's agreement is not b's
    assert events[0].after == {
        "provider": "openai",
        "model": "gpt-4o",
        "usage_type": "input",
        "service_tier": "",
        "price": "2.25",
        "unit": "1m_tokens",
        "currency": "USD",  # a negotiated price without a currency is in the list's USD
        "discount_pct": None,
        "effective_from": "2025-07-01",
        "effective_to": None,
        "note": "OA-7731",
        "is_active": True,
    }


def test_deactivated_overrides_no_longer_apply(world, price_book):
    a = world.org("a")
    with scope(organization=a):
        override = services.price_override_create(
            organization=a,
            actor=None,
            provider=Provider.objects.get(code="openai"),
            discount_pct=Decimal("50"),
            effective_from=datetime.date(2025, 1, 1),
        )
        assert _gpt_4o_input(a)["input"] == 1_250_000_000
        services.price_override_set_active(active=False, override=override, actor=None, reason="contract ended")
        assert _gpt_4o_input(a)["input"] == 2_500_000_000
        event = AuditEvent.objects.get(action="price_override.deactivated")
        assert (event.before["is_active"], event.after["is_active"], event.reason) == (True, False, "contract ended")
        with pytest.raises(ValidationError):
            services.price_override_set_active(active=False, override=override, actor=None)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"discount_pct": None}, "price", "Give either a negotiated price or a discount percentage"),
        ({"price": Decimal("1"), "unit": "1m_tokens"}, "price", "not both"),
        ({"discount_pct": Decimal("120")}, "discount_pct", "between 0 and 100"),
        ({"discount_pct": None, "price": Decimal("1"), "unit": "1m_tokens"}, "usage_type", "for one usage type"),
        ({"discount_pct": None, "price": Decimal("1"), "usage_type": "input"}, "unit", "Say what the negotiated"),
        (
            {"discount_pct": None, "price": Decimal("1"), "usage_type": "web_search", "unit": "1m_tokens"},
            "unit",
            "web_search is priced per call",
        ),
        ({"usage_type": "images"}, "usage_type", "Anthropic list prices have no usage type 'images'"),
        ({"service_tier": "turbo"}, "service_tier", "Use one of standard, batch, priority, flex"),
        ({"effective_to": datetime.date(2024, 12, 31)}, "effective_to", "must be after the start date"),
        ({"model": "gpt-4o"}, "model", "gpt-4o is not one of Anthropic's models"),
    ],
)
def test_invalid_overrides_are_refused_with_a_message(world, price_book, values, field, message):
    a = world.org("a")
    arguments = {
        "organization": a,
        "actor": None,
        "provider": Provider.objects.get(code="anthropic"),
        "discount_pct": Decimal("5"),
        "effective_from": datetime.date(2025, 1, 1),
    }
    if values.get("model"):
        values = {**values, "model": AiModel.objects.get(provider__code="openai", code=values["model"])}
    with scope(organization=a), pytest.raises(ValidationError) as excinfo:
        services.price_override_create(**{**arguments, **values})
    assert message in excinfo.value.message_dict[field][0]
    with scope(organization=a):
        assert PriceOverride.objects.count() == 0


def test_overlapping_overrides_for_the_same_target_are_refused(world, price_book):
    a = world.org("a")
    anthropic = Provider.objects.get(code="anthropic")
    with scope(organization=a):
        first = services.price_override_create(
            organization=a,
            actor=None,
            provider=anthropic,
            discount_pct=Decimal("5"),
            effective_from=datetime.date(2025, 1, 1),
            effective_to=datetime.date(2026, 1, 1),
        )
        with pytest.raises(ValidationError, match="applies from 2025-01-01 until 2026-01-01"):
            services.price_override_create(
                organization=a,
                actor=None,
                provider=anthropic,
                discount_pct=Decimal("7"),
                effective_from=datetime.date(2025, 6, 1),
            )
        # the next year's terms start where the first ends (effective_to is exclusive)
        services.price_override_create(
            organization=a,
            actor=None,
            provider=anthropic,
            discount_pct=Decimal("7"),
            effective_from=datetime.date(2026, 1, 1),
        )
        # a more specific override for the same provider is not an overlap: it wins where it applies
        services.price_override_create(
            organization=a,
            actor=None,
            provider=anthropic,
            usage_type="output",
            discount_pct=Decimal("9"),
            effective_from=datetime.date(2025, 6, 1),
        )
        updated = services.price_override_update(override=first, actor=None, data={"discount_pct": Decimal("6")})
    assert updated.discount_pct == Decimal("6")


def test_switching_an_override_from_discount_to_price(world, price_book):
    a = world.org("a")
    with scope(organization=a):
        override = services.price_override_create(
            organization=a,
            actor=None,
            provider=Provider.objects.get(code="openai"),
            usage_type="output",
            discount_pct=Decimal("5"),
            effective_from=datetime.date(2025, 1, 1),
        )
        services.price_override_update(override=override, actor=None, data={"price": Decimal("9"), "unit": "1m_tokens"})
        override.refresh_from_db()
        assert (override.price, override.discount_pct, override.unit) == (Decimal("9"), None, "1m_tokens")
        # saving the same values again writes no event
        count = AuditEvent.objects.count()
        services.price_override_update(override=override, actor=None, data={"note": ""})
        assert AuditEvent.objects.count() == count
