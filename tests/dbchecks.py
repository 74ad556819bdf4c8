"""Assertions about errors the database raised, that hold on PostgreSQL and on a Citus coordinator alike.

Citus keeps a single-shard statement's SQLSTATE but not the constraint's name: ``diag.constraint_name`` is empty
and the message names the shard's copy of the constraint (``owners_budget_owner_id_tfk_102890``; a long name is
cut and given a hash first). An error a trigger raises in a multi-shard statement comes back as InternalError.
"""

import re

FOREIGN_KEY_VIOLATION = "23503"


def assert_refused_by(error: Exception, constraint: str, sqlstate: str = FOREIGN_KEY_VIOLATION) -> None:
    """``error`` (Django's, wrapping psycopg's) is a refusal by ``constraint``, or by a shard's copy of it."""
    cause = error.__cause__
    assert cause is not None, error
    assert cause.sqlstate == sqlstate, (cause.sqlstate, str(cause))
    named = cause.diag.constraint_name
    if named is not None:  # plain PostgreSQL names it
        assert named == constraint, named
    else:
        # the shard's copy: the name (or, when long, its first 40 characters, then a hash), then the shard's id
        assert re.search(rf'constraint "{re.escape(constraint[:40])}\w*_\d+"', str(cause)), str(cause)


def trigger_refusal_classes() -> tuple[type[Exception], ...]:
    """What a refusal raised by a trigger comes back as: IntegrityError, or on a Citus coordinator, where a
    statement that runs on several shards loses its SQLSTATE, also InternalError."""
    from django.db import IntegrityError, InternalError, connection

    if connection.vendor != "postgresql":
        return (IntegrityError,)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
        return (IntegrityError, InternalError) if cursor.fetchone() else (IntegrityError,)


def migrate_to_latest() -> None:
    """Apply every migration (the leaves of the graph): for the migration tests, which go back to an earlier
    state of one app and so also unapply whatever later migrations of other apps depend on it."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
