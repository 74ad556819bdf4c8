import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.owners import catalog_io
from apps.owners.models import Budget, BudgetOwner
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory
from tests.factories.owners import BudgetFactory

pytestmark = pytest.mark.django_db


def _counts(organization):
    with scope(organization=organization):
        return BudgetOwner.objects.count(), Budget.objects.count(), AuditEvent.objects.count()


def _import(organization, owner_rows, budget_rows=(), actor=None):
    """What import_catalog does: validate every section, then apply them all in one transaction."""
    context: dict = {}
    errors = catalog_io.validate_section(organization=organization, rows=owner_rows, context=context)
    errors += catalog_io.validate_budgets(organization=organization, rows=list(budget_rows), context=context)
    if errors:
        return errors, None
    with transaction.atomic():
        owners = catalog_io.apply_section(organization=organization, rows=owner_rows, actor=actor)
        budgets = catalog_io.apply_budgets(organization=organization, rows=list(budget_rows), actor=actor)
    return [], (owners, budgets)


def test_export_apply_into_the_other_org_and_export_again_gives_the_same_data(world, tree):
    a, b = world.org("a"), world.org("b")
    with scope(organization=a):
        tree["CC-1101"].department = "ENG-SEARCH"
        tree["CC-1101"].save()
        BudgetFactory(owner=tree["CC-1101"], period=datetime.date(2026, 9, 1), amount=Decimal("12500.00"))
        BudgetFactory(owner=tree["CC-1102"], period=datetime.date(2026, 10, 1), amount=Decimal("0.10"), currency="USD")
    with scope(organization=b):
        MembershipFactory(organization=b, user=world.user("a", Role.BUDGET_OWNER), role=Role.BUDGET_OWNER)
    owners = catalog_io.export_section(organization=a)
    budgets = catalog_io.export_budgets(organization=a)
    assert owners[1] == {
        "code": "CC-1100",
        "name": "Cost centre CC-1100",
        "parent": "CC-1000",
        "gl_account": "6420-AI-Services",
        "department": "",
        "company_code": "US01",
        "erp_class": "",
        "location": "",
        "owner_users": ["alpha-budget_owner"],
        "is_active": True,
        "is_central": False,
    }
    assert budgets == [
        {"owner": "CC-1101", "period": "2026-09", "amount": "12500.00", "currency": "USD"},
        {"owner": "CC-1102", "period": "2026-10", "amount": "0.10", "currency": "USD"},
    ]

    # rows come children-first here on purpose: the import orders them itself
    errors, result = _import(b, list(reversed(owners)), budgets)
    assert errors == []
    assert result == (
        {"created": 7, "updated": 0, "unchanged": 0},
        {"created": 2, "updated": 0, "unchanged": 0},
    )
    assert catalog_io.export_section(organization=b) == owners
    assert catalog_io.export_budgets(organization=b) == budgets

    events_before = _counts(b)[2]
    assert _import(b, owners, budgets)[1] == (
        {"created": 0, "updated": 0, "unchanged": 7},
        {"created": 0, "updated": 0, "unchanged": 2},
    )
    assert _counts(b)[2] == events_before  # re-importing the same file changes nothing


def test_csv_round_trips(world, tree):
    owners = catalog_io.export_section(organization=world.org("a"))
    text = catalog_io.rows_to_csv(owners)
    # Every text cell is quoted (see apps/core/csv.py); the header is text too.
    assert text.splitlines()[0] == ",".join(f'"{column}"' for column in catalog_io.CSV_COLUMNS)
    assert (
        '"CC-1100","Cost centre CC-1100","CC-1000","6420-AI-Services","","US01","","",'
        '"alpha-budget_owner","true","false"' in text.splitlines()
    )
    assert catalog_io.rows_from_csv(text) == owners
    budgets = [{"owner": "CC-1101", "period": "2026-09", "amount": "12500.00", "currency": "USD"}]
    assert catalog_io.budget_rows_from_csv(catalog_io.budget_rows_to_csv(budgets)) == budgets


def test_an_invalid_row_is_reported_with_its_label_and_field_and_nothing_is_written(world, tree):
    organization = world.org("a")
    before = _counts(organization)
    rows = [
        {"code": "CC-1300", "name": "Data & ML", "parent": "CC-1000"},
        {"code": "CC-1301", "name": "Data Platform", "parent": "CC-1399"},
        {"code": "CC-1302", "name": "", "parent": "CC-1300", "owner_users": ["alpha-viewer"], "is_central": "maybe"},
        {"name": "no code"},
    ]
    errors, result = _import(organization, rows)
    assert result is None
    assert errors == [
        ("budget_owners[CC-1301]", "parent", "No cost centre has the code 'CC-1399', here or in the file."),
        ("budget_owners[CC-1302]", "name", "Give the cost centre a name."),
        ("budget_owners[CC-1302]", "is_central", "Use true or false."),
        (
            "budget_owners[CC-1302]",
            "owner_users",
            "alpha-viewer is not a budget owner here: give them the Budget owner role first.",
        ),
        ("budget_owners[3]", "code", "Give the cost centre a code, e.g. CC-1001."),
    ]
    assert _counts(organization) == before
    with pytest.raises(ValueError, match="invalid rows"), scope(organization=organization):
        catalog_io.apply_section(organization=organization, rows=rows, actor=None)
    assert _counts(organization) == before


def test_hierarchy_is_checked_on_the_state_after_the_import(world, tree):
    organization = world.org("a")
    loop = [{"code": "CC-1000", "name": "P&E", "parent": "CC-1101"}]
    errors = catalog_io.validate_section(organization=organization, rows=loop, context={})
    assert errors == [
        ("budget_owners[CC-1000]", "parent", "This would make a loop: CC-1000 → CC-1101 → CC-1100 → CC-1000.")
    ]
    orphaning = [{"code": "CC-1200", "name": "CX", "is_active": False}]
    errors = catalog_io.validate_section(organization=organization, rows=orphaning, context={})
    assert errors == [
        (
            "budget_owners[CC-1200]",
            "is_active",
            "CC-1200 would be inactive while CC-1201 below it stays active: deactivate CC-1201 too or move it.",
        )
    ]
    duplicate = [{"code": "CC-7", "name": "x"}, {"code": "cc-7", "name": "y"}]
    errors = catalog_io.validate_section(organization=organization, rows=duplicate, context={})
    assert errors == [("budget_owners[cc-7]", "code", "cc-7 appears more than once in the file.")]


def test_a_branch_is_deactivated_and_a_subtree_moved_in_one_import(world, tree):
    organization = world.org("a")
    rows = [
        {"code": "CC-1200", "name": "Cost centre CC-1200", "is_active": False},
        {"code": "CC-1201", "name": "Cost centre CC-1201", "is_active": False},
        {"code": "CC-1100", "name": "Search & Discovery", "parent": "CC-9000"},
    ]
    errors, result = _import(organization, rows)
    assert errors == []
    assert result[0] == {"created": 0, "updated": 3, "unchanged": 0}
    with scope(organization=organization):
        assert set(BudgetOwner.objects.filter(is_active=False).values_list("code", flat=True)) == {
            "CC-1200",
            "CC-1201",
        }
        moved = BudgetOwner.objects.get(code="CC-1100")
        assert (moved.parent.code, moved.name) == ("CC-9000", "Search & Discovery")
        # keys left out keep their values
        assert moved.gl_account == "6420-AI-Services"
        assert list(moved.owner_users.values_list("username", flat=True)) == ["alpha-budget_owner"]
        actions = list(AuditEvent.objects.order_by("seq").values_list("action", "object_id"))
    assert ("budget_owner.deactivated", str(tree["CC-1201"].pk)) in actions
    assert actions.index(("budget_owner.deactivated", str(tree["CC-1201"].pk))) < actions.index(
        ("budget_owner.deactivated", str(tree["CC-1200"].pk))
    )


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"owner": "CC-1101", "period": "2026-10", "amount": 12500.5}, "amount", "Write the amount as a string"),
        ({"owner": "CC-1101", "period": "2026-10", "amount": "-3"}, "amount", "A budget cannot be negative."),
        ({"owner": "CC-1101", "period": "10/2026", "amount": "1"}, "period", "Give the month as YYYY-MM"),
        ({"owner": "CC-4040", "period": "2026-10", "amount": "1"}, "owner", "No cost centre has the code 'CC-4040'"),
        (
            {"owner": "CC-1101", "period": "2026-10", "amount": "1", "currency": "euro"},
            "currency",
            "Use a three-letter",
        ),
        (
            {"owner": "CC-1101", "period": "2026-10", "amount": "1", "currency": "EUR"},
            "currency",
            "Budgets are kept in the organisation's base currency, USD: write this budget in USD, not EUR.",
        ),
    ],
)
def test_invalid_budget_rows(world, tree, row, field, message):
    errors = catalog_io.validate_budgets(organization=world.org("a"), rows=[row], context={})
    assert len(errors) == 1
    label, error_field, error_message = errors[0]
    assert label == f"budgets[{row['owner']} {row['period']}]"
    assert error_field == field and error_message.startswith(message)


def test_budgets_may_name_cost_centres_created_by_the_same_file(world, tree):
    organization = world.org("a")
    owners = [{"code": "CC-1103", "name": "Query Understanding", "parent": "CC-1100"}]
    budgets = [{"owner": "CC-1103", "period": "2026-10", "amount": 4000}]
    errors, result = _import(organization, owners, budgets)
    assert errors == []
    assert result == ({"created": 1, "updated": 0, "unchanged": 0}, {"created": 1, "updated": 0, "unchanged": 0})
    with scope(organization=organization):
        budget = Budget.objects.get(owner__code="CC-1103")
    assert (budget.amount, budget.currency, budget.period) == (Decimal("4000.00"), "USD", datetime.date(2026, 10, 1))
    # without the owners section, the same budget row is refused for an unknown code
    errors = catalog_io.validate_budgets(
        organization=organization, rows=[{**budgets[0], "owner": "CC-1104"}], context={}
    )
    assert errors[0][1] == "owner"


def test_sections_registry_lists_both_sections_in_import_order():
    assert list(catalog_io.SECTIONS) == ["budget_owners", "budgets"]
    assert catalog_io.SECTIONS["budget_owners"].apply_section is catalog_io.apply_section
