import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.owners.models import Budget, BudgetOwner
from apps.tenancy.roles import Role
from tests.factories.owners import BudgetFactory

pytestmark = pytest.mark.django_db

ALL_CODES = ["CC-1000", "CC-1100", "CC-1101", "CC-1102", "CC-1200", "CC-1201", "CC-9000"]


def _url(name, world, **kwargs):
    return reverse(f"owners:{name}", kwargs={"org_slug": world.org("a").slug, **kwargs})


def _listed_codes(response) -> list[str]:
    return [row.owner.code for row in response.context["page"]]


def test_finance_sees_the_whole_tree(world, tree, tree_b):
    response = world.login("a", Role.FINANCE_ANALYST).get(_url("list", world))
    assert response.status_code == 200
    assert _listed_codes(response) == ALL_CODES
    # org b's identical codes are different rows, never shown here
    assert {row.owner.pk for row in response.context["page"]} == {o.pk for o in tree.values()}


def test_a_budget_owner_sees_only_their_subtree(world, tree):
    client = world.login("a", Role.BUDGET_OWNER)
    response = client.get(_url("list", world))
    assert _listed_codes(response) == ["CC-1100", "CC-1101", "CC-1102"]
    assert [row.depth for row in response.context["page"]] == [0, 1, 1]
    assert b"CC-1200" not in response.content and b"CC-1000" not in response.content
    for code in ("CC-1100", "CC-1101", "CC-1102"):
        assert client.get(_url("detail", world, pk=tree[code].pk)).status_code == 200
    for code in ("CC-1000", "CC-1200", "CC-1201", "CC-9000"):
        assert client.get(_url("detail", world, pk=tree[code].pk)).status_code == 404, code


def test_a_budget_owners_detail_hides_ancestors_outside_their_subtree(world, tree):
    response = world.login("a", Role.BUDGET_OWNER).get(_url("detail", world, pk=tree["CC-1101"].pk))
    assert [a.code for a in response.context["ancestors"]] == ["CC-1100"]
    assert b"CC-1000" not in response.content


def test_a_budget_owner_with_nothing_assigned_gets_an_empty_state(world, tree):
    with scope(organization=world.org("a")):
        tree["CC-1100"].owner_users.clear()
    response = world.login("a", Role.BUDGET_OWNER).get(_url("list", world))
    assert _listed_codes(response) == []
    assert b"No cost centres are assigned to you yet" in response.content


@pytest.mark.parametrize("role", [Role.BUDGET_OWNER, Role.VIEWER])
def test_readers_cannot_edit(world, tree, role):
    client = world.login("a", role)
    assert client.get(_url("create", world)).status_code == 403
    assert client.get(_url("edit", world, pk=tree["CC-1101"].pk)).status_code == 403
    assert client.post(_url("deactivate", world, pk=tree["CC-1101"].pk)).status_code == 403
    assert client.get(_url("budget_create", world, pk=tree["CC-1101"].pk)).status_code == 403


def test_detail_shows_erp_references_owners_children_and_budgets(world, tree):
    with scope(organization=world.org("a")):
        BudgetFactory(owner=tree["CC-1100"], period=datetime.date(2026, 9, 1), amount=Decimal("25000.00"))
    response = world.login("a", Role.VIEWER).get(_url("detail", world, pk=tree["CC-1100"].pk))
    body = response.content.decode()
    assert "6420-AI-Services" in body and "US01" in body
    assert "alpha-budget_owner" in body
    assert [c.code for c in response.context["children"]] == ["CC-1101", "CC-1102"]
    assert [(b.period.isoformat(), b.amount) for b in response.context["page"]] == [("2026-09-01", Decimal("25000.00"))]
    assert "Edit" not in body  # a viewer gets no edit links


def test_create_and_edit_through_the_form(world, tree):
    client = world.login("a", Role.FINANCE_ANALYST)
    owner_user = world.user("a", Role.BUDGET_OWNER)
    response = client.post(
        _url("create", world),
        {
            "code": "CC-1103",
            "name": "Query Understanding",
            "parent": tree["CC-1100"].pk,
            "owner_users": [owner_user.pk],
            "gl_account": "6420-AI-Services",
            "company_code": "US01",
        },
    )
    assert response.status_code == 302
    with scope(organization=world.org("a")):
        owner = BudgetOwner.objects.get(code="CC-1103")
        assert owner.parent == tree["CC-1100"] and list(owner.owner_users.all()) == [owner_user]
    assert response["Location"] == _url("detail", world, pk=owner.pk)
    response = client.post(
        _url("edit", world, pk=owner.pk), {"code": "CC-1103", "name": "Query Intent", "parent": tree["CC-1200"].pk}
    )
    assert response.status_code == 302
    with scope(organization=world.org("a")):
        owner.refresh_from_db()
        assert (owner.name, owner.parent.code, owner.owner_users.count()) == ("Query Intent", "CC-1200", 0)
        assert AuditEvent.objects.filter(action__startswith="budget_owner.").count() == 2


def test_the_form_shows_service_errors_on_their_fields(world, tree):
    response = world.login("a", Role.FINANCE_ADMIN).post(_url("create", world), {"code": "cc-1101", "name": "Dup"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["CC-1101 (Cost centre CC-1101) already uses this code."]


def test_edit_form_offers_no_parent_that_would_make_a_loop(world, tree):
    response = world.login("a").get(_url("edit", world, pk=tree["CC-1100"].pk))
    offered = {o.code for o in response.context["form"].fields["parent"].queryset}
    assert offered == {"CC-1000", "CC-1200", "CC-1201", "CC-9000"}


def test_deactivate_refuses_with_active_children_then_works_bottom_up(world, tree):
    client = world.login("a", Role.FINANCE_ANALYST)
    response = client.post(_url("deactivate", world, pk=tree["CC-1200"].pk), follow=True)
    assert "still has active cost centres below it (CC-1201)" in response.content.decode()
    client.post(_url("deactivate", world, pk=tree["CC-1201"].pk), {"reason": "merged"})
    client.post(_url("deactivate", world, pk=tree["CC-1200"].pk))
    with scope(organization=world.org("a")):
        assert set(BudgetOwner.objects.filter(is_active=False).values_list("code", flat=True)) == {
            "CC-1200",
            "CC-1201",
        }
        assert AuditEvent.objects.get(action="budget_owner.deactivated", object_id=str(tree["CC-1201"].pk)).reason == (
            "merged"
        )
    client.post(_url("reactivate", world, pk=tree["CC-1200"].pk))
    with scope(organization=world.org("a")):
        assert BudgetOwner.objects.get(code="CC-1200").is_active


def test_budget_pages_set_change_and_delete(world, tree):
    client = world.login("a", Role.FINANCE_ANALYST)
    owner = tree["CC-1101"]
    response = client.post(
        _url("budget_create", world, pk=owner.pk), {"period": "2026-10", "amount": "12500.00", "currency": "USD"}
    )
    assert response.status_code == 302
    with scope(organization=world.org("a")):
        budget = Budget.objects.get()
    assert (budget.period, budget.amount, budget.currency) == (datetime.date(2026, 10, 1), Decimal("12500.00"), "USD")
    # the month of an existing budget is fixed; a posted period is ignored
    client.post(
        _url("budget_edit", world, pk=owner.pk, budget_pk=budget.pk),
        {"period": "2027-01", "amount": "13000", "currency": "USD"},
    )
    with scope(organization=world.org("a")):
        budget.refresh_from_db()
    assert (budget.period, budget.amount) == (datetime.date(2026, 10, 1), Decimal("13000.00"))
    response = client.post(
        _url("budget_create", world, pk=owner.pk), {"period": "2026-11", "amount": "-5", "currency": "USD"}
    )
    assert response.context["form"].errors["amount"] == ["A budget cannot be negative."]
    client.post(_url("budget_delete", world, pk=owner.pk, budget_pk=budget.pk))
    with scope(organization=world.org("a")):
        assert Budget.objects.count() == 0


def test_a_budget_is_only_reachable_under_its_own_cost_centre(world, tree):
    with scope(organization=world.org("a")):
        budget = BudgetFactory(owner=tree["CC-1101"])
    url = _url("budget_edit", world, pk=tree["CC-1102"].pk, budget_pk=budget.pk)
    assert world.login("a").get(url).status_code == 404
