"""Record the SQL a process sends through Django, and judge it with ``tests.routing.checker``.

``StatementLog`` is an execute wrapper (``connection.execute_wrappers``): every statement of every alias, raw
cursor SQL included, in every thread (the wrapper is put on each connection as it opens), is counted by its
text with the origin (the test, or the command) that first sent it. Statements that bypass Django's cursor
(psycopg's ``COPY`` in the usage writer) are not seen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connections
from django.db.backends.signals import connection_created

from . import checker


class StatementLog:
    """Statement text → executions and the first origin; records only while ``origin`` is set and not paused."""

    def __init__(self):
        self._lock = threading.Lock()
        self._statements: dict[str, list] = {}  # text -> [executions, order, origin]
        self.origin: str | None = None
        self.paused = 0

    def __call__(self, execute, sql, params, many, context):
        origin = self.origin
        if origin is not None and not self.paused:
            with self._lock:
                entry = self._statements.get(sql)
                if entry is None:
                    self._statements[sql] = [1, len(self._statements), origin]
                else:
                    entry[0] += 1
        return execute(sql, params, many, context)

    def statements(self) -> dict[str, tuple[int, int, str]]:
        with self._lock:
            return {sql: tuple(entry) for sql, entry in self._statements.items()}

    def texts(self) -> list[str]:
        return list(self.statements())

    # connections

    def _attach(self, connection) -> None:
        if self not in connection.execute_wrappers:
            connection.execute_wrappers.append(self)

    def _on_connection_created(self, sender, connection, **kwargs) -> None:
        self._attach(connection)

    def install(self) -> None:
        """Wrap every connection of this thread now and every connection any thread opens from now on."""
        connection_created.connect(self._on_connection_created, weak=False, dispatch_uid=id(self))
        for connection in connections.all(initialized_only=True):
            self._attach(connection)

    def uninstall(self) -> None:
        connection_created.disconnect(dispatch_uid=id(self))
        for connection in connections.all(initialized_only=True):
            if self in connection.execute_wrappers:
                connection.execute_wrappers.remove(self)


def tenant_tables() -> tuple[frozenset[str], frozenset[str]]:
    """(tables checked, tables exempt): every TenantModel's table and the automatic many-to-many tables of tenant
    models, from the models; those of apps still in ``apps.tenancy.keys.PENDING_APPS`` are exempt (their keys
    are not converted yet), so the exemption ends by itself when PENDING_APPS is empty."""
    from django.apps import apps

    from apps.tenancy import keys
    from apps.tenancy.models import TenantModel

    checked, exempt = set(), set()
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        tables = {model._meta.db_table}
        for relation in model._meta.local_many_to_many:
            if relation.remote_field.through._meta.auto_created:
                tables.add(relation.remote_field.through._meta.db_table)
        (exempt if model._meta.app_label in keys.PENDING_APPS else checked).update(tables)
    return frozenset(checked), frozenset(exempt - checked)


@dataclass
class Shape:
    text: str  # the first statement of this shape, as sent
    executions: int
    origin: str
    offences: list[checker.Offence] = field(default_factory=list)
    pending: list[checker.Offence] = field(default_factory=list)  # offences only once PENDING_APPS are converted
    unparsed: str | None = None


@dataclass
class Report:
    executions: int  # every statement sent
    distinct: int  # distinct texts of the statements checked (SELECT, INSERT, UPDATE, DELETE, WITH)
    shapes: list[Shape]
    other: int  # executions not checked (SAVEPOINT, SET, DDL…)
    exempt_tables: frozenset[str]

    @property
    def flagged(self) -> list[Shape]:
        return [s for s in self.shapes if s.offences]

    @property
    def unparsed(self) -> list[Shape]:
        return [s for s in self.shapes if s.unparsed]

    @property
    def pending(self) -> list[Shape]:
        return [s for s in self.shapes if s.pending and not s.offences]

    @property
    def failed(self) -> bool:
        return bool(self.flagged or self.unparsed)

    def summary(self) -> str:
        line = (
            f"query routing: {self.executions} statements seen ({self.other} not DML), {self.distinct} distinct, "
            f"{len(self.shapes)} shapes checked, {len(self.flagged)} flagged, {len(self.unparsed)} unparsed"
        )
        if self.exempt_tables:
            line += f"; {len(self.pending)} more once {len(self.exempt_tables)} pending tables are converted"
        return line

    def lines(self, *, width: int = 400) -> list[str]:
        out = []
        for title, shapes, what in (
            ("statements a distributed database could not route", self.flagged, "offences"),
            ("statements that could not be parsed (not proven routed)", self.unparsed, "unparsed"),
            ("on tables of pending apps (exempt until converted)", self.pending, "pending"),
        ):
            if not shapes:
                continue
            out.append(f"{title}: {len(shapes)}")
            for s in sorted(shapes, key=lambda s: (str(getattr(s, what)), s.text)):
                reasons = [s.unparsed] if what == "unparsed" else [str(o) for o in getattr(s, what)]
                for reason in reasons:
                    out.append(f"  - {reason}")
                out.append(f"    {s.executions}x, first by {s.origin}")
                text = " ".join(checker.shape(s.text).split())
                out.append(f"    {text[:width]}{' …' if len(text) > width else ''}")
        return out


def analyse(statements: dict[str, tuple[int, int, str]], checked: Iterable[str], exempt: Iterable[str]) -> Report:
    """Group statements by shape and check one statement of each shape (the first sent)."""
    checked, everything = frozenset(checked), frozenset(checked) | frozenset(exempt)
    grouped: dict[str, list] = {}
    other = distinct = 0
    for sql, (executions, order, origin) in statements.items():
        if not checker.is_dml(sql):
            other += executions
            continue
        distinct += 1
        key = checker.shape(sql)
        group = grouped.get(key)
        if group is None:
            grouped[key] = [executions, order, origin, sql]
        else:
            group[0] += executions
            if order < group[1]:
                group[1:] = [order, origin, sql]
    shapes = []
    for executions, _order, origin, sql in sorted(grouped.values(), key=lambda g: g[1]):
        found = Shape(text=sql, executions=executions, origin=origin)
        try:
            found.offences = checker.check(sql, checked)
            if everything != checked:
                found.pending = [o for o in checker.check(sql, everything) if o not in found.offences]
        except checker.Unparsed as error:
            found.unparsed = str(error)
        shapes.append(found)
    return Report(
        executions=sum(entry[0] for entry in statements.values()),
        distinct=distinct,
        shapes=shapes,
        other=other,
        exempt_tables=everything - checked,
    )
