"""Every row lock names the organisation in its own query (issue 22: a lock is taken only on a routed query).

The PostgreSQL test run proves what it executes (tests/routing), but inside an organisation's scope the scoped
manager adds the organisation by itself, and a path no test takes is not seen at all. So, read from the source:
every ``select_for_update()`` chain in apps/ has ``organization=`` or ``organization_id=`` in one of its calls
(or starts from a queryset variable of the same function that has), unless it locks ``Organization`` rows
(a global table).
"""

import ast
from pathlib import Path

from django.conf import settings

ORGANISATION_KEYWORDS = {"organization", "organization_id"}
GLOBAL_MODELS = {"Organization"}

# Locks by pk alone in apps whose helpers convert them (issue 22); routed today only through the scope. This list
# only shrinks: an entry that no longer offends fails the test (take it out).
KNOWN: set[tuple[str, str]] = set()


def _chain(node: ast.AST, parents: dict) -> ast.AST:
    """The whole method chain ``node`` is part of (``a.b(…).c(…).d(…)``)."""
    while isinstance(parents.get(node), ast.Attribute | ast.Call) and (
        not isinstance(parents[node], ast.Call) or parents[node].func is node
    ):
        node = parents[node]
    return node


def _keywords(chain: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(chain):
        if isinstance(node, ast.Call):
            names |= {keyword.arg for keyword in node.keywords if keyword.arg}
    return names


def _root(chain: ast.AST) -> str:
    node = chain
    while isinstance(node, ast.Attribute | ast.Call):
        node = node.value if isinstance(node, ast.Attribute) else node.func
    return node.id if isinstance(node, ast.Name) else ""


def _enclosing_function(node, parents):
    while node is not None and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        node = parents.get(node)
    return node


def _assigned_with_organisation(function, name: str) -> bool:
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == name for target in node.targets)
        and _keywords(node.value) & ORGANISATION_KEYWORDS
        for node in (ast.walk(function) if function is not None else ())
    )


def unrouted_locks(base: Path) -> set[tuple[str, str, int]]:
    """(file, the chain's first name, line) of every ``select_for_update`` chain in ``base``/apps without the
    organisation."""
    found = set()
    for path in sorted((base / "apps").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr == "select_for_update"):
                continue
            chain = _chain(node, parents)
            root = _root(chain)
            if root in GLOBAL_MODELS or _keywords(chain) & ORGANISATION_KEYWORDS:
                continue
            if _assigned_with_organisation(_enclosing_function(node, parents), root):
                continue
            found.add((str(path.relative_to(base)), root, node.lineno))
    return found


def test_every_row_lock_names_the_organisation():
    offences = unrouted_locks(Path(settings.BASE_DIR))
    unexpected = sorted(o for o in offences if (o[0], o[1]) not in KNOWN)
    assert unexpected == [], "select_for_update without organization= / organization_id= in its query"
    stale = KNOWN - {(o[0], o[1]) for o in offences}
    assert stale == set(), f"no longer offending, take out of KNOWN: {sorted(stale)}"


def test_the_reader_sees_a_lock_by_pk_and_accepts_the_routed_forms(tmp_path):
    module = tmp_path / "apps" / "demo" / "services.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "def by_pk(job):\n"
        "    return Job.objects.select_for_update(of=('self',)).select_related('x').get(pk=job.pk)\n"
        "def routed(job):\n"
        "    return Job.objects.select_for_update().filter(organization_id=job.organization_id, pk=job.pk).first()\n"
        "def through_a_variable(period):\n"
        "    current = Statement.objects.filter(organization=period.organization, version=1)\n"
        "    return current.select_for_update().filter(owner_id=1).first()\n"
        "def organisation_row(organization):\n"
        "    return Organization.objects.select_for_update().get(pk=organization.pk)\n"
    )
    assert unrouted_locks(tmp_path) == {("apps/demo/services.py", "Job", 2)}
