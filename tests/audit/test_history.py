import pytest
from django.db import transaction
from django.urls import reverse
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def _record(world, key, action, actor=None, **kwargs):
    with transaction.atomic():
        return audit_record(organization=world.org(key), actor=actor, action=action, **kwargs)


def test_history_lists_filters_and_paginates(world):
    for i in range(55):
        _record(world, "a", "bulk.step", object_type="test", object_id=str(i))
    _record(world, "a", "organization.updated", actor=world.user("a"), object_type="tenancy.organization")
    _record(world, "b", "organization.updated", object_type="tenancy.organization", object_id="beta-secret")
    client = world.login("a", Role.FINANCE_ADMIN)
    url = reverse("audit:history", kwargs={"org_slug": "alpha"})
    page1 = client.get(url)
    assert page1.context["page"].paginator.count == 56
    assert len(page1.context["page"].object_list) == 50
    filtered = client.get(url, {"action": "organization", "actor": "alpha-org"})
    assert [e.action for e in filtered.context["page"]] == ["organization.updated"]
    assert b"beta-secret" not in filtered.content
    verified = client.get(url, {"verify": "1"})
    assert b"Chain intact: 56 events checked." in verified.content


@pytest.mark.parametrize(
    ("role", "status"), [(Role.FINANCE_ANALYST, 403), (Role.BUDGET_OWNER, 403), (Role.ORG_ADMIN, 200)]
)
def test_history_is_for_org_and_finance_admins(world, role, status):
    assert world.login("a", role).get(reverse("audit:history", kwargs={"org_slug": "alpha"})).status_code == status


def test_api_lists_events_oldest_first_with_cursor_pages(world):
    for i in range(5):
        _record(world, "a", "bulk.step", object_id=str(i))
    api = world.api("a", scopes=["audit:read"])
    first = api.get(reverse("api:audit-event-list"), {"page_size": 2}).json()
    assert [e["seq"] for e in first["results"]] == [1, 2]
    second = api.get(first["next"]).json()
    assert [e["seq"] for e in second["results"]] == [3, 4]
    event = api.get(reverse("api:audit-event-detail", kwargs={"pk": first["results"][0]["id"]})).json()
    with scope(organization=world.org("a")):
        stored = AuditEvent.objects.get(seq=1)
    assert event["hash"] == stored.hash and event["action"] == "bulk.step"


def test_api_needs_the_audit_scope(world):
    response = world.api("a", scopes=["org:read"]).get(reverse("api:audit-event-list"))
    assert response.status_code == 403
