"""Every portal route, API route and tenant-owned model, checked across the tenant boundary.

The meta-tests at the bottom fail when a route or a tenant-owned model has no case in
``tests/cross_tenant``, so a new app cannot ship without this coverage.
"""

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import ScopeError, scope

from apps.tenancy.models import TenantModel
from tests.cross_tenant import API_ROUTES, PORTAL_ROUTES, TENANT_MODELS, UNSCOPED_ROUTES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("case", PORTAL_ROUTES.values(), ids=lambda c: c.url_name)
@pytest.mark.parametrize("own", ["a", "b"])
def test_portal_route_is_404_for_another_organisations_member(world, case, own):
    other = world.other(own)
    # Given an org admin of `own`, when they open the route of the other organisation
    url = reverse(case.url_name, kwargs=case.kwargs(world, world.org(other)))
    response = getattr(world.login(own, case.role), case.method)(url)
    # then the other organisation does not exist for them
    assert response.status_code == 404, f"{url} answered {response.status_code} to a non-member"


@pytest.mark.parametrize("case", [c for c in PORTAL_ROUTES.values() if c.method == "get"], ids=lambda c: c.url_name)
def test_portal_route_works_for_its_own_members(world, case):
    url = reverse(case.url_name, kwargs=case.kwargs(world, world.org("a")))
    response = world.login("a", case.role).get(url)
    assert response.status_code == 200, f"{url} answered {response.status_code} to its own {case.role}"


def _named_routes(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_routes(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", str(pattern.pattern)


def _routes_with_object_ids() -> list:
    patterns = dict(_named_routes())
    return [c for c in PORTAL_ROUTES.values() if patterns[c.url_name].replace("<slug:org_slug>", "").count("<")]


@pytest.mark.parametrize("case", _routes_with_object_ids(), ids=lambda c: c.url_name)
def test_portal_route_with_own_slug_and_other_orgs_object_is_404(world, case):
    own_kwargs = case.kwargs(world, world.org("a"))
    other_kwargs = case.kwargs(world, world.org("b"))
    object_kwargs = {k: v for k, v in other_kwargs.items() if k != "org_slug"}
    url = reverse(case.url_name, kwargs={**own_kwargs, **object_kwargs})
    response = getattr(world.login("a", case.role), case.method)(url)
    assert response.status_code == 404, f"{url} reached another organisation's object"


@pytest.mark.parametrize("case", API_ROUTES.values(), ids=lambda c: c.url_name)
def test_api_route_never_shows_another_organisations_rows(world, case):
    api = world.api("a")
    if case.row_id is not None:
        own_id = case.row_id(world, world.org("a"))
        other_id = case.row_id(world, world.org("b"))
        response = getattr(api, case.method)(reverse(case.url_name, kwargs=case.kwargs(world, world.org("a"))))
        assert response.status_code == 200
        ids = [row["id"] for row in response.json()["results"]]
        assert own_id in ids, "the list does not show the caller's own row, so this test could not catch a leak"
        assert other_id not in ids
    else:
        kwargs_b = case.kwargs(world, world.org("b"))
        response = getattr(api, case.method)(reverse(case.url_name, kwargs=kwargs_b))
        if kwargs_b:
            assert response.status_code == 404
        else:
            # Routes without an id answer about the token's own organisation only.
            assert response.status_code == 200
            assert world.org("b").slug not in response.content.decode()
            assert world.org("a").slug in response.content.decode()


@pytest.mark.parametrize("case", TENANT_MODELS.values(), ids=lambda c: c.label)
def test_tenant_model_is_scoped_and_fails_closed(world, case):
    model = apps.get_model(case.label)
    row_a = case.make(world, world.org("a"))
    row_b = case.make(world, world.org("b"))
    with scope(organization=world.org("a")):
        pks = set(model.objects.values_list("pk", flat=True))
    assert row_a.pk in pks
    assert row_b.pk not in pks
    with pytest.raises(ScopeError):
        list(model.objects.all())


def test_every_route_has_a_cross_tenant_case():
    missing = []
    for name, route in _named_routes():
        if name in UNSCOPED_ROUTES:
            continue
        if name.startswith("api:"):
            if name not in API_ROUTES:
                missing.append(f"API route {name}")
        elif "org_slug" in route:
            if name not in PORTAL_ROUTES:
                missing.append(f"portal route {name}")
        else:
            missing.append(f"route {name} ({route}) is neither under /o/<org_slug>/ nor listed as unscoped")
    assert not missing, "register these in tests/cross_tenant/cases_<app>.py:\n" + "\n".join(missing)


def test_every_tenant_owned_model_has_a_cross_tenant_case():
    project_models = [m for m in apps.get_models() if m.__module__.startswith("apps.")]
    with_org_field = [m for m in project_models if any(f.name == "organization" for f in m._meta.fields)]
    not_tenant_models = [m._meta.label for m in with_org_field if not issubclass(m, TenantModel)]
    assert not not_tenant_models, f"these carry an organization but are not TenantModels: {not_tenant_models}"
    missing = [m._meta.label_lower for m in with_org_field if m._meta.label_lower not in TENANT_MODELS]
    assert not missing, f"register these in tests/cross_tenant/cases_<app>.py: {missing}"
