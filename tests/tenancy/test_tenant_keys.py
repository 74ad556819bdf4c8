"""The tenant-key pieces of apps/tenancy/keys.py and TenantModel (issue 22): what SQL they make, on both databases.

The catalog of the migrated database is checked by tests/architecture/test_tenant_keys.py.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, models
from django.db.migrations.state import ModelState
from django.test.utils import CaptureQueriesContext, isolate_apps
from django_scopes import scope, scopes_disabled

from apps.tenancy import keys
from apps.tenancy import models as tenancy_models
from apps.tenancy.keys import (
    TenantForeignKey,
    TenantForeignKeyConstraint,
    TenantOneToOneConstraint,
    TenantOneToOneField,
    TenantPrimaryKey,
    constraint_name,
)
from apps.tenancy.models import Membership, Organization, TenantModel

# ---------------------------------------------------------------- models born with the keys (class_prepared hook


@pytest.fixture
def lab(monkeypatch):
    """Three tenant models of a converted app ("tenancy" with nothing pending), defined in an isolated registry."""
    monkeypatch.setattr(tenancy_models, "PENDING_APPS", frozenset())
    with isolate_apps("apps.tenancy"):

        class Parent(TenantModel):
            name = models.CharField(max_length=20)

            class Meta:
                app_label = "tenancy"

        class Child(TenantModel):
            parent = TenantForeignKey(Parent, on_delete=models.CASCADE, related_name="children")
            amount = models.IntegerField(default=0)

            class Meta:
                app_label = "tenancy"

        class Fact(TenantModel):
            parent = TenantForeignKey(Parent, on_delete=models.DO_NOTHING, tenant_constraint=False, related_name="+")
            twin = TenantOneToOneField(Parent, null=True, on_delete=models.CASCADE, related_name="twin_fact")

            class Meta:
                app_label = "tenancy"

        yield Parent, Child, Fact


def test_a_new_tenant_model_is_born_with_its_composite_keys(lab):
    Parent, Child, Fact = lab
    assert Parent._meta.constraints == [TenantPrimaryKey(name="tenancy_parent_tenant_pk")]
    assert Child._meta.constraints == [
        TenantPrimaryKey(name="tenancy_child_tenant_pk"),
        TenantForeignKeyConstraint(field="parent", name="tenancy_child_parent_id_tfk"),
    ]
    # the opted-out fact reference gets no constraint at all; the one-to-one gets the composite one
    assert Fact._meta.constraints == [
        TenantPrimaryKey(name="tenancy_fact_tenant_pk"),
        TenantOneToOneConstraint(field="twin", name="tenancy_fact_twin_id_tenant_uniq"),
        TenantForeignKeyConstraint(field="twin", name="tenancy_fact_twin_id_tfk"),
    ]
    # makemigrations reads the model's declared options: the constraints are in the CreateModel it writes
    assert ModelState.from_model(Child).options["constraints"] == Child._meta.constraints
    assert not Child._meta.get_field("parent").db_constraint


def test_a_model_of_an_app_not_converted_yet_gets_no_tenant_keys(monkeypatch):
    monkeypatch.setattr(tenancy_models, "PENDING_APPS", frozenset({"tenancy"}))
    with isolate_apps("apps.tenancy"):

        class Pending(TenantModel):
            class Meta:
                app_label = "tenancy"

    assert Pending._meta.constraints == []


def test_the_field_and_constraints_deconstruct_for_migrations(lab):
    _, Child, Fact = lab
    _, path, _, kwargs = Child._meta.get_field("parent").deconstruct()
    assert path == "apps.tenancy.keys.TenantForeignKey"
    assert "db_constraint" not in kwargs and "tenant_constraint" not in kwargs
    assert Fact._meta.get_field("parent").deconstruct()[3]["tenant_constraint"] is False
    constraint = TenantForeignKeyConstraint(field="parent", name="x_parent_id_tfk")
    path, args, kwargs = constraint.deconstruct()
    assert (path, args, kwargs) == (
        "apps.tenancy.keys.TenantForeignKeyConstraint",
        (),
        {"name": "x_parent_id_tfk", "field": "parent"},
    )
    assert TenantForeignKeyConstraint(**kwargs) == constraint
    assert constraint.clone() == constraint
    assert TenantPrimaryKey(name="a") != TenantPrimaryKey(name="b")


def test_long_constraint_names_fit_postgresql():
    name = constraint_name("statements_statementline_with_a_rather_long_table_name", "allocation_line_id_tfk")
    assert len(name) == 63 and name.endswith("_allocation_line_id_tfk")
    assert constraint_name("owners_budget", "tenant_pk") == "owners_budget_tenant_pk"


# ---------------------------------------------------------------- joins carry the organisation


def _sql(queryset) -> str:
    return str(queryset.query).replace('"', "")


@pytest.mark.django_db
def test_every_join_over_a_tenant_foreign_key_carries_the_organisation(lab):
    Parent, Child, _ = lab
    with scopes_disabled():
        forward = _sql(Child.objects.select_related("parent"))
        reverse = _sql(Parent.objects.filter(children__amount__gt=5))
        annotated = _sql(Parent.objects.annotate(n=models.Count("children")))
        excluded = _sql(Parent.objects.exclude(children__amount__gt=5))
    assert (
        "INNER JOIN tenancy_parent ON (tenancy_child.parent_id = tenancy_parent.id AND "
        "(tenancy_child.organization_id = (tenancy_parent.organization_id)))" in forward
    )
    assert (
        "INNER JOIN tenancy_child ON (tenancy_parent.id = tenancy_child.parent_id AND "
        "(tenancy_child.organization_id = (tenancy_parent.organization_id)))" in reverse
    )
    assert (
        "LEFT OUTER JOIN tenancy_child ON (tenancy_parent.id = tenancy_child.parent_id AND "
        "(tenancy_child.organization_id = (tenancy_parent.organization_id)))" in annotated
    )
    # exclude() becomes a correlated subquery: it is correlated on the outer row's organisation too
    assert "U1.organization_id = (tenancy_parent.organization_id)" in excluded.replace("U0", "U1")


def test_reading_a_related_row_filters_by_the_organisation(lab):
    _, Child, _ = lab
    child = Child(organization_id=7, parent_id=3)
    assert Child._meta.get_field("parent").get_extra_descriptor_filter(child) == {"organization_id": 7}


# ---------------------------------------------------------------- constraint DDL


@pytest.mark.django_db
def test_the_constraints_make_postgresql_ddl_and_nothing_elsewhere(lab):
    _, Child, _ = lab
    primary = Child._meta.constraints[0]
    foreign = Child._meta.constraints[1]
    editor = connection.schema_editor(collect_sql=True)  # not entered: it only makes SQL here
    editor.deferred_sql = []
    pk_sql = primary.create_sql(Child, editor)
    fk_sql = foreign.create_sql(Child, editor)
    assert primary.constraint_sql(Child, editor) is None  # inside CREATE TABLE: nothing
    assert foreign.constraint_sql(Child, editor) is None
    deferred = editor.deferred_sql
    if connection.vendor != "postgresql":
        assert (pk_sql, fk_sql, deferred) == (None, None, [])
        return
    assert 'ADD CONSTRAINT "tenancy_child_tenant_pk" PRIMARY KEY ("organization_id", "id")' in pk_sql
    assert (
        'FOREIGN KEY ("organization_id", "parent_id")\n        REFERENCES "tenancy_parent" ("organization_id", "id") '
        "NOT DEFERRABLE" in fk_sql
    )
    assert deferred == [pk_sql, fk_sql]  # after CREATE TABLE, the key before the foreign key


def test_the_one_to_one_field_is_a_tenant_foreign_key(lab):
    _, _, Fact = lab
    field = Fact._meta.get_field("twin")
    assert isinstance(field, TenantForeignKey) and field.one_to_one and not field.db_constraint


# ---------------------------------------------------------------- saving an existing row


@pytest.mark.django_db
def test_saving_a_row_updates_by_organisation_and_never_sets_it(world):
    membership = world.memberships[("a", "viewer")]
    with scope(organization=world.org("a")):
        row = Membership.objects.get(pk=membership.pk)
        row.role = "finance_admin"
        with CaptureQueriesContext(connection) as queries:
            row.save()
    updates = [q["sql"].replace('"', "") for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    set_part, where_part = updates[0].split(" WHERE ")
    assert "organization_id" not in set_part
    assert "tenancy_membership.organization_id = " in where_part and "tenancy_membership.id = " in where_part
    assert Membership._base_manager.get(pk=membership.pk).role == "finance_admin"


@pytest.mark.django_db
def test_a_saved_row_never_changes_organisation(world):
    membership = world.memberships[("a", "viewer")]
    before = Membership._base_manager.count()
    with scopes_disabled():
        row = Membership.objects.get(pk=membership.pk)
        row.organization = world.org("b")
        with pytest.raises(ValidationError) as refused:
            row.save()
    assert refused.value.message_dict == {"organization": ["The organisation of a saved row never changes."]}
    assert Membership._base_manager.count() == before
    assert Membership._base_manager.get(pk=membership.pk).organization_id == world.org("a").pk


@pytest.mark.django_db
def test_a_row_loaded_without_its_organisation_saves_by_id(world):
    membership = world.memberships[("a", "viewer")]
    with scopes_disabled():
        row = Membership.objects.only("role").get(pk=membership.pk)
        row.role = "budget_owner"
        with CaptureQueriesContext(connection) as queries:
            row.save(update_fields=["role"])
    assert len(queries.captured_queries) == 1  # the organisation is not fetched for it
    assert Membership._base_manager.get(pk=membership.pk).role == "budget_owner"


# ---------------------------------------------------------------- the PostgreSQL backend


def test_postgresql_groups_tenant_tables_by_every_selected_column():
    features = connection.features
    if connection.vendor != "postgresql":
        assert connection.vendor == "sqlite"
        assert not features.allows_group_by_selected_pks_on_model(Membership)  # SQLite never does
        return
    assert type(connections["default"]).__module__ == "apps.tenancy.db.postgresql.base"
    assert features.allows_group_by_selected_pks_on_model(Organization)
    assert not features.allows_group_by_selected_pks_on_model(Membership)


def test_pending_apps_are_apps_of_tenant_models():
    from django.apps import apps

    tenant_apps = {model._meta.app_label for model in apps.get_models() if issubclass(model, TenantModel)}
    assert tenant_apps >= keys.PENDING_APPS
