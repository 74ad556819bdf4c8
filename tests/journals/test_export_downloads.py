"""The journal download from the API (journal:read), the portal (finance roles and org admins) and the
``export_journal`` command: the same bytes from all three, with the filename and content type of a CSV
file, and a clear refusal when there is nothing to download."""

import io
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from apps.journals.exports import journal_export
from apps.tenancy.roles import TokenScope
from tests import scenarios
from tests.journals.export_world import booked_october, records_of
from tests.journals.export_world import reverse as reverse_entry

pytestmark = pytest.mark.django_db

URL = "/api/v1/journal-entries/export/"


@pytest.fixture
def org(world):
    booked_october(world.org("a"))
    return world.org("a")


def _file(org, layout: str) -> bytes:
    return journal_export(organization=org, period=scenarios.OCT, layout=layout).text.encode()


# --- API ------------------------------------------------------------------------------------------------


def test_the_route_is_the_export_not_an_entry_id():
    assert reverse("api:journal-entry-export") == URL


@pytest.mark.parametrize("layout", ["netsuite", "sap", "generic"])
def test_api_answers_the_file_with_its_name_and_type(world, org, layout):
    response = world.api("a", scopes=[TokenScope.JOURNAL_READ]).get(URL, {"period": "2026-10", "layout": layout})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="journal-alpha-2026-10-{layout}.csv"'
    assert response.content == _file(org, layout)


def test_api_answers_the_file_to_a_client_that_asks_for_csv(world, org):
    api = world.api("a", scopes=[TokenScope.JOURNAL_READ])
    response = api.get(URL, {"period": "2026-10", "layout": "sap"}, headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.content == _file(org, "sap")


def test_api_needs_the_journal_read_scope(world, org):
    response = world.api("a", scopes=[TokenScope.STATEMENTS_READ]).get(URL, {"period": "2026-10", "layout": "sap"})
    assert response.status_code == 403
    assert world.api("a", scopes=[TokenScope.JOURNAL_WRITE]).get(URL, {"period": "2026-10"}).status_code == 403


def test_api_without_a_token_is_401(client, org):
    assert client.get(URL, {"period": "2026-10", "layout": "sap"}).status_code == 401


def test_api_refuses_a_missing_or_unknown_layout_and_a_bad_period_with_400(world, org):
    api = world.api("a")
    response = api.get(URL, {"period": "2026-10"})
    assert response.status_code == 400
    assert response.json() == {"layout": ["This field is required."]}
    response = api.get(URL, {"period": "2026-10", "layout": "xml"})
    assert response.status_code == 400
    assert response.json() == {"layout": ['"xml" is not a valid choice.']}
    response = api.get(URL, {"period": "2026-10-01", "layout": "sap"})
    assert response.status_code == 400
    assert response.json() == {"period": ["Give the month as YYYY-MM, e.g. 2026-10."]}


def test_api_says_why_there_is_nothing_to_download(world):
    scenarios.issued(world.org("a"))  # October in review: nothing booked yet
    api = world.api("a")
    response = api.get(URL, {"period": "2026-10", "layout": "netsuite"}, headers={"Accept": "text/csv"})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "2026-10 has no journal entries: the period is in review, and entries are booked when it closes."
    }
    response = api.get(URL, {"period": "2026-09", "layout": "netsuite"})
    assert response.status_code == 404
    assert response.json() == {"detail": "2026-09 has no billing period in Alpha Corp."}


def test_api_closed_period_with_nothing_booked_is_409_naming_the_reason(world):
    scenarios.closed(scenarios.issued(world.org("a")))
    response = world.api("a").get(URL, {"period": "2026-10", "layout": "generic"})
    assert response.status_code == 409
    assert response.json()["detail"].startswith("2026-10 is closed but has no journal entries: nothing was booked")


def test_api_file_holds_only_the_tokens_organisation(world, org):
    booked_october(world.org("b"))
    alpha = records_of(world.api("a").get(URL, {"period": "2026-10", "layout": "generic"}).content.decode())
    beta = records_of(world.api("b").get(URL, {"period": "2026-10", "layout": "generic"}).content.decode())
    assert {r["external_id"].split("-")[0] for r in alpha} == {"alpha"}
    assert {r["external_id"].split("-")[0] for r in beta} == {"beta"}
    assert len(alpha) == len(beta) == 15


def test_api_query_count_does_not_grow_with_the_entries(world, django_assert_max_num_queries):
    entries = booked_october(world.org("a"))
    api = world.api("a")
    with django_assert_max_num_queries(7) as four:  # token, client, last use, period, booked?, entries, lines
        assert api.get(URL, {"period": "2026-10", "layout": "sap"}).status_code == 200
    reverse_entry(entries[1])  # a fifth entry, with four more lines
    with django_assert_max_num_queries(len(four.captured_queries)):
        response = api.get(URL, {"period": "2026-10", "layout": "sap"})
    assert len(records_of(response.content.decode())) == 15 + 4


# --- portal ---------------------------------------------------------------------------------------------


def _download(org, layout=None) -> str:
    url = reverse("journals:download", kwargs={"org_slug": org.slug, "period": "2026-10"})
    return f"{url}?layout={layout}" if layout else url


@pytest.mark.parametrize("role", ["finance_analyst", "finance_admin", "org_admin"])
def test_portal_download_for_finance_roles_and_org_admins(world, org, role):
    response = world.login("a", role).get(_download(org, "netsuite"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="journal-alpha-2026-10-netsuite.csv"'
    assert response.content == _file(org, "netsuite")


@pytest.mark.parametrize("role", ["viewer", "budget_owner"])
def test_portal_download_is_refused_to_other_roles(world, org, role):
    assert world.login("a", role).get(_download(org, "sap")).status_code == 403


def test_portal_download_defaults_to_generic_and_refuses_an_unknown_layout(world, org):
    client = world.login("a", "finance_analyst")
    assert client.get(_download(org)).content == _file(org, "generic")
    response = client.get(_download(org, "xml"))
    assert response.status_code == 400
    assert response.content.decode() == "Choose a layout: ?layout= one of netsuite, sap, generic."


def test_portal_download_of_a_period_without_entries_goes_back_to_the_period_with_the_reason(world):
    scenarios.issued(world.org("a"))
    client = world.login("a", "finance_analyst")
    response = client.get(_download(world.org("a"), "sap"), follow=True)
    assert response.redirect_chain[0][0] == "/o/alpha/periods/2026-10/"
    assert (
        "Nothing to download: 2026-10 has no journal entries: the period is in review, and entries are booked "
        "when it closes." in [str(m) for m in response.context["messages"]]
    )
    missing = reverse("journals:download", kwargs={"org_slug": "alpha", "period": "2026-09"})
    assert client.get(missing).status_code == 404


def test_portal_download_query_count(world, org, django_assert_max_num_queries):
    client = world.login("a", "finance_analyst")
    # session, user, second-factor role check, organisation, membership, period, entries, lines, session save
    with django_assert_max_num_queries(12):  # +1: is a closed period booked yet
        assert client.get(_download(org, "sap")).status_code == 200


def _downloads_html(world, role: str, count: int) -> str:
    organization = world.org("a")
    request = RequestFactory().get("/")
    membership = world.memberships[("a", role)]
    return render_to_string(
        "journals/_downloads.html",
        {
            "current_org": organization,
            "current_membership": membership,
            "period_label": "2026-10",
            "page": SimpleNamespace(paginator=SimpleNamespace(count=count)),
        },
        request=request,
    )


def test_the_journal_page_include_links_the_three_files_for_finance_only(world):
    html = _downloads_html(world, "finance_analyst", 4)
    for layout in ("netsuite", "sap", "generic"):
        assert f'href="/o/alpha/periods/2026-10/journal/download/?layout={layout}"' in html
    assert "journal/download" not in _downloads_html(world, "viewer", 4)
    assert "journal/download" not in _downloads_html(world, "finance_analyst", 0)  # nothing booked: no links


# --- command --------------------------------------------------------------------------------------------


def test_command_prints_the_same_file(org):
    out = io.StringIO()
    call_command("export_journal", "--org", "alpha", "--period", "2026-10", "--layout", "sap", stdout=out)
    assert out.getvalue().encode() == _file(org, "sap")


def test_command_writes_the_file_to_output(org, tmp_path):
    target = tmp_path / "journal.csv"
    err = io.StringIO()
    call_command(
        "export_journal", "--org", "alpha", "--period", "2026-10", "--layout", "netsuite", "--output", str(target),
        stderr=err,
    )  # fmt: skip
    assert target.read_bytes() == _file(org, "netsuite")
    assert err.getvalue().strip() == f"Wrote 4 entries (15 lines) of 2026-10 in the netsuite layout to {target}."


def test_command_refusals(world):
    scenarios.issued(world.org("a"))
    with pytest.raises(CommandError, match="No organisation with slug 'nope'"):
        call_command("export_journal", "--org", "nope", "--period", "2026-10", "--layout", "sap")
    with pytest.raises(CommandError, match="is not a period: use YYYY-MM"):
        call_command("export_journal", "--org", "alpha", "--period", "2026-13", "--layout", "sap")
    with pytest.raises(CommandError, match="2026-10 has no journal entries: the period is in review"):
        call_command("export_journal", "--org", "alpha", "--period", "2026-10", "--layout", "sap")
    with pytest.raises(CommandError, match="invalid choice: 'xml'"):
        call_command("export_journal", "--org", "alpha", "--period", "2026-10", "--layout", "xml")
