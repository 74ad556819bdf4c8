import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.tenancy.roles import Role
from tests.dbchecks import assert_refused_by
from tests.factories import UserFactory
from tests.mfa import pass_second_factor, signed_in_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client():
    client = Client()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    pass_second_factor(client, root)
    return client


def test_every_project_model_is_registered_in_the_admin():
    from django.apps import apps
    from django.contrib import admin

    missing = [
        m._meta.label for m in apps.get_models() if m.__module__.startswith("apps.") and not admin.site.is_registered(m)
    ]
    assert missing == []


def test_staff_org_admin_sees_only_their_organisations_rows(world):
    user = world.user("a", Role.ORG_ADMIN)
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    pass_second_factor(client, user)
    response = client.get(reverse("admin:tenancy_membership_changelist"))
    assert response.status_code == 200
    shown = {m.organization.slug for m in response.context["cl"].result_list}
    assert shown == {"alpha"}


def test_audit_events_are_read_only_in_the_admin(world, superuser_client):
    from django.db import transaction

    from apps.audit.services import audit_record

    with transaction.atomic():
        event = audit_record(organization=world.org("a"), actor=None, action="x.y")
    change = superuser_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert superuser_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert (
        superuser_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )


def test_admin_changes_are_audited(world, superuser_client):
    membership = world.memberships[("a", Role.VIEWER)]
    url = reverse("admin:tenancy_membership_change", args=[membership.pk])
    response = superuser_client.post(
        url, {"organization": world.org("a").pk, "user": membership.user.pk, "role": "finance_analyst"}
    )
    assert response.status_code == 302
    with scope(organization=world.org("a")):
        event = AuditEvent.objects.get(action="membership.admin_changed")
    assert event.before["role"] == "viewer" and event.after["role"] == "finance_analyst"
    assert event.actor_label == "root" and event.reason == "via Django admin"


# --- Tenancy in the admin: choices, posts and lookups stay inside the organisation ------------------------


def _staff_org_admin(world, key: str = "a") -> Client:
    user = world.user(key, Role.ORG_ADMIN)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return signed_in_with_second_factor(user)


@pytest.fixture
def cost_centres(world):
    from django_scopes import scopes_disabled

    from tests.factories.owners import BudgetOwnerFactory

    with scopes_disabled():
        return (
            BudgetOwnerFactory(organization=world.org("a"), code="CC-ACME", name="Acme platform"),
            BudgetOwnerFactory(organization=world.org("b"), code="CC-GLOBEX", name="Globex research"),
        )


def _budget_post(organization, owner) -> dict:
    return {
        "organization": organization.pk,
        "owner": owner.pk,
        "period": "2026-10-01",
        "amount": "500.00",
        "currency": "USD",
    }


def test_the_budget_add_page_offers_only_the_organisations_cost_centres(world, cost_centres):
    response = _staff_org_admin(world).get(reverse("admin:owners_budget_add"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert [str(owner) for owner in form.fields["owner"].queryset] == ["CC-ACME Acme platform"]
    assert [org.slug for org in form.fields["organization"].queryset] == ["alpha"]
    assert form.initial["organization"] == world.org("a").pk  # the only organisation they administer
    assert "Globex research" not in response.content.decode()


def test_a_staff_org_admin_cannot_post_a_budget_on_another_organisations_cost_centre(world, cost_centres):
    from django_scopes import scopes_disabled

    from apps.owners.models import Budget

    _, globex = cost_centres
    response = _staff_org_admin(world).post(reverse("admin:owners_budget_add"), _budget_post(world.org("a"), globex))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["owner"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    with scopes_disabled():
        assert not Budget.objects.exists()


def test_a_superuser_cannot_mix_organisations_in_one_row(world, cost_centres, superuser_client):
    from django_scopes import scopes_disabled

    from apps.owners.models import Budget

    _, globex = cost_centres
    # A superuser's add page offers every organisation's rows; the model refuses the mix, with a form error.
    response = superuser_client.post(reverse("admin:owners_budget_add"), _budget_post(world.org("a"), globex))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["owner"] == [
        "Owner must belong to the same organisation as this budget."
    ]
    with scopes_disabled():
        assert not Budget.objects.exists()


def test_a_change_page_offers_only_the_rows_own_organisation(world, cost_centres, superuser_client):
    from django_scopes import scopes_disabled

    from tests.factories.owners import BudgetFactory

    acme, globex = cost_centres
    with scopes_disabled():
        budget = BudgetFactory(owner=acme)
    url = reverse("admin:owners_budget_change", args=[budget.pk])
    response = superuser_client.get(url)
    assert [str(owner) for owner in response.context["adminform"].form.fields["owner"].queryset] == [
        "CC-ACME Acme platform"
    ]
    assert "organization" not in response.context["adminform"].form.fields  # a row never changes organisation
    response = superuser_client.post(url, _budget_post(world.org("b"), globex))
    assert response.context["adminform"].form.errors["owner"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    budget.refresh_from_db()
    assert (budget.organization_id, budget.owner_id) == (world.org("a").pk, acme.pk)


def test_cost_centre_users_are_members_of_the_organisation(world, cost_centres, superuser_client):
    from django_scopes import scopes_disabled

    from apps.owners.models import BudgetOwner

    response = _staff_org_admin(world).get(reverse("admin:owners_budgetowner_add"))
    offered = {user.username for user in response.context["adminform"].form.fields["owner_users"].queryset}
    assert offered == {f"alpha-{role.value}" for role in Role}
    assert [str(owner) for owner in response.context["adminform"].form.fields["parent"].queryset] == [
        "CC-ACME Acme platform"
    ]
    # A superuser may pick any user on an add page; a non-member is refused before anything is saved.
    response = superuser_client.post(
        reverse("admin:owners_budgetowner_add"),
        {
            "organization": world.org("a").pk,
            "code": "CC-NEW",
            "name": "New",
            "owner_users": [world.user("b", Role.BUDGET_OWNER).pk],
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["owner_users"] == [
        "Owner users must all be members of the budget owner's own organisation."
    ]
    with scopes_disabled():
        assert not BudgetOwner.objects.filter(code="CC-NEW").exists()


def test_tag_value_choices_and_posts_stay_in_the_organisation(world, cost_centres):
    from django_scopes import scopes_disabled

    from apps.taxonomy.models import TagValue
    from tests.factories.taxonomy import TagDimensionFactory

    acme, globex = cost_centres
    with scopes_disabled():
        acme_team = TagDimensionFactory(organization=world.org("a"), key="team")
        globex_team = TagDimensionFactory(organization=world.org("b"), key="team")
    client = _staff_org_admin(world)
    form = client.get(reverse("admin:taxonomy_tagvalue_add")).context["adminform"].form
    assert list(form.fields["dimension"].queryset) == [acme_team]
    assert list(form.fields["owner"].queryset) == [acme]
    response = client.post(
        reverse("admin:taxonomy_tagvalue_add"),
        {"organization": world.org("a").pk, "dimension": globex_team.pk, "value": "x", "owner": globex.pk},
    )
    assert set(response.context["adminform"].form.errors) == {"dimension", "owner"}
    with scopes_disabled():
        assert not TagValue.objects.exists()


def test_membership_users_are_the_organisations_members(world):
    response = _staff_org_admin(world).get(reverse("admin:tenancy_membership_add"))
    offered = {user.username for user in response.context["adminform"].form.fields["user"].queryset}
    assert offered == {f"alpha-{role.value}" for role in Role}
    # The user lookup searches every account of the platform: closed to org admins.
    lookup = _staff_org_admin(world).get(
        reverse("admin:autocomplete"), {"app_label": "tenancy", "model_name": "membership", "field_name": "user"}
    )
    assert lookup.status_code == 403


def test_the_autocomplete_lookup_offers_only_the_organisations_rows(world, cost_centres):
    response = _staff_org_admin(world).get(
        reverse("admin:autocomplete"),
        {"app_label": "owners", "model_name": "budget", "field_name": "owner", "term": "CC"},
    )
    assert response.json()["results"] == [{"id": str(cost_centres[0].pk), "text": "CC-ACME Acme platform"}]


def test_list_filters_name_only_the_organisations_rows(world, cost_centres):
    from django_scopes import scopes_disabled

    from tests.factories.owners import BudgetFactory

    with scopes_disabled():
        BudgetFactory(owner=cost_centres[0])
        BudgetFactory(owner=cost_centres[1])
    response = _staff_org_admin(world).get(reverse("admin:owners_budget_changelist"))
    # With one organisation to choose from, the organisation filter has nothing to offer and is not shown.
    assert [spec.field_path for spec in response.context["cl"].filter_specs] == ["currency"]
    assert "Beta Ltd" not in response.content.decode()


def test_a_raw_id_field_does_not_name_another_organisations_row(world, cost_centres):
    from django.contrib import admin as django_admin
    from django.test import RequestFactory
    from django_scopes import scopes_disabled

    from apps.owners.admin import BudgetAdmin
    from apps.owners.models import Budget

    class RawIdBudgetAdmin(BudgetAdmin):
        raw_id_fields = ["owner"]

    acme, globex = cost_centres
    request = RequestFactory().get("/admin/")
    request.user = world.user("a", Role.ORG_ADMIN)
    request.user.is_staff = True
    with scopes_disabled():  # as in every admin request (the middleware)
        form_class = RawIdBudgetAdmin(Budget, django_admin.site).get_form(request)
        widget = form_class.base_fields["owner"].widget
        assert widget.label_and_url_for_value(acme.pk)[0] == "CC-ACME Acme platform"
        assert widget.label_and_url_for_value(globex.pk) == ("", "")
        form = form_class(data=_budget_post(world.org("a"), globex))
        assert form.errors["owner"] == ["Select a valid choice. That choice is not one of the available choices."]
        assert "Globex" not in str(form["owner"])


def test_a_reference_across_organisations_is_refused_by_postgresql_and_unreadable_elsewhere(world, cost_centres):
    """A row pointing at another organisation's row (bulk_create bypasses save and its check): PostgreSQL's
    composite foreign key (organization_id, owner_id) refuses to store it; where nothing refuses it (SQLite), the
    reference reads by organisation and id, so the other organisation's row is never shown through it."""
    from django.db import IntegrityError, connection, transaction
    from django_scopes import scopes_disabled

    from apps.owners.models import Budget, BudgetOwner

    _, globex = cost_centres
    with scopes_disabled():
        if connection.vendor == "postgresql":
            with pytest.raises(IntegrityError) as refused, transaction.atomic():
                Budget.objects.bulk_create([Budget(**{**_budget_fields(world), "owner": globex})])
            assert_refused_by(refused.value, "owners_budget_owner_id_tfk")
            return
        (legacy,) = Budget.objects.bulk_create([Budget(**{**_budget_fields(world), "owner": globex})])
        legacy = Budget.objects.get(pk=legacy.pk)
        assert legacy.owner_id == globex.pk
        with pytest.raises(BudgetOwner.DoesNotExist):
            legacy.owner  # noqa: B018 - the read is the point


def _budget_fields(world) -> dict:
    import datetime
    from decimal import Decimal

    return {
        "organization": world.org("a"),
        "period": datetime.date(2026, 10, 1),
        "amount": Decimal("5.00"),
        "currency": "USD",
    }


def test_an_imports_admin_page_names_the_invoices_it_touched_and_no_other(world, superuser_client):
    """The import's invoices run through an explicit link model (it carries the organisation): the read-only
    import page still lists them, and the link rows have their own read-only list."""
    from django_scopes import scopes_disabled

    from tests.factories.invoices import InvoiceIngestJobFactory, ProviderInvoiceFactory

    with scopes_disabled():
        job = InvoiceIngestJobFactory(organization=world.org("a"))
        touched = ProviderInvoiceFactory(organization=world.org("a"), invoice_number="INV-TOUCHED")
        ProviderInvoiceFactory(organization=world.org("a"), invoice_number="INV-UNTOUCHED")
        job.invoices.add(touched)
    response = superuser_client.get(reverse("admin:invoices_invoiceingestjob_change", args=[job.pk]))
    assert response.status_code == 200
    assert b"INV-TOUCHED" in response.content and b"INV-UNTOUCHED" not in response.content
    with scopes_disabled():  # the admin reads unscoped; so does reading its page's fields here
        shown = {
            field.field["name"]: field.contents()
            for fieldset in response.context["adminform"]
            for line in fieldset
            for field in line
        }
    assert shown["invoices"] == "openai INV-TOUCHED (2026-10)"
    links = superuser_client.get(reverse("admin:invoices_invoiceingestjobinvoice_changelist"))
    assert [
        (link.invoiceingestjob_id, link.providerinvoice_id, link.organization_id)
        for link in links.context["cl"].result_list
    ] == [(job.pk, touched.pk, world.org("a").pk)]
