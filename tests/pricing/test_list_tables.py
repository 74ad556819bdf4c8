"""Price book, negotiated prices and our model names: sorted by a column on request, exported as shown."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.pricing.models import OrgModel
from tests.factories.pricing import AiModelFactory, PriceOverrideFactory, PriceRowFactory, ProviderFactory
from tests.tables import column, csv_rows, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(db):
    acme = ProviderFactory(code="acmeai", name="AcmeAI")
    zeta = ProviderFactory(code="zeta", name="Zeta")
    PriceRowFactory(model=AiModelFactory(provider=acme, code="a-large"), price=Decimal("15.00"))
    PriceRowFactory(model=AiModelFactory(provider=acme, code="a-small"), price=Decimal("0.25"))
    PriceRowFactory(model=AiModelFactory(provider=zeta, code="z-mid"), price=Decimal("3.000000001"))
    return {"acme": acme, "zeta": zeta}


def test_price_book_sorts_by_price_and_exports_with_the_filter(world, book):
    viewer = world.login("a", "viewer")
    url = reverse("pricing:book", kwargs={"org_slug": "alpha"})
    rows = csv_rows(viewer.get(url + "?sort=-price&export=csv"))
    assert column(rows, "Model") == ["a-large", "z-mid", "a-small"]
    assert column(rows, "Price") == ["15.00", "3.000000001", "0.25"]
    rows = csv_rows(viewer.get(url + "?sort=price&export=csv"))
    assert column(rows, "Model") == ["a-small", "z-mid", "a-large"]
    assert sorted_header(viewer.get(url + "?sort=price").content.decode()) == ("Price", "ascending")
    # The provider filter narrows the export; prices are numbers in the workbook.
    sheet = xlsx_rows(viewer.get(url + "?provider=acmeai&sort=model&export=xlsx"))
    assert column(sheet, "Model") == ["a-large", "a-small"]
    assert column(sheet, "Price") == [15, 0.25]
    assert column(sheet, "Since") == [datetime.datetime(2025, 1, 1)] * 2
    # An unknown key keeps the page working in its own order.
    assert viewer.get(url + "?sort=provider__api_key").status_code == 200


def test_overrides_sort_and_export_only_their_organisation(world, book):
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            PriceOverrideFactory(
                organization=organization, provider=book["acme"], discount_pct=Decimal("12.5"), note=f"deal-{key}"
            )
            PriceOverrideFactory(
                organization=organization,
                provider=book["zeta"],
                discount_pct=Decimal("5"),
                note=f"=cmd|' /C calc'!A0 {key}",
            )
    url = reverse("pricing:overrides", kwargs={"org_slug": "alpha"})
    admin = world.login("a")
    rows = csv_rows(admin.get(url + "?sort=-provider&export=csv"))
    assert column(rows, "Provider") == ["Zeta", "AcmeAI"]
    assert column(rows, "Discount % off list") == ["5.00", "12.50"]
    # A note that looks like a formula is text in both files.
    assert column(rows, "Note") == ["=cmd|' /C calc'!A0 a", "deal-a"]
    sheet = xlsx_rows(admin.get(url + "?sort=provider&export=xlsx"))
    assert column(sheet, "Note") == ["deal-a", "=cmd|' /C calc'!A0 a"]
    assert column(sheet, "Discount % off list") == [12.5, 5]


def test_org_models_sort_and_export(world, book):
    organization = world.org("a")
    with scope(organization=organization):
        OrgModel.objects.create(organization=organization, provider=book["acme"], name="our-ft", note="b")
        OrgModel.objects.create(organization=organization, provider=book["zeta"], name="deploy-1", note="a")
    url = reverse("pricing:org_models", kwargs={"org_slug": "alpha"})
    admin = world.login("a")
    assert column(csv_rows(admin.get(url + "?sort=name&export=csv")), "Name") == ["deploy-1", "our-ft"]
    assert column(csv_rows(admin.get(url + "?sort=-name&export=csv")), "Name") == ["our-ft", "deploy-1"]
    sheet = xlsx_rows(admin.get(url + "?sort=note&export=xlsx"))
    assert sheet[0] == ["Provider", "Name", "Priced as", "Note", "Status"]
    assert column(sheet, "Name") == ["deploy-1", "our-ft"]
    assert column(sheet, "Priced as") == ["our negotiated prices only"] * 2
