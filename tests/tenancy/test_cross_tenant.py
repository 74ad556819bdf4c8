"""Every portal route, API route and tenant-owned model, checked across the tenant boundary.

The meta-tests at the bottom fail when a route or a tenant-owned model has no case in
``tests/cross_tenant``, so a new app cannot ship without this coverage.
"""

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django_scopes import ScopeError, scope, scopes_disabled

from apps.audit.admin_kit import TenantAdmin
from apps.portal.management.commands.bench_pages import org_routes
from apps.tenancy.models import Membership, Organization, TenantModel
from apps.tenancy.roles import Role
from tests.cross_tenant import (
    ADMIN_SITE_ROUTES,
    API_ROUTES,
    PORTAL_ROUTES,
    TENANT_MODELS,
    UNSCOPED_ADMIN_MODELS,
    UNSCOPED_ROUTES,
)
from tests.mfa import signed_in_with_second_factor

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


def _routes_with_object_ids() -> list:
    patterns = dict(org_routes())
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
        query = case.query(world, world.org("a")) if case.query else None
        response = getattr(api, case.method)(reverse(case.url_name, kwargs=kwargs_b), query)
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
    for name, route in org_routes():
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


# The Django admin. It runs unscoped (the middleware disables scopes there), so each check below acts as a
# staff org admin of "a" against the rows of "b": never listed, never offered as a choice (forms, list
# filters, autocomplete), never reached by id. Every tenant-owned model's admin routes come from its
# ``tenant_model`` case; the meta-test fails on an admin route that has no case.

ADMIN_MODEL_VIEWS = ("changelist", "add", "history", "delete", "change")


def _admin_route_names(resolver=None):
    if resolver is None:
        resolver = next(p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "admin")
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _admin_route_names(pattern)
        elif pattern.name:
            yield f"admin:{pattern.name}"


def _admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _staff_org_admin(world, key: str = "a") -> Client:
    user = world.user(key, Role.ORG_ADMIN)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return signed_in_with_second_factor(user)


def _is_user_model(model) -> bool:
    return model._meta.label == settings.AUTH_USER_MODEL


def _foreign_rows(world, organization, model) -> list:
    """Rows of ``model`` that belong to ``organization`` (for users: its members), made if need be."""
    if model is Organization:
        return [organization]
    key = "a" if organization == world.org("a") else "b"
    if _is_user_model(model):
        return [world.user(key, role) for role in Role]
    case = TENANT_MODELS.get(model._meta.label_lower)
    return [case.make(world, organization)] if case else []


def _assert_only_own(world, model, pks, where: str) -> None:
    """No row among ``pks`` of ``model`` belongs to (is a member only of) organisation b."""
    own = world.org("a")
    with scopes_disabled():
        if model is Organization:
            foreign = set(pks) - {own.pk}
        elif _is_user_model(model):
            members = set(Membership.objects.filter(organization=own).values_list("user_id", flat=True))
            foreign = {pk for pk in pks if int(pk) not in members}
        elif issubclass(model, TenantModel):
            foreign = set(model._base_manager.filter(pk__in=pks).exclude(organization=own).values_list("pk", flat=True))
        else:
            return
    assert not foreign, f"{where} offers {model._meta.label} rows of another organisation: {sorted(foreign)}"


def _tenant_related(model) -> bool:
    return model is Organization or _is_user_model(model) or issubclass(model, TenantModel)


def _reference_fields(model) -> list:
    return [
        f
        for f in model._meta.get_fields()
        if f.concrete and (f.many_to_one or f.one_to_one or f.many_to_many) and _tenant_related(f.related_model)
    ]


def test_every_admin_route_has_a_cross_tenant_case():
    model_routes = {
        f"admin:{m._meta.app_label}_{m._meta.model_name}_{view}": (m, model_admin)
        for m, model_admin in admin.site._registry.items()
        for view in ADMIN_MODEL_VIEWS
    }
    missing = []
    for name in _admin_route_names():
        if name in ADMIN_SITE_ROUTES:
            continue
        if name not in model_routes:
            missing.append(f"admin route {name}: neither a model's admin view nor registered with admin_site_route")
            continue
        model, model_admin = model_routes[name]
        label = model._meta.label_lower
        if label in TENANT_MODELS:
            if not isinstance(model_admin, TenantAdmin):
                missing.append(f"admin of {label} is not a TenantAdmin, so it is not limited to the organisation")
        elif label not in UNSCOPED_ADMIN_MODELS:
            missing.append(f"admin route {name}: {label} is neither a tenant_model case nor an unscoped_admin_model")
    assert not missing, "register these in tests/cross_tenant/cases_<app>.py:\n" + "\n".join(sorted(set(missing)))


@pytest.mark.parametrize("case", TENANT_MODELS.values(), ids=lambda c: c.label)
def test_admin_lists_only_own_rows_and_filters(world, case):
    model = apps.get_model(case.label)
    row_a = case.make(world, world.org("a"))
    row_b = case.make(world, world.org("b"))
    response = _staff_org_admin(world).get(_admin_url(model, "changelist"))
    assert response.status_code == 200
    changelist = response.context["cl"]
    with scopes_disabled():
        pks = set(changelist.queryset.values_list("pk", flat=True))
    assert row_a.pk in pks, "the changelist does not show the user's own row, so this test could not catch a leak"
    assert row_b.pk not in pks
    for spec in changelist.filter_specs:
        field = getattr(spec, "field", None)
        if field is not None and field.is_relation:
            _assert_only_own(world, field.related_model, [pk for pk, _ in spec.lookup_choices], f"filter {field.name}")
    assert world.org("b").name not in response.content.decode()


@pytest.mark.parametrize("case", TENANT_MODELS.values(), ids=lambda c: c.label)
def test_admin_does_not_reach_another_organisations_row_by_id(world, case):
    model = apps.get_model(case.label)
    row_a = case.make(world, world.org("a"))
    row_b = case.make(world, world.org("b"))
    client = _staff_org_admin(world)
    absent = row_b.pk + 10**9
    assert client.get(_admin_url(model, "change", row_a.pk)).status_code == 200
    for view in ("change", "history", "delete"):
        other = client.get(_admin_url(model, view, row_b.pk))
        missing = client.get(_admin_url(model, view, absent))
        # Another organisation's row answers exactly as a row that does not exist.
        assert other.status_code in (302, 403, 404), f"{view} of another organisation's row: {other.status_code}"
        assert (other.status_code, other.get("Location")) == (missing.status_code, missing.get("Location"))
    client.post(_admin_url(model, "delete", row_b.pk), {"post": "yes"})
    client.post(_admin_url(model, "change", row_b.pk), {})
    with scopes_disabled():
        assert model._base_manager.filter(pk=row_b.pk).exists()


@pytest.mark.parametrize("case", TENANT_MODELS.values(), ids=lambda c: c.label)
def test_admin_forms_offer_only_own_choices(world, case):
    model = apps.get_model(case.label)
    row_a = case.make(world, world.org("a"))
    case.make(world, world.org("b"))
    foreign = {}
    for field in _reference_fields(model):
        _foreign_rows(world, world.org("a"), field.related_model)
        foreign[field.name] = _foreign_rows(world, world.org("b"), field.related_model)
    client = _staff_org_admin(world)
    pages = {"add": client.get(_admin_url(model, "add")), "change": client.get(_admin_url(model, "change", row_a.pk))}
    checked = 0
    for page, response in pages.items():
        assert response.status_code in (200, 403), f"{page}: {response.status_code}"
        if response.status_code != 200:
            continue
        html = response.content.decode()
        assert world.org("b").name not in html
        assert not [u.username for u in _foreign_rows(world, world.org("b"), get_user_model()) if u.username in html]
        form = response.context["adminform"].form
        for name, form_field in form.fields.items():
            queryset = getattr(form_field, "queryset", None)
            if queryset is None:
                continue
            with scopes_disabled():
                offered = set(queryset.values_list("pk", flat=True))
            _assert_only_own(world, queryset.model, offered, f"{page} form field {name}")
            assert not {row.pk for row in foreign.get(name, [])} & offered
            checked += 1
    editable = [f for f in _reference_fields(model) if f.name != "organization" and f.editable]
    model_admin = admin.site._registry[model]
    if editable and model_admin.has_add_permission(_request_for(world)):
        assert checked, f"{case.label}: no choice field was checked"


def _request_for(world):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = world.user("a", Role.ORG_ADMIN)
    request.user.is_staff = True
    return request


def _autocomplete_cases() -> list:
    cases = []
    for label in TENANT_MODELS:
        model = apps.get_model(label)
        cases += [(label, f.name) for f in _reference_fields(model) if f.name != "organization"]
    return cases


@pytest.mark.parametrize(("label", "field_name"), _autocomplete_cases(), ids=lambda v: v)
def test_admin_autocomplete_offers_only_own_rows(world, label, field_name):
    model = apps.get_model(label)
    field = model._meta.get_field(field_name)
    own = _foreign_rows(world, world.org("a"), field.related_model)
    other = _foreign_rows(world, world.org("b"), field.related_model)
    response = _staff_org_admin(world).get(
        reverse("admin:autocomplete"),
        {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field_name},
    )
    if response.status_code != 200:
        # No lookup for this field: the target has no search fields (404) or is not the user's to see (403).
        assert response.status_code in (403, 404)
        return
    ids = {row["id"] for row in response.json()["results"]}
    assert {str(row.pk) for row in own} & ids, "the lookup does not offer the user's own rows"
    assert not {str(row.pk) for row in other} & ids


def test_admin_view_on_site_of_another_organisations_row_is_404(world):
    case = TENANT_MODELS["owners.budgetowner"]
    row_b = case.make(world, world.org("b"))
    content_type = ContentType.objects.get_for_model(row_b)
    client = _staff_org_admin(world)
    other = client.get(reverse("admin:view_on_site", args=[content_type.pk, row_b.pk]))
    missing = client.get(reverse("admin:view_on_site", args=[content_type.pk, row_b.pk + 10**9]))
    assert other.status_code == missing.status_code == 404


@pytest.mark.parametrize("label", UNSCOPED_ADMIN_MODELS, ids=str)
def test_unscoped_admin_models_are_closed_to_staff_org_admins(world, label):
    model = apps.get_model(label)
    client = _staff_org_admin(world)
    assert client.get(_admin_url(model, "changelist")).status_code == 403
    assert client.get(_admin_url(model, "add")).status_code == 403
