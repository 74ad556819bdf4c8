"""Registry of cross-tenant cases, filled by ``cases_<app>.py`` modules in this package.

Each app registers:
- every portal route under /o/<org_slug>/ (``portal_route``): how to build its URL kwargs for
  objects of a given organisation;
- every API route (``api_route``): kwargs for a detail route, or a list route and the id of a row
  of the given organisation that the list must (own org) or must not (other org) contain;
- every tenant-owned model (``tenant_model``): how to make one row in a given organisation.
  Its Django admin routes (changelist, add, change, history, delete) and the autocomplete lookups
  of its fields are checked from that case too;
- every admin model that is not tenant-owned (``unscoped_admin_model``) and every admin site route
  that is not a model's (``admin_site_route``), each with the reason it needs no tenant check.

``tests/tenancy/test_cross_tenant.py`` runs them all and fails when a route, an admin route or a
tenant-owned model has no case, so a new app cannot forget.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from apps.tenancy.models import Organization

KwargsBuilder = Callable[["object", Organization], dict]


@dataclass(frozen=True)
class PortalRoute:
    url_name: str
    kwargs: KwargsBuilder
    method: str = "get"
    # The role that may use the route in its own organisation (the tests act as it on both sides).
    role: str = "org_admin"


@dataclass(frozen=True)
class ApiRoute:
    url_name: str
    kwargs: KwargsBuilder
    # For list routes: returns the id of a row of the given org that must show up only for that org.
    row_id: Callable[["object", Organization], object] | None = None
    method: str = "get"
    # For routes that need query parameters (a file download): builds them for the token's organisation.
    query: KwargsBuilder | None = None


@dataclass(frozen=True)
class TenantModelCase:
    label: str
    make: Callable[["object", Organization], object]


PORTAL_ROUTES: dict[str, PortalRoute] = {}
API_ROUTES: dict[str, ApiRoute] = {}
TENANT_MODELS: dict[str, TenantModelCase] = {}

# Routes outside any organisation, each with the reason it needs no tenant check.
UNSCOPED_ROUTES: dict[str, str] = {}

# Admin models that hold no tenant data (staff org admins get 403 on them), and admin site routes, with reasons.
UNSCOPED_ADMIN_MODELS: dict[str, str] = {}
ADMIN_SITE_ROUTES: dict[str, str] = {}


def no_kwargs(world, organization) -> dict:
    return {}


def portal_route(
    url_name: str, kwargs: KwargsBuilder = no_kwargs, method: str = "get", role: str = "org_admin"
) -> None:
    assert url_name not in PORTAL_ROUTES, f"{url_name} registered twice"
    PORTAL_ROUTES[url_name] = PortalRoute(url_name, kwargs, method, role)


def api_route(url_name: str, kwargs: KwargsBuilder = no_kwargs, row_id=None, method: str = "get", query=None) -> None:
    assert url_name not in API_ROUTES, f"{url_name} registered twice"
    API_ROUTES[url_name] = ApiRoute(url_name, kwargs, row_id, method, query)


def tenant_model(label: str, make) -> None:
    assert label not in TENANT_MODELS, f"{label} registered twice"
    TENANT_MODELS[label] = TenantModelCase(label, make)


def unscoped_route(url_name: str, reason: str) -> None:
    UNSCOPED_ROUTES[url_name] = reason


def unscoped_admin_model(label: str, reason: str) -> None:
    assert label not in UNSCOPED_ADMIN_MODELS, f"{label} registered twice"
    UNSCOPED_ADMIN_MODELS[label] = reason


def admin_site_route(url_name: str, reason: str) -> None:
    assert url_name not in ADMIN_SITE_ROUTES, f"{url_name} registered twice"
    ADMIN_SITE_ROUTES[url_name] = reason


for _module in pkgutil.iter_modules(__path__):
    if _module.name.startswith("cases_"):
        importlib.import_module(f"{__name__}.{_module.name}")
