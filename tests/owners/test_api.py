import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.owners.models import Budget, BudgetOwner
from apps.tenancy.roles import TokenScope
from tests.factories.owners import BudgetFactory

pytestmark = pytest.mark.django_db

OWNERS = reverse("api:budget-owner-list")
BUDGETS = reverse("api:budget-list")


def _owner_url(pk):
    return reverse("api:budget-owner-detail", kwargs={"pk": pk})


def _budget_url(pk):
    return reverse("api:budget-detail", kwargs={"pk": pk})


def _patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


def _post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_list_represents_parent_by_code_and_owners_by_username(world, tree, tree_b):
    response = world.api("a", [TokenScope.CATALOG_READ]).get(OWNERS, {"code": "cc-1100"})
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": tree["CC-1100"].pk,
            "code": "CC-1100",
            "name": "Cost centre CC-1100",
            "parent": "CC-1000",
            "owner_users": ["alpha-budget_owner"],
            "gl_account": "6420-AI-Services",
            "department": "",
            "company_code": "US01",
            "erp_class": "",
            "location": "",
            "is_active": True,
            "is_central": False,
            "created_at": response.json()["results"][0]["created_at"],
            "updated_at": response.json()["results"][0]["updated_at"],
        }
    ]


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"parent": "CC-1100"}, ["CC-1101", "CC-1102"]),
        ({"central": "true"}, ["CC-9000"]),
        ({"central": "false", "parent": "CC-1000"}, ["CC-1100", "CC-1200"]),
        ({"active": "false"}, []),
    ],
)
def test_owner_filters(world, tree, tree_b, params, codes):
    response = world.api("a").get(OWNERS, params)
    assert sorted(row["code"] for row in response.json()["results"]) == codes


def test_create_and_patch_go_through_the_services(world, tree):
    api = world.api("a", [TokenScope.CATALOG_WRITE, TokenScope.CATALOG_READ])
    response = _post(
        api,
        OWNERS,
        {"code": "CC-1103", "name": "Query Understanding", "parent": "cc-1100", "owner_users": ["alpha-budget_owner"]},
    )
    assert response.status_code == 201, response.content
    assert (response.json()["parent"], response.json()["owner_users"]) == ("CC-1100", ["alpha-budget_owner"])
    pk = response.json()["id"]
    response = _patch(api, _owner_url(pk), {"parent": "CC-1200", "location": "US-SFO"})
    assert response.status_code == 200, response.content
    assert (response.json()["parent"], response.json()["location"], response.json()["name"]) == (
        "CC-1200",
        "US-SFO",
        "Query Understanding",
    )
    with scope(organization=world.org("a")):
        events = list(AuditEvent.objects.filter(object_type="owners.budgetowner").order_by("seq"))
    assert [e.action for e in events] == ["budget_owner.created", "budget_owner.updated"]
    assert events[0].actor_label.startswith("api:")
    assert events[1].after["parent"] == "CC-1200"


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"code": "CC-1101", "name": "Dup"}, {"code": ["CC-1101 (Cost centre CC-1101) already uses this code."]}),
        (
            {"code": "CC-7", "name": "X", "parent": "CC-404"},
            {"parent": ["No cost centre has the code 'CC-404' in this organisation."]},
        ),
        (
            {"code": "CC-7", "name": "X", "owner_users": ["beta-budget_owner"]},
            {"owner_users": ["beta-budget_owner is not a member of this organisation."]},
        ),
    ],
)
def test_create_rejects_invalid_cost_centres(world, tree, tree_b, payload, errors):
    response = _post(world.api("a"), OWNERS, payload)
    assert response.status_code == 400
    assert response.json() == errors


def test_patch_cannot_make_a_loop_or_orphan_active_children(world, tree):
    api = world.api("a")
    response = _patch(api, _owner_url(tree["CC-1000"].pk), {"parent": "CC-1102"})
    assert response.status_code == 400
    assert response.json() == {"parent": ["CC-1102 sits below CC-1000: moving CC-1000 under it would make a loop."]}
    response = _patch(api, _owner_url(tree["CC-1200"].pk), {"is_active": False})
    assert response.status_code == 400
    assert "CC-1201" in response.json()["is_active"][0]


def test_cost_centres_cannot_be_deleted_or_written_with_a_read_token(world, tree):
    assert world.api("a").delete(_owner_url(tree["CC-1101"].pk)).status_code == 405
    read_only = world.api("a", [TokenScope.CATALOG_READ])
    assert _post(read_only, OWNERS, {"code": "CC-7", "name": "X"}).status_code == 403
    assert world.api("a", [TokenScope.ORG_READ]).get(OWNERS).status_code == 403


def test_budget_owner_tokens_are_org_wide(world, tree):
    # API tokens belong to the organisation, not to a person: no subtree restriction applies.
    response = world.api("a", [TokenScope.CATALOG_READ]).get(OWNERS, {"page_size": 50})
    assert len(response.json()["results"]) == len(tree)


def test_budgets_set_replace_filter_and_delete(world, tree):
    api = world.api("a")
    response = _post(api, BUDGETS, {"owner": "CC-1101", "period": "2026-10", "amount": "12500.00"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner"], body["period"], body["amount"], body["currency"]) == (
        "CC-1101",
        "2026-10",
        "12500.00",
        "USD",
    )
    response = _post(api, BUDGETS, {"owner": "CC-1101", "period": "2026-10", "amount": "13000", "currency": "USD"})
    assert response.status_code == 200 and response.json()["id"] == body["id"]
    _post(api, BUDGETS, {"owner": "CC-1102", "period": "2026-10", "amount": "900"})
    _post(api, BUDGETS, {"owner": "CC-1101", "period": "2026-11", "amount": "14000"})

    def listed(params):
        return sorted((r["owner"], r["period"], r["amount"]) for r in api.get(BUDGETS, params).json()["results"])

    assert listed({"owner": "cc-1101"}) == [("CC-1101", "2026-10", "13000.00"), ("CC-1101", "2026-11", "14000.00")]
    assert listed({"period": "2026-10"}) == [("CC-1101", "2026-10", "13000.00"), ("CC-1102", "2026-10", "900.00")]
    assert listed({"period_from": "2026-11"}) == [("CC-1101", "2026-11", "14000.00")]

    response = _patch(api, _budget_url(body["id"]), {"amount": "12000.50", "currency": "EUR"})
    assert (response.status_code, response.json()) == (
        400,
        {"currency": ["Budgets are kept in the organisation's base currency, USD: write this budget in USD, not EUR."]},
    )
    response = _patch(api, _budget_url(body["id"]), {"amount": "12000.50"})
    assert (response.status_code, response.json()["amount"], response.json()["currency"]) == (200, "12000.50", "USD")
    response = _patch(api, _budget_url(body["id"]), {"period": "2027-01"})
    assert response.status_code == 400
    assert response.json() == {"period": ["A budget cannot move to another month: delete it and set a new one."]}

    assert api.delete(_budget_url(body["id"])).status_code == 204
    with scope(organization=world.org("a")):
        assert Budget.objects.filter(pk=body["id"]).count() == 0
        assert list(
            AuditEvent.objects.filter(object_type="owners.budget", object_id=str(body["id"]))
            .order_by("seq")
            .values_list("action", flat=True)
        ) == ["budget.created", "budget.updated", "budget.updated", "budget.deleted"]


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"owner": "CC-1101", "period": "2026-10", "amount": "-1"}, {"amount": ["A budget cannot be negative."]}),
        (
            {"owner": "CC-1101", "period": "Oct 2026", "amount": "1"},
            {"period": ["Give the month as YYYY-MM, e.g. 2026-10."]},
        ),
        (
            {"owner": "CC-1101", "period": "2026-10", "amount": "1", "currency": "dollars"},
            {"currency": ["Use a three-letter ISO 4217 currency code in capitals, such as USD or EUR."]},
        ),
        (
            {"owner": "CC-404", "period": "2026-10", "amount": "1"},
            {"owner": ["No cost centre has the code 'CC-404' in this organisation."]},
        ),
    ],
)
def test_budget_validation_errors(world, tree, payload, errors):
    response = _post(world.api("a"), BUDGETS, payload)
    assert response.status_code == 400
    assert response.json() == errors
    with scope(organization=world.org("a")):
        assert Budget.objects.count() == 0


def test_a_budget_cannot_be_set_for_another_organisations_cost_centre(world, tree, tree_b):
    with scope(organization=world.org("b")):
        BudgetFactory(owner=tree_b["CC-1101"], organization=world.org("b"))
    # the same code exists in both: a's token reaches a's CC-1101 only
    response = _post(world.api("a"), BUDGETS, {"owner": "CC-1101", "period": "2026-10", "amount": "1"})
    assert response.status_code == 201
    with scope(organization=world.org("a")):
        assert Budget.objects.get().owner_id == tree["CC-1101"].pk
    with scope(organization=world.org("b")):
        assert Budget.objects.get().amount == Decimal("10000.00")
        assert BudgetOwner.objects.count() == len(tree_b)


def test_openapi_schema_lists_the_owner_routes():
    from django.test import Client

    paths = Client().get(reverse("api:schema"), {"format": "json"}).json()["paths"]
    assert "/api/v1/budget-owners/" in paths and "/api/v1/budgets/{id}/" in paths
