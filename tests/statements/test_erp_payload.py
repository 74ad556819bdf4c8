"""The statement payload for an ERP: the cost centre's ERP references (``erp``) and the exchange rates
(``conversion``) on the list and the detail, the list's queries bounded whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from apps.owners.models import BudgetOwner
from apps.tenancy.roles import TokenScope
from tests import scenarios
from tests.scenarios import reissued
from tests.test_fx_full_cycle import CONVERSION_TEXT, euro_org  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/statements/"
EUR_CONVERSION = {
    "base_currency": "EUR",
    "policy": "usage_day",
    "fx_source": "ecb",
    "text": CONVERSION_TEXT,
    "currencies": [
        {
            "from_currency": "USD",
            "to_currency": "EUR",
            "amount": "42.016000000",
            "converted": "37.341174779",
            "rates": 2,
            "first_day": "2026-10-01",
            "last_day": "2026-10-05",
            "effective_rate": "0.888737023491",
        }
    ],
}


def _set_erp(organization, code: str, **fields) -> None:
    with scope(organization=organization):
        BudgetOwner.objects.filter(code=code).update(**fields)


def test_the_list_and_the_detail_carry_the_erp_references_and_the_rates(world, euro_org):  # noqa: F811
    issued = scenarios.issued(euro_org)
    _set_erp(
        euro_org,
        "CC-1101",
        gl_account="6420-AI",
        department="Search Eng",
        company_code="DE01",
        erp_class="AI Platform",
        location="Berlin",
    )
    api = world.api("b", scopes=[TokenScope.STATEMENTS_READ])
    [row] = api.get(LIST, {"owner": "CC-1101"}).json()["results"]
    assert row["erp"] == {
        "gl_account": "6420-AI",
        "department": "Search Eng",
        "company_code": "DE01",
        "class": "AI Platform",
        "location": "Berlin",
    }
    assert row["conversion"] == {"allocation_run": issued.run.pk, **EUR_CONVERSION}
    detail = api.get(f"{LIST}{row['id']}/").json()
    assert {key: detail[key] for key in row} == row
    assert detail["lines"]

    # A cost centre without ERP references: empty strings, the keys always there.
    [other] = api.get(LIST, {"owner": "CC-1201"}).json()["results"]
    assert other["erp"] == {"gl_account": "", "department": "", "company_code": "", "class": "", "location": ""}
    assert other["conversion"]["text"] == CONVERSION_TEXT


def test_a_statement_in_the_base_currency_has_no_conversion(world):
    scenarios.issued(world.org("a"))
    rows = world.api("a", scopes=[TokenScope.STATEMENTS_READ]).get(LIST).json()["results"]
    assert [row["conversion"] for row in rows] == [None, None, None]


def _list_queries(api) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(LIST)
    assert response.status_code == 200
    return len(queries), response.json()["results"]


def test_the_lists_queries_do_not_grow_with_its_rows_or_runs(world, euro_org):  # noqa: F811
    issued = scenarios.issued(euro_org)
    api = world.api("b", scopes=[TokenScope.STATEMENTS_READ])
    api.get(LIST)  # the token's first use writes its last-used time once; count from the second request
    three, rows = _list_queries(api)
    assert len(rows) == 3 and all(row["conversion"]["text"] == CONVERSION_TEXT for row in rows)

    reissued(issued)  # version 2 from a second allocation run: six statements over two runs
    six, rows = _list_queries(api)
    assert len(rows) == 6
    assert len({row["conversion"]["allocation_run"] for row in rows}) == 2
    assert all(row["conversion"]["currencies"][0]["from_currency"] == "USD" for row in rows)
    assert six == three
    # token and client lookups, the page, the runs, their conversions and the conversions' lines
    assert six <= 10
