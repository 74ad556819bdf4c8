import pytest
from django.db import transaction
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.owners.selectors import owner_subtree_ids, owner_tree, visible_owner_ids
from apps.tenancy.roles import Role
from tests.factories.owners import BudgetOwnerFactory

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


def test_a_role_without_view_all_cost_that_is_not_budget_owner_sees_nothing(world, tree, monkeypatch):
    from apps.tenancy import roles

    monkeypatch.setitem(roles.ROLE_PERMS, Role.VIEWER, frozenset({roles.Perm.VIEW_ORG}))
    with scope(organization=world.org("a")):
        tree["CC-1100"].owner_users.add(world.user("a", Role.VIEWER))
        assert visible_owner_ids(membership=world.memberships[("a", Role.VIEWER)]) == set()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parents=st.lists(st.integers(min_value=-1, max_value=30), min_size=1, max_size=25), data=st.data())
def test_subtree_matches_walking_up_from_every_node(world, parents, data):
    """Random forests: a node is in the subtree exactly when one of its ancestors (or itself) is a root."""
    organization = world.org("a")
    with scope(organization=organization), transaction.atomic():
        nodes = []
        for index, parent_index in enumerate(parents):
            parent = nodes[parent_index] if 0 <= parent_index < index else None
            nodes.append(BudgetOwnerFactory(organization=organization, code=f"H-{index}", parent=parent))
        roots = data.draw(st.sets(st.sampled_from(range(len(nodes)))))
        root_ids = {nodes[i].pk for i in roots}
        got = owner_subtree_ids(organization=organization, root_ids=root_ids)

        def in_subtree(node) -> bool:
            while node is not None:
                if node.pk in root_ids:
                    return True
                node = node.parent
            return False

        assert got == {node.pk for node in nodes if in_subtree(node)}
        transaction.set_rollback(True)
