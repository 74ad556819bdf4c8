import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.tenancy.roles import Role
from tests.factories import UserFactory
from tests.mfa import pass_second_factor

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
