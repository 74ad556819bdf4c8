import pytest
from django_scopes import scope

from apps.owners.selectors import owner_subtree_ids, owner_tree, visible_owner_ids
from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def _codes(tree, ids):
    by_id = {owner.pk: code for code, owner in tree.items()}
    return sorted(by_id[i] for i in ids)


def test_subtree_contains_the_roots_and_every_descendant(world, tree, tree_b):
    with scope(organization=world.org("a")):
        ids = owner_subtree_ids(organization=world.org("a"), root_ids=[tree["CC-1000"].pk])
        assert _codes(tree, ids) == ["CC-1000", "CC-1100", "CC-1101", "CC-1102", "CC-1200", "CC-1201"]
        leaf = owner_subtree_ids(organization=world.org("a"), root_ids=[tree["CC-1102"].pk])
        assert _codes(tree, leaf) == ["CC-1102"]
        # another organisation's ids are not roots here
        assert owner_subtree_ids(organization=world.org("a"), root_ids=[tree_b["CC-1000"].pk]) == set()


def test_a_budget_owner_sees_only_their_subtree(world, tree, tree_b):
    membership = world.memberships[("a", Role.BUDGET_OWNER)]
    with scope(organization=world.org("a")):
        ids = visible_owner_ids(membership=membership)
    assert _codes(tree, ids) == ["CC-1100", "CC-1101", "CC-1102"]


@pytest.mark.parametrize("role", [Role.ORG_ADMIN, Role.FINANCE_ADMIN, Role.FINANCE_ANALYST, Role.VIEWER])
def test_finance_and_viewers_see_everything(world, tree, role):
    with scope(organization=world.org("a")):
        assert visible_owner_ids(membership=world.memberships[("a", role)]) is None


def test_a_budget_owner_without_cost_centres_sees_nothing(world, tree):
    membership = world.memberships[("a", Role.BUDGET_OWNER)]
    with scope(organization=world.org("a")):
        tree["CC-1100"].owner_users.clear()
        assert visible_owner_ids(membership=membership) == set()


def test_tree_rows_are_in_hierarchy_order_with_depth(world, tree):
    with scope(organization=world.org("a")):
        rows = owner_tree(organization=world.org("a"), visible_ids=None)
        assert [(r.owner.code, r.depth) for r in rows] == [
            ("CC-1000", 0),
            ("CC-1100", 1),
            ("CC-1101", 2),
            ("CC-1102", 2),
            ("CC-1200", 1),
            ("CC-1201", 2),
            ("CC-9000", 0),
        ]
        subtree = visible_owner_ids(membership=world.memberships[("a", Role.BUDGET_OWNER)])
        rows = owner_tree(organization=world.org("a"), visible_ids=subtree)
        assert [(r.owner.code, r.depth) for r in rows] == [("CC-1100", 0), ("CC-1101", 1), ("CC-1102", 1)]
