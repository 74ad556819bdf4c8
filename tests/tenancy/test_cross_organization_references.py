"""The model layer refuses a reference from one organisation's row to another's, whatever the entry point
(admin, API, service, catalog import): ``TenantModel.clean``/``save`` for foreign keys, ``m2m_changed`` for
many-to-many links. Loaded references are compared in memory; ids alone cost one query for all of them."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django_scopes import scopes_disabled

from apps.owners.models import Budget
from apps.taxonomy.models import TagAlias
from apps.tenancy.models import cross_organization_errors
from apps.tenancy.roles import Role
from tests.factories.invoices import InvoiceIngestJobFactory, ProviderInvoiceFactory
from tests.factories.owners import BudgetFactory, BudgetOwnerFactory
from tests.factories.taxonomy import TagDimensionFactory, TagValueFactory

pytestmark = pytest.mark.django_db

OWNER_MESSAGE = {"owner": ["Owner must belong to the same organisation as this budget."]}


@pytest.fixture
def owners(world):
    with scopes_disabled():
        return BudgetOwnerFactory(organization=world.org("a"), code="CC-A"), BudgetOwnerFactory(
            organization=world.org("b"), code="CC-B"
        )


def _budget(world, **kwargs) -> Budget:
    return Budget(
        organization=world.org("a"),
        period=datetime.date(2026, 10, 1),
        amount=Decimal("10.00"),
        currency="USD",
        **kwargs,
    )


def test_a_budget_pointing_at_another_organisations_cost_centre_is_refused(world, owners):
    _, globex_owner = owners
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        _budget(world, owner=globex_owner).save()
    assert refused.value.message_dict == OWNER_MESSAGE
    with scopes_disabled():
        assert not Budget.objects.exists()


def test_a_reference_given_by_id_only_is_checked_with_one_query(world, owners, django_assert_num_queries):
    _, globex_owner = owners
    budget = _budget(world, owner_id=globex_owner.pk)
    with django_assert_num_queries(1), pytest.raises(ValidationError) as refused:
        budget.save()
    assert refused.value.message_dict == OWNER_MESSAGE


def test_full_clean_names_the_field(world, owners):
    _, globex_owner = owners
    with pytest.raises(ValidationError) as refused:
        _budget(world, owner=globex_owner).full_clean()
    assert refused.value.message_dict == OWNER_MESSAGE


def test_loaded_references_of_the_same_organisation_cost_no_query(world, owners, django_assert_num_queries):
    acme_owner, _ = owners
    budget = _budget(world, owner=acme_owner)
    with django_assert_num_queries(1):  # the INSERT alone
        budget.save()
    budget.amount = Decimal("20.00")
    with django_assert_num_queries(1):  # an update of other fields does not look at the references
        budget.save(update_fields=["amount"])


def test_several_references_by_id_are_checked_in_one_query(world, django_assert_num_queries):
    with scopes_disabled():
        globex_value = TagValueFactory(dimension=TagDimensionFactory(organization=world.org("b"), key="team"))
    alias = TagAlias(
        organization=world.org("a"), dimension_id=globex_value.dimension_id, value_id=globex_value.pk, alias="x"
    )
    with django_assert_num_queries(1):
        errors = cross_organization_errors(alias)
    assert errors == {
        "dimension": "Dimension must belong to the same organisation as this tag alias.",
        "value": "Value must belong to the same organisation as this tag alias.",
    }


def test_an_update_of_the_reference_alone_is_checked(world, owners):
    acme_owner, globex_owner = owners
    with scopes_disabled():
        budget = BudgetFactory(owner=acme_owner)
    budget.owner_id = globex_owner.pk
    with pytest.raises(ValidationError) as refused:
        budget.save(update_fields=["owner"])
    assert refused.value.message_dict == OWNER_MESSAGE
    with scopes_disabled():
        assert Budget.objects.get(pk=budget.pk).owner_id == acme_owner.pk


def test_a_row_cannot_move_to_another_organisation_away_from_its_references(world, owners):
    acme_owner, _ = owners
    with scopes_disabled():
        budget = BudgetFactory(owner=acme_owner)
    budget.organization = world.org("b")
    with pytest.raises(ValidationError) as refused:
        budget.save()
    assert refused.value.message_dict == OWNER_MESSAGE


def test_a_cost_centre_cannot_have_another_organisations_parent(world, owners):
    acme_owner, globex_owner = owners
    acme_owner.parent = globex_owner
    with pytest.raises(ValidationError) as refused:
        acme_owner.save()
    assert refused.value.message_dict == {
        "parent": ["Parent must belong to the same organisation as this budget owner."]
    }


def test_owner_users_must_be_members_from_either_side(world, owners):
    acme_owner, _ = owners
    globex_user = world.user("b", Role.BUDGET_OWNER)
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        acme_owner.owner_users.add(globex_user)
    assert refused.value.message_dict == {
        "owner_users": ["Owner users must all be members of the budget owner's own organisation."]
    }
    with pytest.raises(ValidationError), transaction.atomic():
        globex_user.owned_cost_centres.add(acme_owner)
    with pytest.raises(ValidationError), transaction.atomic():
        acme_owner.owner_users.set([world.user("a", Role.BUDGET_OWNER), globex_user])
    acme_member = world.user("a", Role.BUDGET_OWNER)
    acme_owner.owner_users.add(acme_member)
    acme_member.owned_cost_centres.add(acme_owner)
    assert list(acme_owner.owner_users.all()) == [acme_member]


def test_an_invoice_job_cannot_list_another_organisations_invoice(world):
    with scopes_disabled():
        job = InvoiceIngestJobFactory(organization=world.org("a"))
        own = ProviderInvoiceFactory(organization=world.org("a"))
        foreign = ProviderInvoiceFactory(organization=world.org("b"))
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        job.invoices.add(own, foreign)
    assert refused.value.message_dict == {
        "invoices": ["Invoices must all be of the invoice ingest job's own organisation."]
    }
    with pytest.raises(ValidationError), transaction.atomic():
        foreign.jobs.add(job)
    job.invoices.add(own)
    with scopes_disabled():
        assert list(job.invoices.all()) == [own]


def test_a_partly_loaded_row_saves_without_fetching_its_references(world, owners, django_assert_num_queries):
    with scopes_disabled():
        budget_id = BudgetFactory(owner=owners[0]).pk
        budget = Budget.objects.only("amount").get(pk=budget_id)
    budget.amount = Decimal("30.00")
    with django_assert_num_queries(1):  # the UPDATE of the loaded field alone
        budget.save()
