"""Which SQL statements a database distributed by organisation could not route (issue 22).

Pure functions over SQL text (parsed with sqlglot, PostgreSQL dialect) and a set of tenant table names; no
Django here. The rules, each an ``Offence``:

- ``join``: a JOIN of two tenant tables without ``a.organization_id = b.organization_id`` in its ON (INNER or
  OUTER; a comma join may carry it in the WHERE, ``USING (organization_id, …)`` counts too);
- ``correlated subquery``: a subquery over tenant tables that refers to an outer tenant table without
  ``inner.organization_id = outer.organization_id`` among its conditions;
- ``update sets organization_id``: ``UPDATE <tenant> SET organization_id = …`` (also ``ON CONFLICT DO UPDATE``);
- ``row lock``: ``SELECT … FOR UPDATE/SHARE`` locking a tenant table without ``organization_id = <value>`` in
  its WHERE (for the locked table, or a table joined to it on the organisation).

An equality counts only where it binds: a top-level conjunct of the ON or WHERE, never inside an OR or NOT.
Tables of global models (``auth_user``, ``tenancy_organization``, the price book) join freely.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

TENANT_COLUMN = "organization_id"

# sqlglot logs every PostgreSQL array subscript it reads at INFO: not news for a test run's output.
logging.getLogger("sqlglot").setLevel(logging.WARNING)

# Statements that read or write rows: the ones checked. The rest (SAVEPOINT, SET, DDL…) are counted, not parsed.
DML_KEYWORDS = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True, order=True)
class Offence:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


class Unparsed(Exception):
    """sqlglot could not parse the statement: it is reported, never taken as routed."""


# --- statement shapes ---------------------------------------------------------------------------------------

_PLACEHOLDER = r"(?:%s|%\(\w+\)s)"
_PLACEHOLDER_LIST = re.compile(rf"\(\s*{_PLACEHOLDER}(?:\s*,\s*{_PLACEHOLDER})+\s*\)")
_REPEATED_ROWS = re.compile(r"\(%s\)(?:\s*,\s*\(%s\))+")
_LITERAL = re.compile(r"'(?:[^']|'')*'|(?<![\w\"$.])\d+(?:\.\d+)?(?![\w\"])")


def collapse(sql: str) -> str:
    """The statement with every list of placeholders (``IN (%s, %s, …)``, each VALUES row) written once and
    repeated VALUES rows written once: still valid SQL, so this is what gets parsed."""
    return _REPEATED_ROWS.sub("(%s)", _PLACEHOLDER_LIST.sub("(%s)", sql))


def shape(sql: str) -> str:
    """Statements that differ only in their values (placeholders or literals) and list lengths share a shape
    (and a verdict)."""
    return re.sub(_PLACEHOLDER, "?", _LITERAL.sub("?", collapse(sql)))


def is_dml(sql: str) -> bool:
    return sql.lstrip(" \t\n(").upper().startswith(DML_KEYWORDS)


# --- conditions ----------------------------------------------------------------------------------------------


def _unwrap(node):
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _conjuncts(condition) -> list:
    """The top-level AND terms of a condition (parentheses looked through); an OR or NOT is one opaque term."""
    if condition is None:
        return []
    node = _unwrap(condition.this if isinstance(condition, exp.Where) else condition)
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _tenant_column(node) -> exp.Column | None:
    node = _unwrap(node)
    if isinstance(node, exp.Cast):
        node = _unwrap(node.this)
    if isinstance(node, exp.Column) and node.name == TENANT_COLUMN:
        return node
    return None


def _is_value(node) -> bool:
    """A placeholder, a literal, or a cast of one: a single organisation, known when the statement runs."""
    node = _unwrap(node)
    if isinstance(node, exp.Cast):
        node = _unwrap(node.this)
    return isinstance(node, exp.Placeholder | exp.Literal | exp.Parameter)


def _organisation_pairs(conjuncts) -> set[frozenset[str]]:
    """``{qualifier a, qualifier b}`` for every ``a.organization_id = b.organization_id`` among the terms."""
    pairs = set()
    for term in conjuncts:
        if isinstance(term, exp.EQ):
            left, right = _tenant_column(term.left), _tenant_column(term.right)
            if left is not None and right is not None and left.table != right.table:
                pairs.add(frozenset((left.table, right.table)))
    return pairs


def _pinned(conjuncts) -> set[str]:
    """Qualifiers (``""`` for an unqualified column) with ``organization_id = <value>`` among the terms."""
    pinned = set()
    for term in conjuncts:
        if isinstance(term, exp.EQ):
            for column, other in ((term.left, term.right), (term.right, term.left)):
                column = _tenant_column(column)
                if column is not None and _is_value(other):
                    pinned.add(column.table)
    return pinned


# --- sources of a query ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    qualifier: str  # the alias, or the table name
    table: str  # the table name; for a derived table or CTE, its alias
    tenant: bool
    join: exp.Join | None  # None for the FROM source


class _Tables:
    """What is tenant data in one statement: tenant tables by name, and CTEs / derived tables built on them."""

    def __init__(self, tree, tenant: frozenset[str]):
        self.tenant = tenant
        self.cte_tenant = {}
        for cte in tree.find_all(exp.CTE):
            self.cte_tenant[cte.alias_or_name] = self.reads_tenant(cte.this)

    def reads_tenant(self, node) -> bool:
        return any(self.is_tenant_table(t) for t in node.find_all(exp.Table))

    def is_tenant_table(self, table: exp.Table) -> bool:
        if table.name in self.cte_tenant and not table.db:
            return self.cte_tenant[table.name]
        return table.name in self.tenant

    def source(self, node, join) -> _Source | None:
        if isinstance(node, exp.Table):
            return _Source(node.alias_or_name, node.name, self.is_tenant_table(node), join)
        if isinstance(node, exp.Subquery):
            return _Source(node.alias_or_name, node.alias_or_name or "(subquery)", self.reads_tenant(node.this), join)
        return None

    def sources(self, query) -> list[_Source]:
        """The FROM source and joined sources of a SELECT, or the target (and FROM / USING) of an UPDATE or
        DELETE, in the order they are written."""
        found = []
        if isinstance(query, exp.Update | exp.Delete):
            found.append(self.source(query.this, None))
            extra = query.args.get("using") or []
            from_ = query.args.get("from_")
            if from_ is not None:
                extra = [from_.this, *extra]
            found += [self.source(node, None) for node in extra]
        else:
            from_ = query.args.get("from_")
            if from_ is not None:
                found.append(self.source(from_.this, None))
        found += [self.source(join.this, join) for join in query.args.get("joins") or []]
        return [source for source in found if source is not None]


def _own_nodes(query):
    """Every node of a query's own clauses, not descending into nested SELECTs (they are checked on their own)."""
    stack = list(query.iter_expressions())
    while stack:
        node = stack.pop()
        yield node
        stack.extend(child for child in node.iter_expressions() if not isinstance(child, exp.Select))


def _enclosing_queries(query):
    node = query.parent
    while node is not None:
        if isinstance(node, exp.Select | exp.Update | exp.Delete):
            yield node
        node = node.parent


# --- the rules -----------------------------------------------------------------------------------------------


def _check_joins(query, sources, where_terms) -> list[Offence]:
    offences = []
    before: list[_Source] = []
    for source in sources:
        if source.tenant and before:
            # an explicit JOIN carries the equality in its ON; a comma join (or UPDATE … FROM, DELETE … USING)
            # in the WHERE
            join = source.join
            on = join.args.get("on") if join is not None else None
            using = {identifier.name for identifier in join.args.get("using") or []} if join is not None else set()
            terms = _conjuncts(on) if on is not None else where_terms
            earlier = {b.qualifier for b in before}
            routed = TENANT_COLUMN in using or any(
                source.qualifier in pair and (pair - {source.qualifier}) & earlier
                for pair in _organisation_pairs(terms)
            )
            if not routed:
                kind = " ".join(part for part in (join.side, join.kind) if part) if join is not None else ""
                offences.append(
                    Offence("join", f"{', '.join(b.table for b in before)} {kind or 'INNER'} JOIN {source.table}")
                )
        if source.tenant:
            before.append(source)
    return offences


def _check_correlation(query, sources, tables: _Tables) -> list[Offence]:
    own = {source.qualifier for source in sources}
    inner_tenant = {source.qualifier: source.table for source in sources if source.tenant}
    if not inner_tenant:
        return []
    outer_tenant = {}
    for outer in _enclosing_queries(query):
        for source in tables.sources(outer):
            if source.tenant and source.qualifier not in own:
                outer_tenant.setdefault(source.qualifier, source.table)
    referenced = {
        node.table
        for node in _own_nodes(query)
        if isinstance(node, exp.Column) and node.table in outer_tenant and node.table not in own
    }
    if not referenced:
        return []
    terms = _conjuncts(query.args.get("where"))
    for join in query.args.get("joins") or []:
        terms += _conjuncts(join.args.get("on"))
    for pair in _organisation_pairs(terms):
        if pair & inner_tenant.keys() and pair & referenced:
            return []
    return [
        Offence(
            "correlated subquery",
            f"{', '.join(sorted(set(inner_tenant.values())))} correlated to "
            f"{', '.join(sorted(outer_tenant[q] for q in referenced))}",
        )
    ]


def _check_lock(query, sources, where_terms) -> list[Offence]:
    locks = query.args.get("locks") or []
    if not locks:
        return []
    by_qualifier = {source.qualifier: source for source in sources}
    locked = set()
    for lock in locks:
        named = [table.name for table in lock.expressions or []]
        locked |= {q for q in (named or by_qualifier) if q in by_qualifier and by_qualifier[q].tenant}
    if not locked:
        return []
    pinned = _pinned(where_terms)
    if "" in pinned and sources:
        pinned.add(sources[0].qualifier)
    # organisation equality in the join conditions carries the pin to the joined tables
    pairs = set()
    for source in sources:
        if source.join is not None:
            pairs |= _organisation_pairs(_conjuncts(source.join.args.get("on")))
    grown = True
    while grown:
        grown = False
        for pair in pairs:
            if pair & pinned and not pair <= pinned:
                pinned |= pair
                grown = True
    unpinned = sorted(by_qualifier[q].table for q in locked if q not in pinned)
    if not unpinned:
        return []
    return [Offence("row lock", f"FOR UPDATE/SHARE of {', '.join(unpinned)} without organization_id = <value>")]


def _check_sets_organisation(tree, tables: _Tables) -> list[Offence]:
    offences = []
    for update in tree.find_all(exp.Update):
        target = update.this
        if (
            isinstance(target, exp.Table)
            and tables.is_tenant_table(target)
            and any(_sets_tenant_column(assignment) for assignment in update.expressions)
        ):
            offences.append(Offence("update sets organization_id", target.name))
    for insert in tree.find_all(exp.Insert):
        conflict = insert.args.get("conflict")
        target = insert.this.this if isinstance(insert.this, exp.Schema) else insert.this
        if conflict is None or not isinstance(target, exp.Table) or not tables.is_tenant_table(target):
            continue
        if any(_sets_tenant_column(assignment) for assignment in conflict.expressions or []):
            offences.append(Offence("update sets organization_id", f"{target.name} (ON CONFLICT DO UPDATE)"))
    return offences


def _sets_tenant_column(assignment) -> bool:
    return (
        isinstance(assignment, exp.EQ)
        and isinstance(assignment.left, exp.Column)
        and (assignment.left.name == TENANT_COLUMN)
    )


def check(sql: str, tenant: frozenset[str] | set[str]) -> list[Offence]:
    """The offences of one statement against the tenant tables ``tenant`` (sorted, no duplicates).

    Raises ``Unparsed`` when sqlglot cannot read it."""
    text = collapse(sql).replace("%%", "%")
    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except sqlglot.errors.SqlglotError as error:
        raise Unparsed(str(error).splitlines()[0][:200]) from error
    if tree is None:
        raise Unparsed("empty statement")
    tables = _Tables(tree, frozenset(tenant))
    offences = set(_check_sets_organisation(tree, tables))
    queries = [tree] if isinstance(tree, exp.Update | exp.Delete) else []
    queries += list(tree.find_all(exp.Select))
    for query in queries:
        sources = tables.sources(query)
        where_terms = _conjuncts(query.args.get("where"))
        offences.update(_check_correlation(query, sources, tables))
        offences.update(_check_joins(query, sources, where_terms))
        if isinstance(query, exp.Select):
            offences.update(_check_lock(query, sources, where_terms))
    return sorted(offences)
