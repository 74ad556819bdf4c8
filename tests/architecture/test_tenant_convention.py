"""The tenant convention, held for the whole project (docs/ARCHITECTURE.md; ``apps.tenancy.scoping``).

Every public function of a services or selectors module takes the organisation explicitly: it is decorated
with ``tenant_scoped`` (which marks it with ``tenant_via``: the keyword-only argument that carries the
organisation, or an object that belongs to one), so it runs in that organisation's scope and refuses a call for
another organisation made inside a scope. A service or
selector never enters ``scope(...)`` by hand: the decorator does, for the organisation it was given.

The modules are found by walking ``apps/``: ``services*.py`` and ``selectors*.py`` at any depth, every module
of a ``services`` or ``selectors`` package, and the other modules that read or write tenant rows for a caller
(``catalog*.py``, ``guards.py``, ``late_data.py``). A new app or subpackage is checked without listing it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"

# Entry points that deliberately have no organisation yet: they find out which one, or work across all of
# them. "module:function" -> why. Keep it short: everything else takes the organisation. Sign-in and the
# second factor (apps/accounts/mfa.py), API token lookup (apps/accounts/authentication.py) and the
# stale-job sweepers (apps/ingest/jobs.py, the ingest tasks) are not services or selectors, so not listed.
NO_ORGANISATION = {
    "apps.tenancy.selectors:memberships_for_user": "sign-in and the switcher: the organisations a person is in",
    "apps.tenancy.selectors:organizations_where_user_may": "the organisations where a person holds a permission",
    "apps.usage.services.ingest:ingest_job_run": "a worker's body: given the job's id, it enters the job's scope",
    "apps.invoices.services.ingest:invoice_ingest_run": "a worker's body: given the job's id, it enters its scope",
    "apps.jobs.services:job_run": "a worker's body: given the organisation's and the job's ids, it enters its scope",
    "apps.jobs.services:jobs_interrupt_stale": "the sweeper: every organisation's silent jobs, each under its lock",
    # The global price book: list prices, providers and models are shared by every organisation (no tenant rows).
    "apps.pricing.selectors:providers": "the global list of providers",
    "apps.pricing.selectors:ai_models": "the global list of models",
    "apps.pricing.selectors:price_rows_in_force": "global list prices in force on a day",
    "apps.pricing.selectors:list_price_book": "the global list prices alone, before any organisation's overrides",
    "apps.pricing.selectors:current_version_number": "the number of the global price-book version",
    "apps.pricing.selectors:price_book_versions": "the global price-book versions",
    "apps.pricing.services:price_book_load": "loads the global price book from its file",
    "apps.pricing.services:price_book_load_default": "loads the shipped global price book",
    # The ECB reference rates: global like the price book (the same rate for every organisation).
    "apps.fx.selectors:ecb_rate_table": "the global ECB quotes of some currencies over some days",
    "apps.fx.selectors:ecb_rates_list": "the global ECB rates, filtered",
    "apps.fx.services:ecb_rates_load": "loads the global ECB rates from the shipped history or an ECB file",
}

KEYWORDS = {"organization", "membership"}
# Modules beside services and selectors that read or write tenant rows on a caller's behalf. Their pure helpers
# (CSV shaping, registries) take no organisation; a function there that is given an organisation, a member or a
# row of one (a parameter named in CARRIERS) must be tenant-scoped like a service.
OTHER_MODULES = ("catalog", "guards.py", "late_data.py")
CARRIERS = {
    *KEYWORDS,
    *("owner", "budget", "dimension", "tag_value", "alias", "billing_period", "run", "job", "statement"),
}


def _app_of(path: Path) -> str:
    return path.relative_to(APPS).parts[0]


def _is_service_or_selector(path: Path) -> bool:
    if path.suffix != ".py" or "migrations" in path.parts:
        return False
    if path.name.startswith(("services", "selectors", *OTHER_MODULES)):
        return True
    return any(part in ("services", "selectors") for part in path.relative_to(APPS).parts[:-1])


def service_and_selector_files() -> list[Path]:
    return sorted(path for path in APPS.rglob("*.py") if _is_service_or_selector(path))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _checked_files() -> list[Path]:
    files = service_and_selector_files()
    assert len(files) >= 30, f"only {len(files)} service/selector modules found: the walk is broken"
    return files


def _takes_the_organisation(function) -> bool:
    return bool(getattr(function, "tenant_via", None))


def _is_other_module(module) -> bool:
    return module.__name__.rsplit(".", 1)[-1].startswith(tuple(m.removesuffix(".py") for m in OTHER_MODULES))


def _must_take_the_organisation(module, function) -> bool:
    if not _is_other_module(module):
        return True
    try:
        return bool(CARRIERS & set(inspect.signature(function).parameters))
    except (TypeError, ValueError):
        return False


def _public_functions(module):
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.isclass(value) or not callable(value):
            continue
        if getattr(value, "__module__", None) != module.__name__:
            continue  # imported into the module, checked where it is defined
        yield name, value


def test_the_walk_finds_the_services_and_selectors_of_every_app():
    found = {_module_name(path) for path in service_and_selector_files()}
    assert {
        "apps.reconciliation.services",
        "apps.reconciliation.selectors",
        "apps.statements.services",
        "apps.disputes.selectors",
        "apps.portal.selectors",
        "apps.usage.services.ingest",
        "apps.owners.catalog_io",
        "apps.tenancy.catalog",
        "apps.periods.guards",
        "apps.periods.late_data",
    }.issubset(found)


def test_every_public_service_and_selector_takes_the_organisation():
    offenders = []
    for path in _checked_files():
        module = importlib.import_module(_module_name(path))
        for name, function in _public_functions(module):
            key = f"{module.__name__}:{name}"
            if key in NO_ORGANISATION or not _must_take_the_organisation(module, function):
                continue
            if not _takes_the_organisation(function):
                offenders.append(key)
    assert not offenders, (
        "These services/selectors do not take the organisation explicitly. Decorate each with "
        "@tenant_scoped (or @tenant_scoped(via=...)) and make its arguments keyword-only, or, for an entry point "
        "that deliberately has no organisation, add it to NO_ORGANISATION with the reason:\n  " + "\n  ".join(offenders)
    )


def _enters_a_scope(node: ast.With) -> bool:
    for item in node.items:
        call = item.context_expr
        if isinstance(call, ast.Call):
            func = call.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name == "scope":
                return True
    return False


def _hand_written_scopes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    module = _module_name(path)
    found = []

    def visit(node, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, function or child.name)
                continue
            if isinstance(child, ast.With | ast.AsyncWith) and _enters_a_scope(child):
                key = f"{module}:{function or '<module>'}"
                if key not in NO_ORGANISATION:
                    found.append(f"{key} (line {child.lineno})")
            visit(child, function)

    visit(tree, "")
    return found


def test_the_organisation_is_passed_by_keyword():
    positional = []
    for path in _checked_files():
        module = importlib.import_module(_module_name(path))
        for name, function in _public_functions(module):
            via = getattr(function, "tenant_via", None)
            if via and inspect.signature(function).parameters[via].kind is not inspect.Parameter.KEYWORD_ONLY:
                positional.append(f"{module.__name__}:{name}({via})")
    assert not positional, "Make the argument that carries the organisation keyword-only:\n  " + "\n  ".join(positional)


def test_no_service_or_selector_enters_a_scope_by_hand():
    offenders = [found for path in _checked_files() for found in _hand_written_scopes(path)]
    assert not offenders, (
        "These services/selectors enter `with scope(...)` by hand. Take the organisation as a keyword and "
        "decorate the function with @tenant_scoped instead:\n  " + "\n  ".join(offenders)
    )


def test_the_allow_list_names_real_functions():
    for key in NO_ORGANISATION:
        module, name = key.split(":")
        assert callable(getattr(importlib.import_module(module), name, None)), f"{key} does not exist"
