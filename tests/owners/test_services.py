import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.owners.models import Budget, BudgetOwner
from apps.owners.services import (
    budget_delete,
    budget_owner_create,
    budget_owner_set_active,
    budget_owner_update,
    budget_set,
)
from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db

OCT = datetime.date(2026, 10, 1)


def _events(organization, action_prefix):
    with scope(organization=organization):
        return list(AuditEvent.objects.filter(action__startswith=action_prefix).order_by("seq"))


def _errors(excinfo) -> dict:
    return excinfo.value.message_dict


def test_create_stores_the_cost_centre_and_audits_it(world, tree):
    organization = world.org("a")
    owner_user = world.user("a", Role.BUDGET_OWNER)
    with scope(organization=organization):
        owner = budget_owner_create(
            organization=organization,
            actor=world.user("a"),
            code=" CC-1103 ",
            name="Query Understanding",
            parent=tree["CC-1100"],
            owner_users=[owner_user],
            gl_account="6420-AI-Services",
            department="ENG-SEARCH",
            company_code="US01",
            erp_class="R&D",
            location="US-SFO",
        )
        assert owner.code == "CC-1103"
        assert list(owner.owner_users.all()) == [owner_user]
    [event] = _events(organization, "budget_owner.created")
    assert event.object_id == str(owner.pk)
    assert event.before is None
    assert event.after == {
        "code": "CC-1103",
        "name": "Query Understanding",
        "parent": "CC-1100",
        "owner_users": [owner_user.username],
        "gl_account": "6420-AI-Services",
        "department": "ENG-SEARCH",
        "company_code": "US01",
        "erp_class": "R&D",
        "location": "US-SFO",
        "is_active": True,
        "is_central": False,
    }


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Give the cost centre a code"),
        ("CC 1001", "no spaces"),
        ("cc-1101", "CC-1101 (Cost centre CC-1101) already uses this code."),
        ("X" * 41, "at most 40 characters"),
    ],
)
def test_create_rejects_bad_or_duplicate_codes(world, tree, code, message):
    organization = world.org("a")
    with scope(organization=organization), pytest.raises(ValidationError) as excinfo:
        budget_owner_create(organization=organization, actor=None, code=code, name="Anything")
    assert message in _errors(excinfo)["code"][0]


def test_the_same_code_may_exist_in_another_organisation(world, tree, tree_b):
    organization = world.org("b")
    with scope(organization=organization):
        owner = budget_owner_create(organization=organization, actor=None, code="CC-1103", name="B's own")
    with scope(organization=world.org("a")):
        a_owner = budget_owner_create(organization=world.org("a"), actor=None, code="CC-1103", name="A's own")
    assert owner.organization_id != a_owner.organization_id


def test_create_needs_a_name(world):
    organization = world.org("a")
    with scope(organization=organization), pytest.raises(ValidationError) as excinfo:
        budget_owner_create(organization=organization, actor=None, code="CC-1", name="  ")
    assert _errors(excinfo) == {"name": ["Give the cost centre a name."]}


def test_parent_must_belong_to_the_same_organisation(world, tree, tree_b):
    organization = world.org("a")
    with scope(organization=organization), pytest.raises(ValidationError) as excinfo:
        budget_owner_create(organization=organization, actor=None, code="CC-7", name="X", parent=tree_b["CC-1000"])
    assert _errors(excinfo)["parent"] == ["The parent cost centre must belong to this organisation."]


def test_an_owner_cannot_move_under_its_own_descendant(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        with pytest.raises(ValidationError) as excinfo:
            budget_owner_update(owner=tree["CC-1000"], actor=None, data={"parent": tree["CC-1101"]})
        assert _errors(excinfo)["parent"] == ["CC-1101 sits below CC-1000: moving CC-1000 under it would make a loop."]
        with pytest.raises(ValidationError) as excinfo:
            budget_owner_update(owner=tree["CC-1100"], actor=None, data={"parent": tree["CC-1100"]})
        assert _errors(excinfo)["parent"] == ["A cost centre cannot be its own parent."]
        assert BudgetOwner.objects.get(code="CC-1000").parent is None


def test_update_moves_a_subtree_and_audits_before_and_after(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        budget_owner_update(
            owner=tree["CC-1100"], actor=world.user("a"), data={"parent": tree["CC-1200"], "name": "Search"}
        )
        assert BudgetOwner.objects.get(code="CC-1100").parent.code == "CC-1200"
    [event] = _events(organization, "budget_owner.updated")
    assert (event.before["parent"], event.after["parent"]) == ("CC-1000", "CC-1200")
    assert (event.before["name"], event.after["name"]) == ("Cost centre CC-1100", "Search")
    assert event.before["owner_users"] == event.after["owner_users"] == [world.user("a", Role.BUDGET_OWNER).username]


def test_update_without_changes_writes_no_event(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        budget_owner_update(owner=tree["CC-1100"], actor=None, data={"name": "Cost centre CC-1100"})
    assert _events(organization, "budget_owner.") == []


def test_cannot_deactivate_an_owner_with_active_children(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        with pytest.raises(ValidationError) as excinfo:
            budget_owner_set_active(active=False, owner=tree["CC-1100"], actor=None)
        assert _errors(excinfo)["is_active"] == [
            "CC-1100 still has active cost centres below it (CC-1101, CC-1102): deactivate or move them first."
        ]
        budget_owner_set_active(active=False, owner=tree["CC-1101"], actor=None)
        budget_owner_set_active(active=False, owner=tree["CC-1102"], actor=None)
        budget_owner_set_active(active=False, owner=tree["CC-1100"], actor=None, reason="team merged into Discovery")
        assert not BudgetOwner.objects.get(code="CC-1100").is_active
    events = _events(organization, "budget_owner.deactivated")
    assert [e.after["code"] for e in events] == ["CC-1101", "CC-1102", "CC-1100"]
    assert events[-1].before["is_active"] is True and events[-1].after["is_active"] is False
    assert events[-1].reason == "team merged into Discovery"


def test_reactivation_needs_an_active_parent(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        budget_owner_set_active(active=False, owner=tree["CC-1201"], actor=None)
        budget_owner_set_active(active=False, owner=tree["CC-1200"], actor=None)
        tree["CC-1201"].refresh_from_db()
        with pytest.raises(ValidationError) as excinfo:
            budget_owner_set_active(active=True, owner=tree["CC-1201"], actor=None)
        assert _errors(excinfo)["parent"] == ["CC-1200 is inactive: reactivate it first or pick an active parent."]
        tree["CC-1200"].refresh_from_db()
        budget_owner_set_active(active=True, owner=tree["CC-1200"], actor=None)
        budget_owner_set_active(active=True, owner=tree["CC-1201"], actor=None)
        assert BudgetOwner.objects.filter(code__in=["CC-1200", "CC-1201"], is_active=True).count() == 2
    assert len(_events(organization, "budget_owner.reactivated")) == 2


def test_a_new_cost_centre_cannot_hang_under_an_inactive_one(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        budget_owner_set_active(active=False, owner=tree["CC-1201"], actor=None)
        budget_owner_set_active(active=False, owner=tree["CC-1200"], actor=None)
        tree["CC-1200"].refresh_from_db()
        with pytest.raises(ValidationError) as excinfo:
            budget_owner_create(organization=organization, actor=None, code="CC-1203", name="X", parent=tree["CC-1200"])
    assert "CC-1200 is inactive" in _errors(excinfo)["parent"][0]


@pytest.mark.parametrize(
    ("who", "message"),
    [
        (("a", Role.FINANCE_ANALYST), "alpha-finance_analyst is not a budget owner here"),
        (("b", Role.BUDGET_OWNER), "beta-budget_owner is not a member of Alpha Corp."),
    ],
)
def test_owner_users_must_be_budget_owners_of_the_organisation(world, tree, who, message):
    organization = world.org("a")
    with scope(organization=organization), pytest.raises(ValidationError) as excinfo:
        budget_owner_update(owner=tree["CC-1200"], actor=None, data={"owner_users": [world.user(*who)]})
    assert _errors(excinfo)["owner_users"][0].startswith(message)


# --- budgets ---------------------------------------------------------------------------------------


def test_budget_set_creates_then_replaces_and_audits_each_change(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        budget, created = budget_set(
            organization=organization,
            actor=None,
            owner=tree["CC-1101"],
            period=OCT,
            amount=Decimal("12000"),
            currency="usd",
        )
        assert created and budget.amount == Decimal("12000.00") and budget.currency == "USD"
        again, created = budget_set(
            organization=organization,
            actor=None,
            owner=tree["CC-1101"],
            period=OCT,
            amount=Decimal("12000.00"),
            currency="USD",
        )
        assert not created and again.pk == budget.pk
        budget_set(
            organization=organization,
            actor=None,
            owner=tree["CC-1101"],
            period=OCT,
            amount=Decimal("15000.50"),
            currency="USD",
        )
        assert Budget.objects.get().amount == Decimal("15000.50")
    events = _events(organization, "budget.")
    assert [e.action for e in events] == ["budget.created", "budget.updated"]
    assert events[1].before == {"owner": "CC-1101", "period": "2026-10", "amount": "12000.00", "currency": "USD"}
    assert events[1].after["amount"] == "15000.50"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": Decimal("-1")}, "amount", "A budget cannot be negative."),
        ({"amount": Decimal("1.005")}, "amount", "Budgets are kept to 2 decimal places."),
        ({"amount": "lots"}, "amount", "'lots' is not an amount: write it like 12500.00."),
        ({"currency": "US"}, "currency", "Use a three-letter ISO 4217 currency code in capitals, such as USD or EUR."),
        ({"currency": "U5D"}, "currency", "Use a three-letter ISO 4217 currency code in capitals, such as USD or EUR."),
        (
            {"currency": "eur"},
            "currency",
            "Budgets are kept in the organisation's base currency, USD: write this budget in USD, not EUR.",
        ),
        (
            {"period": datetime.date(2026, 10, 15)},
            "period",
            "A budget covers a calendar month: use the first day of the month.",
        ),
    ],
)
def test_budget_set_validation(world, tree, overrides, field, message):
    organization = world.org("a")
    kwargs = {"amount": Decimal("100"), "currency": "USD", "period": OCT, **overrides}
    with scope(organization=organization):
        with pytest.raises(ValidationError) as excinfo:
            budget_set(organization=organization, actor=None, owner=tree["CC-1101"], **kwargs)
        assert Budget.objects.count() == 0
    assert _errors(excinfo) == {field: [message]}


def test_budget_for_another_organisations_owner_is_refused(world, tree, tree_b):
    organization = world.org("a")
    with scope(organization=organization), pytest.raises(ValidationError) as excinfo:
        budget_set(organization=organization, actor=None, owner=tree_b["CC-1101"], period=OCT, amount=1, currency="USD")
    assert _errors(excinfo) == {"owner": ["The cost centre must belong to this organisation."]}


def test_budget_delete_is_audited(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        budget, _ = budget_set(
            organization=organization, actor=None, owner=tree["CC-1101"], period=OCT, amount=5, currency="USD"
        )
        budget_id = budget.pk
        budget_delete(budget=budget, actor=world.user("a"))
        assert Budget.objects.count() == 0
    [event] = _events(organization, "budget.deleted")
    assert event.object_id == str(budget_id)
    assert event.before == {"owner": "CC-1101", "period": "2026-10", "amount": "5.00", "currency": "USD"}
    assert event.after is None


def test_database_refuses_a_negative_budget(world, tree):
    from django.db import IntegrityError, transaction

    with scope(organization=world.org("a")), pytest.raises(IntegrityError), transaction.atomic():
        Budget.objects.create(
            organization=world.org("a"), owner=tree["CC-1101"], period=OCT, amount=Decimal("-1"), currency="USD"
        )


def test_an_update_that_changes_nothing_writes_neither_the_row_nor_an_event(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        owner = tree["CC-1101"]
        stamped = BudgetOwner.objects.get(pk=owner.pk).updated_at
        budget_owner_update(owner=owner, actor=None, data={"name": f"  {owner.name} ", "parent": owner.parent})
        assert BudgetOwner.objects.get(pk=owner.pk).updated_at == stamped
    assert _events(organization, "budget_owner.updated") == []


def test_setting_the_state_a_cost_centre_already_has_is_refused(world, tree):
    organization = world.org("a")
    with scope(organization=organization):
        with pytest.raises(ValidationError) as excinfo:
            budget_owner_set_active(active=True, owner=tree["CC-1101"], actor=None)
        assert _errors(excinfo) == {"is_active": ["CC-1101 is already active."]}
        budget_owner_set_active(active=False, owner=tree["CC-1101"], actor=None)
        with pytest.raises(ValidationError) as excinfo:
            budget_owner_set_active(active=False, owner=tree["CC-1101"], actor=None)
        assert _errors(excinfo) == {"is_active": ["CC-1101 is already inactive."]}
    assert len(_events(organization, "budget_owner.deactivated")) == 1
