"""/api/v1/webhook-endpoints/: the secret answered once, rotation, deliveries with their attempts, redelivery,
scopes."""

import pytest
from django.urls import reverse
from django_scopes import scope
from standardwebhooks.webhooks import Webhook

from apps.audit.models import AuditEvent
from apps.webhooks.events import emit
from apps.webhooks.models import WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

LIST = reverse("api:webhook-endpoint-list")


def _detail(pk, name="detail"):
    return reverse(f"api:webhook-endpoint-{name}", kwargs={"pk": pk})


def _register(api, url, events=("period.closed",)):
    return api.post(
        LIST, {"url": url, "events": list(events), "description": "NetSuite"}, content_type="application/json"
    )


def test_post_answers_the_secret_once_and_reads_never_show_it(world, receiver):
    api = world.api("a", scopes=["webhooks:read", "webhooks:write"])
    response = _register(api, receiver.url, events=["journal.ready", "period.closed"])
    assert response.status_code == 201
    body = response.json()
    secret = body.pop("secret")
    assert secret.startswith("whsec_")
    assert body["url"] == receiver.url
    assert body["events"] == ["period.closed", "journal.ready"]  # in the order of the event types
    assert body["is_active"] is True
    with scope(organization=world.org("a")):
        assert WebhookEndpoint.objects.get(pk=body["id"]).secret == secret
        assert AuditEvent.objects.filter(action="webhook_endpoint.created", object_id=str(body["id"])).count() == 1
    listed = api.get(LIST).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    assert "secret" not in listed[0] and secret not in str(api.get(_detail(body["id"])).content)


def test_post_refuses_private_targets_and_unknown_events(world, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    api = world.api("a", scopes=["webhooks:write"])
    response = _register(api, "http://169.254.169.254/latest/meta-data/")
    assert response.status_code == 400
    assert "169.254.169.254 is a link-local address" in str(response.json())
    response = _register(api, "https://93.184.215.14/hook", events=["spike.detected"])
    assert response.status_code == 400
    assert "events" in str(response.json())


def test_scopes_read_and_write(world):
    reader = world.api("a", scopes=["webhooks:read"])
    assert reader.get(LIST).status_code == 200
    assert _register(reader, "https://93.184.215.14/hook").status_code == 403
    assert world.api("a", scopes=["statements:read"]).get(LIST).status_code == 403


def test_rotate_secret_answers_the_new_one_and_both_sign(world, receiver, on_commit):
    api = world.api("a", scopes=["webhooks:read", "webhooks:write"])
    created = _register(api, receiver.url).json()
    rotated = api.post(_detail(created["id"], "rotate-secret"))
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != created["secret"] and rotated.json()["previous_secret_expires_at"] is not None
    with on_commit(execute=True):
        emit(organization=world.org("a"), type="period.closed", object_type="period", object_id="2026-10")
    request = receiver.requests[-1]
    assert Webhook(created["secret"]).verify(request["body"], request["headers"])["data"]["url"] is None
    assert Webhook(new).verify(request["body"], request["headers"])["data"]["id"] == "2026-10"


def test_deliveries_list_their_attempts_and_redeliver(world, receiver, on_commit):
    api = world.api("a", scopes=["webhooks:read", "webhooks:write"])
    created = _register(api, receiver.url).json()
    receiver.answers = [500]
    with on_commit(execute=True):
        event = emit(organization=world.org("a"), type="period.closed", object_type="period", object_id="2026-10")
    [delivery] = api.get(_detail(created["id"], "deliveries")).json()["results"]
    assert delivery["webhook_id"] == event.webhook_id
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("pending", 1, 500)
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500]

    url = reverse("api:webhook-endpoint-redeliver", kwargs={"pk": created["id"], "delivery_id": delivery["id"]})
    with on_commit(execute=True):
        response = api.post(url)
    assert response.status_code == 200
    [delivery] = api.get(_detail(created["id"], "deliveries")).json()["results"]
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)
    assert [a["status_code"] for a in delivery["attempt_log"]] == [200, 500]


def test_patch_disables_and_enables_and_delete_removes(world, receiver):
    api = world.api("a", scopes=["webhooks:read", "webhooks:write"])
    created = _register(api, receiver.url).json()
    response = api.patch(_detail(created["id"]), {"is_active": False}, content_type="application/json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert response.json()["disabled_reason"] == "Disabled by an admin."
    response = api.patch(
        _detail(created["id"]), {"is_active": True, "events": ["dispute.opened"]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["events"]) == (True, ["dispute.opened"])
    assert api.delete(_detail(created["id"])).status_code == 204
    assert api.get(_detail(created["id"])).status_code == 404
    with scope(organization=world.org("a")):
        assert [e.action for e in AuditEvent.objects.filter(action__startswith="webhook_endpoint").order_by("seq")] == [
            "webhook_endpoint.created",
            "webhook_endpoint.disabled",
            "webhook_endpoint.updated",
            "webhook_endpoint.enabled",
            "webhook_endpoint.deleted",
        ]


def test_redeliver_refuses_a_delivery_of_another_organisation_under_an_own_endpoint(world, receiver, on_commit):
    own = _register(world.api("a", scopes=["webhooks:write"]), receiver.url).json()
    other = _register(world.api("b", scopes=["webhooks:write"]), receiver.url).json()
    with on_commit(execute=True):
        emit(organization=world.org("b"), type="period.closed", object_type="period", object_id="2026-10")
    [delivery] = world.api("b", scopes=["webhooks:read"]).get(_detail(other["id"], "deliveries")).json()["results"]
    url = reverse("api:webhook-endpoint-redeliver", kwargs={"pk": own["id"], "delivery_id": delivery["id"]})
    assert world.api("a", scopes=["webhooks:write"]).post(url).status_code == 404
