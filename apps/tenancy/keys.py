"""Tenant keys: every tenant table is keyed ``(organization_id, id)`` in the database, and every relation between
two tenant tables carries the organisation, so the tables can be distributed by organisation (Citus) and every
join, lookup and update of a row routes to one organisation.

Django's pk stays ``id`` (a globally unique identity): Django 5.2 refuses a ``ForeignKey`` to a model with a
``CompositePrimaryKey`` and the admin refuses such models, so the composite keys live in the database only:

- ``TenantPrimaryKey``: ``PRIMARY KEY (organization_id, id)`` in place of ``PRIMARY KEY (id)``.
- ``TenantForeignKey`` / ``TenantOneToOneField``: a relation to another tenant model with no single-column
  constraint; every join over it (forward, reverse, ``select_related``, M2M through) gains
  ``a.organization_id = b.organization_id``, and ``row.parent`` reads ``WHERE id = %s AND organization_id = %s``.
- ``TenantForeignKeyConstraint``: ``FOREIGN KEY (organization_id, x_id) REFERENCES t (organization_id, id)``.
- ``TenantManyToManyField``: a many-to-many relation through an explicit tenant model; ``add``/``set`` fill the
  link's organisation from the row they start from.

``apps.tenancy.models`` gives every concrete ``TenantModel`` these constraints when its class is prepared, so a
new table is born with them (``makemigrations`` writes them) without anyone remembering to. All of it is
PostgreSQL DDL; on SQLite the constraints are nothing and Django's own keys stay.
"""

from django.db import migrations, models
from django.db.backends.utils import names_digest
from django.db.models.expressions import ResolvedOuterRef
from django.db.models.fields.related_descriptors import ManyToManyDescriptor
from django.db.models.sql.where import AND, WhereNode
from django.utils.functional import cached_property

TENANT_COLUMN = "organization_id"

# Apps whose tables still had PRIMARY KEY (id) and single-column foreign keys while the keys were brought in app by
# app (issue 22; the historical migrations of that conversion read it). Empty: every app is converted, and
# tests/architecture/test_tenant_keys.py holds it so. A model of a listed app would get no tenant constraints.
PENDING_APPS: frozenset[str] = frozenset()

# While a table not converted yet still holds a single-column foreign key to a converted table's id, the
# converted table keeps a UNIQUE (id) under this suffix for it. The composite foreign key that replaces the
# last such reference drops it.
PENDING_UNIQUE_SUFFIX = "id_pending_uniq"


def constraint_name(table: str, suffix: str) -> str:
    """``<table>_<suffix>`` within PostgreSQL's 63 characters (a digest keeps long names unique)."""
    name = f"{table}_{suffix}"
    if len(name) <= 63:
        return name
    return f"{table[: 63 - len(suffix) - 10]}_{names_digest(table, suffix, length=8)}_{suffix}"


def _is_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class TenantForeignKey(models.ForeignKey):
    """A ForeignKey from one tenant model to another; the organisation is part of the relation.

    No single-column database constraint: ``TenantForeignKeyConstraint`` (added by the class_prepared hook) is
    the composite one. ``tenant_constraint=False`` opts out of that too (a fact table written by COPY)."""

    def __init__(self, *args, tenant_constraint: bool = True, **kwargs):
        kwargs["db_constraint"] = False
        self.tenant_constraint = tenant_constraint
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("db_constraint", None)  # always False: not an option of this field
        if not self.tenant_constraint:
            kwargs["tenant_constraint"] = False
        return name, path, args, kwargs

    def get_extra_descriptor_filter(self, instance):
        # ``child.parent`` reads WHERE id = %s AND organization_id = %s: routed to the child's organisation.
        return {"organization_id": getattr(instance, TENANT_COLUMN)}

    def get_extra_restriction(self, alias, related_alias):
        # JOIN parent ON child.parent_id = parent.id AND child.organization_id = parent.organization_id.
        # Reverse joins come here through the relation's own get_extra_restriction, aliases swapped.
        lhs = self.model._meta.get_field("organization")
        rhs = self.related_model._meta.get_field("organization")
        if alias and related_alias:
            pair = (lhs.get_col(related_alias), rhs.get_col(alias))
        elif alias or related_alias:
            # exclude() across the relation: Django turns the join into a correlated subquery and passes one
            # alias. Every row along a tenant relation has the outer row's organisation: correlate on it.
            pair = (lhs.get_col(alias or related_alias), ResolvedOuterRef("organization"))
        else:
            return None
        condition = WhereNode()
        condition.add(lhs.get_lookup("exact")(*pair), AND)
        return condition


class TenantOneToOneField(models.OneToOneField, TenantForeignKey):
    """A one-to-one between tenant models. In Django it is unique as any one-to-one (reverse access and
    select_related need that); in the PostgreSQL database its uniqueness is UNIQUE (organization_id, field)
    (``TenantOneToOneConstraint``, declared by the class_prepared hook), in place of the column's own."""


class TenantPrimaryKey(models.BaseConstraint):
    """PRIMARY KEY (organization_id, id) in place of PRIMARY KEY (id). PostgreSQL only; elsewhere nothing."""

    def _swap_sql(self, model) -> str:
        table = model._meta.db_table
        pending = constraint_name(table, PENDING_UNIQUE_SUFFIX)
        # One statement, run where it stands (also as deferred SQL after CREATE TABLE, which declares the
        # primary key inline). Foreign keys other tables still hold on id (tables converted later) are kept:
        # they are re-created on a UNIQUE (id) that the last composite key replacing them drops.
        return f"""DO $tenant_pk$
DECLARE
    tbl regclass := '"{table}"'::regclass;
    old_pk text;
    kept text[] := ARRAY[]::text[];
    statement text;
BEGIN
    SELECT conname INTO old_pk FROM pg_constraint WHERE conrelid = tbl AND contype = 'p';
    SELECT coalesce(array_agg(format('ALTER TABLE %s ADD CONSTRAINT %I %s',
                                     c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))), kept)
      INTO kept
      FROM pg_constraint c JOIN pg_constraint p ON p.conrelid = tbl AND p.contype = 'p' AND p.conindid = c.conindid
     WHERE c.contype = 'f' AND c.confrelid = tbl AND c.conrelid <> tbl;
    IF old_pk IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I CASCADE', tbl, old_pk);
    END IF;
    ALTER TABLE "{table}" ADD CONSTRAINT "{self.name}" PRIMARY KEY ("{TENANT_COLUMN}", "{model._meta.pk.column}");
    IF cardinality(kept) > 0 THEN
        ALTER TABLE "{table}" ADD CONSTRAINT "{pending}" UNIQUE ("{model._meta.pk.column}");
        FOREACH statement IN ARRAY kept LOOP
            EXECUTE statement;
        END LOOP;
    END IF;
END
$tenant_pk$"""  # noqa: S608 - names from model metadata

    def constraint_sql(self, model, schema_editor):
        # Inside CREATE TABLE: nothing; the swap runs once the table exists (deferred SQL, in order, before
        # the composite foreign keys that need this key).
        if _is_postgresql(schema_editor):
            schema_editor.deferred_sql.append(self._swap_sql(model))
        return None

    def create_sql(self, model, schema_editor):
        return self._swap_sql(model) if _is_postgresql(schema_editor) else None

    def remove_sql(self, model, schema_editor):
        if not _is_postgresql(schema_editor):
            return None
        table = model._meta.db_table
        return (
            f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{self.name}" CASCADE, '
            f'ADD CONSTRAINT "{table}_pkey" PRIMARY KEY ("{model._meta.pk.column}")'
        )

    def validate(self, model, instance, exclude=None, using=None):
        return  # id is unique by its identity; nothing to check in Python

    def __eq__(self, other):
        if isinstance(other, TenantPrimaryKey):
            return self.name == other.name
        return NotImplemented

    def __hash__(self):
        return hash((type(self).__name__, self.name))

    def __repr__(self):
        return f"<TenantPrimaryKey: name={self.name!r}>"


class _FieldConstraint(models.BaseConstraint):
    """A PostgreSQL-only constraint on one relation field, added at the end of the migration (after the
    composite key it depends on) and nothing elsewhere. Subclasses write ``_sql`` and ``remove_sql``."""

    def __init__(self, *, field: str, name: str, **kwargs):
        self.field = field
        super().__init__(name=name, **kwargs)

    def _sql(self, model) -> str:
        raise NotImplementedError

    def constraint_sql(self, model, schema_editor):
        # Inside CREATE TABLE: nothing; added at the end of the migration, after the target's composite key.
        if _is_postgresql(schema_editor):
            schema_editor.deferred_sql.append(self._sql(model))
        return None

    def create_sql(self, model, schema_editor):
        # AddConstraint runs it where it stands: put it after the target's TenantPrimaryKey in the migration.
        return self._sql(model) if _is_postgresql(schema_editor) else None

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs["field"] = self.field
        return path, args, kwargs

    def __eq__(self, other):
        if type(other) is type(self):
            return (self.name, self.field) == (other.name, other.field)
        return NotImplemented

    def __hash__(self):
        return hash((type(self).__name__, self.name, self.field))

    def __repr__(self):
        return f"<{type(self).__name__}: field={self.field!r} name={self.name!r}>"


class TenantForeignKeyConstraint(_FieldConstraint):
    """FOREIGN KEY (organization_id, <field>_id) REFERENCES <target> (organization_id, id), NOT DEFERRABLE.

    Not deferrable on purpose: on Citus a deferred violation surfaces only at COMMIT as XX000 ("could not commit
    transaction for shard ...") and SET CONSTRAINTS is not sent to the workers; immediate gives 23503 at the
    statement. PostgreSQL only; elsewhere nothing (TenantModel.save refuses cross-organisation references)."""

    def _sql(self, model) -> str:
        field = model._meta.get_field(self.field)
        target = field.related_model._meta
        target_table = target.db_table
        pending = constraint_name(target_table, PENDING_UNIQUE_SUFFIX)
        return f"""DO $tenant_fk$
BEGIN
    ALTER TABLE "{model._meta.db_table}" ADD CONSTRAINT "{self.name}"
        FOREIGN KEY ("{TENANT_COLUMN}", "{field.column}")
        REFERENCES "{target_table}" ("{TENANT_COLUMN}", "{field.target_field.column}") NOT DEFERRABLE;
    -- the target's UNIQUE (id) kept for single-column foreign keys of tables converted later: gone with the last
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '"{target_table}"'::regclass AND conname = '{pending}')
       AND NOT EXISTS (
           SELECT 1 FROM pg_constraint f JOIN pg_constraint u ON u.conindid = f.conindid
            WHERE u.conrelid = '"{target_table}"'::regclass AND u.conname = '{pending}' AND f.contype = 'f') THEN
        ALTER TABLE "{target_table}" DROP CONSTRAINT "{pending}";
    END IF;
END
$tenant_fk$"""  # noqa: S608 - names from model metadata

    def remove_sql(self, model, schema_editor):
        if not _is_postgresql(schema_editor):
            return None
        return f'ALTER TABLE "{model._meta.db_table}" DROP CONSTRAINT IF EXISTS "{self.name}"'

    def validate(self, model, instance, exclude=None, using=None):
        return  # TenantModel.save and clean refuse a reference to another organisation's row


class TenantOneToOneConstraint(_FieldConstraint):
    """UNIQUE (organization_id, <field>_id) in place of the one-to-one column's own UNIQUE. PostgreSQL only;
    elsewhere nothing (the column stays unique there, which is the same rule: ids are unique everywhere)."""

    def _sql(self, model) -> str:
        table = model._meta.db_table
        column = model._meta.get_field(self.field).column
        return f"""DO $tenant_one$
DECLARE
    tbl regclass := '"{table}"'::regclass;
    single text;
BEGIN
    FOR single IN SELECT c.conname FROM pg_constraint c
                   WHERE c.conrelid = tbl AND c.contype = 'u' AND c.conkey = ARRAY[
                         (SELECT attnum FROM pg_attribute WHERE attrelid = tbl AND attname = '{column}')]::int2[]
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', tbl, single);
    END LOOP;
    ALTER TABLE "{table}" ADD CONSTRAINT "{self.name}" UNIQUE ("{TENANT_COLUMN}", "{column}");
END
$tenant_one$"""  # noqa: S608 - names from model metadata

    def remove_sql(self, model, schema_editor):
        if not _is_postgresql(schema_editor):
            return None
        table = model._meta.db_table
        column = model._meta.get_field(self.field).column
        return f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{self.name}", ADD UNIQUE ("{column}")'

    def validate(self, model, instance, exclude=None, using=None):
        return  # the field is unique in Django; Model.validate_unique checks it


class TenantManyToManyField(models.ManyToManyField):
    """A many-to-many relation through an explicit tenant model (``through=``). ``add``/``set``/``create`` fill
    the link's organisation (no ``through_defaults``): from the tenant row they start from, or, from the other
    side (a user), from each tenant row added."""

    def contribute_to_class(self, cls, name, **kwargs):
        super().contribute_to_class(cls, name, **kwargs)
        setattr(cls, self.name, _TenantManyToManyDescriptor(self.remote_field, reverse=False))

    def contribute_to_related_class(self, cls, related):
        super().contribute_to_related_class(cls, related)
        if not self.remote_field.hidden and not related.related_model._meta.swapped:
            setattr(cls, related.accessor_name, _TenantManyToManyDescriptor(self.remote_field, reverse=True))


class _TenantManyToManyDescriptor(ManyToManyDescriptor):
    @cached_property
    def related_manager_cls(self):
        base = super().related_manager_cls

        class TenantManyRelatedManager(base):
            def _add_items(self, source_field_name, target_field_name, *objs, through_defaults=None):
                organization_id = getattr(self.instance, TENANT_COLUMN, None)
                if organization_id is not None:
                    through_defaults = {TENANT_COLUMN: organization_id, **(through_defaults or {})}
                    return super()._add_items(
                        source_field_name, target_field_name, *objs, through_defaults=through_defaults
                    )
                # From the side without an organisation: one insert per organisation of the rows added.
                by_organization: dict[int, list] = {}
                pks = [obj for obj in objs if not isinstance(obj, self.model)]
                known = (
                    dict(self.model._base_manager.filter(pk__in=pks).values_list("pk", TENANT_COLUMN)) if pks else {}
                )
                for obj in objs:
                    key = getattr(obj, TENANT_COLUMN) if isinstance(obj, self.model) else known.get(obj)
                    by_organization.setdefault(key, []).append(obj)
                for key, group in by_organization.items():
                    defaults = {TENANT_COLUMN: key, **(through_defaults or {})}
                    super()._add_items(source_field_name, target_field_name, *group, through_defaults=defaults)

        return TenantManyRelatedManager


class AddTenantConstraint(migrations.AddConstraint):
    """AddConstraint for a TenantPrimaryKey or TenantForeignKeyConstraint on an existing table.

    The same state change as AddConstraint; in the database it runs on PostgreSQL only. (SQLite's AddConstraint
    rebuilds the whole table, which would drop its triggers, for a constraint that is nothing there.)"""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgresql(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Add tenant constraint {self.constraint.name} on model {self.model_name}"
