"""Deliveries over real HTTP to a receiver on loopback: signatures verified with the standardwebhooks package,
retries on the published schedule (time moved by the ``now`` parameter, never slept), timeouts, SSRF refusals,
rotation overlap, redelivery and the automatic disable."""

import json
import socket
from datetime import timedelta
from itertools import pairwise

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_scopes import scope
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from apps.audit.models import AuditEvent
from apps.webhooks import services
from apps.webhooks.deliveries import RETRY_SCHEDULE, deliveries_send_due
from apps.webhooks.events import emit
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.webhooks.sending import address_refusal, new_secret

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def _endpoint(world, url, events=("period.closed", "journal.ready"), key="a"):
    return services.endpoint_create(
        organization=world.org(key), actor=world.user(key), url=url, events=list(events), description="ERP"
    )


def _emit(world, capture, key="a", period="2026-10", type="period.closed"):
    with capture(execute=True):
        return emit(
            organization=world.org(key),
            type=type,
            object_type="period",
            object_id=period,
            api_path=f"/api/v1/periods/{period}/",
            data={"period": period, "state": "closed"},
            actor_label="finance",
        )


def _delivery(world, event, key="a") -> WebhookDelivery:
    with scope(organization=world.org(key)):
        return WebhookDelivery.objects.get(event=event)


def _attempts(world, delivery, key="a") -> list[WebhookAttempt]:
    with scope(organization=world.org(key)):
        return list(WebhookAttempt.objects.filter(delivery=delivery).order_by("attempted_at", "pk"))


def test_a_delivery_is_signed_per_standard_webhooks_and_verifies(world, receiver, on_commit):
    _endpoint_row, secret = _endpoint(world, receiver.url)
    assert secret.startswith("whsec_") and len(secret) == 6 + 32  # base64 of 24 bytes is 32 characters
    event = _emit(world, on_commit)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/hooks/chargeback?src=portal"
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == event.webhook_id == f"msg_{event.uid.hex}"
    assert headers["webhook-signature"].startswith("v1,") and " " not in headers["webhook-signature"]
    verified = Webhook(secret).verify(request["body"], request["headers"])
    assert verified == {
        "type": "period.closed",
        "timestamp": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "data": {
            "id": "2026-10",
            "object": "period",
            "url": "http://127.0.0.1:8000/api/v1/periods/2026-10/",
            "seq": event.seq,
            "period": "2026-10",
            "state": "closed",
        },
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(request["body"], request["headers"])

    delivery = _delivery(world, event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (
        "succeeded",
        1,
        200,
        None,
    )
    [attempt] = _attempts(world, delivery)
    assert (attempt.status_code, attempt.response_excerpt, attempt.error) == (200, '{"ok": true}', "")
    assert attempt.latency_ms >= 0


def test_only_active_endpoints_subscribed_to_the_type_get_a_delivery(world, receiver, on_commit):
    subscribed, _ = _endpoint(world, receiver.url, events=["period.closed"])
    _endpoint(world, receiver.url + "&other", events=["dispute.opened"])
    disabled, _ = _endpoint(world, receiver.url + "&disabled", events=["period.closed"])
    services.endpoint_disable(endpoint=disabled, actor=world.user("a"))
    _endpoint(world, receiver.url + "&org-b", events=["period.closed"], key="b")

    event = _emit(world, on_commit)

    with scope(organization=world.org("a")):
        assert list(WebhookDelivery.objects.filter(event=event).values_list("endpoint_id", flat=True)) == [
            subscribed.pk
        ]
    assert [r["path"] for r in receiver.requests] == ["/hooks/chargeback?src=portal"]


def test_a_500_is_retried_on_the_schedule_with_the_same_webhook_id(world, receiver, on_commit):
    _endpoint_row, secret = _endpoint(world, receiver.url)
    receiver.answers = [500]
    event = _emit(world, on_commit)
    delivery = _delivery(world, event)
    [first] = _attempts(world, delivery)
    assert first.status_code == 500
    assert len(first.response_excerpt) == 500 and first.response_excerpt.startswith("receiver broke: xxx")
    assert delivery.status == "pending"
    assert delivery.next_attempt_at == first.attempted_at + timedelta(seconds=5)

    with scope(organization=world.org("a")):
        assert deliveries_send_due(organization=world.org("a"), now=first.attempted_at + timedelta(seconds=4)) == []
        [retry] = deliveries_send_due(organization=world.org("a"), now=first.attempted_at + timedelta(seconds=5))
    assert retry.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [event.webhook_id] * 2
    for request in receiver.requests:
        assert Webhook(secret).verify(request["body"], request["headers"])["data"]["seq"] == event.seq


def test_the_schedule_spans_about_a_day_then_the_delivery_fails(world, receiver, on_commit):
    # Svix's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after the first attempt's failure.
    assert sum(RETRY_SCHEDULE, timedelta()) == timedelta(hours=27, minutes=35, seconds=5)
    _endpoint(world, receiver.url)
    receiver.answers = [503] * 8
    event = _emit(world, on_commit)
    delivery = _delivery(world, event)
    moments = [delivery.next_attempt_at - RETRY_SCHEDULE[1]]
    with scope(organization=world.org("a")):
        while delivery.status == "pending":
            now = delivery.next_attempt_at
            assert len(deliveries_send_due(organization=world.org("a"), now=now)) == 1
            moments.append(now)
            delivery.refresh_from_db()
    gaps = [later - earlier for earlier, later in pairwise(moments)]
    assert gaps == list(RETRY_SCHEDULE[1:])
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 8, 503)
    assert len(receiver.requests) == 8
    with scope(organization=world.org("a")):
        assert deliveries_send_due(organization=world.org("a"), now=moments[-1] + timedelta(days=3)) == []


def test_no_answer_within_the_timeout_is_a_failed_attempt(world, silent_port, settings, on_commit):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    _endpoint(world, f"http://127.0.0.1:{silent_port}/hook")
    event = _emit(world, on_commit)
    delivery = _delivery(world, event)
    [attempt] = _attempts(world, delivery)
    assert (attempt.status_code, attempt.error) == (None, "No answer within 0.2 s.")
    assert delivery.status == "pending" and delivery.next_attempt_at == attempt.attempted_at + timedelta(seconds=5)


@pytest.mark.parametrize(
    ("address", "allow_loopback", "reason"),
    [
        ("10.0.0.1", True, "10.0.0.1 is a private address"),
        ("192.168.1.20", True, "192.168.1.20 is a private address"),
        ("169.254.169.254", True, "169.254.169.254 is a link-local address"),
        ("fe80::1", True, "fe80::1 is a link-local address"),
        ("224.0.0.1", True, "224.0.0.1 is a multicast address"),
        ("240.0.0.1", True, "240.0.0.1 is a private address"),
        ("0.0.0.0", True, "0.0.0.0 is an unspecified address"),  # noqa: S104 - the address refused
        ("100.64.0.1", True, "100.64.0.1 is not a public address"),
        ("::ffff:10.0.0.1", True, "10.0.0.1 is a private address"),
        ("::1", False, "::1 is a loopback address"),
        ("127.0.0.1", False, "127.0.0.1 is a loopback address"),
        ("127.0.0.1", True, None),
        ("::1", True, None),
        ("93.184.215.14", False, None),
        ("2606:4700::6810:84e5", False, None),
    ],
)
def test_address_refusals(settings, address, allow_loopback, reason):
    settings.WEBHOOK_ALLOW_LOOPBACK = allow_loopback
    assert address_refusal(address) == reason


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.0.0.1/hook", "10.0.0.1 is refused: 10.0.0.1 is a private address."),
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254 is refused: 169.254.169.254 is a link-local address.",
        ),
        ("http://[::1]:8080/hook", "::1 is refused: ::1 is a loopback address."),
        ("ftp://93.184.215.14/hook", "Webhook URLs start with https:// (or http://)."),
        ("https://user:pw@93.184.215.14/hook", "The URL may not carry a user name or password."),
    ],
)
def test_registration_refuses_targets_inside(world, settings, url, message):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ValidationError) as refused:
        _endpoint(world, url)
    assert refused.value.message_dict == {"url": [message]}
    with scope(organization=world.org("a")):
        assert not WebhookEndpoint.objects.exists()


def test_send_time_refuses_a_name_that_now_resolves_inside(world, receiver, monkeypatch, on_commit):
    """DNS rebinding: the name was public when registered; at send time it resolves to 10.0.0.1 and nothing
    is sent."""
    real = socket.getaddrinfo
    answers = {"hooks.erp.test": "93.184.215.14"}

    def fake(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    _endpoint(world, "https://hooks.erp.test/chargeback")
    answers["hooks.erp.test"] = "10.0.0.1"
    event = _emit(world, on_commit)
    [attempt] = _attempts(world, _delivery(world, event))
    assert attempt.status_code is None
    assert attempt.error == "Refused: hooks.erp.test is refused: 10.0.0.1 is a private address."
    assert receiver.requests == []


def test_the_connection_goes_to_the_vetted_address_with_the_named_host(world, receiver, monkeypatch, on_commit):
    real = socket.getaddrinfo
    lookups = []

    def fake(host, port, *args, **kwargs):
        if host == "receiver.erp.test":
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    port = receiver.server.server_address[1]
    _endpoint(world, f"http://receiver.erp.test:{port}/hook")
    lookups.clear()
    _emit(world, on_commit)
    assert lookups == ["receiver.erp.test"]  # resolved once, for the check; the connection used that answer
    assert receiver.requests[0]["headers"]["Host"] == f"receiver.erp.test:{port}"


def test_send_time_refuses_loopback_when_not_allowed(world, receiver, settings, on_commit):
    _endpoint(world, receiver.url)
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    event = _emit(world, on_commit)
    [attempt] = _attempts(world, _delivery(world, event))
    assert attempt.error == "Refused: 127.0.0.1 is refused: 127.0.0.1 is a loopback address."
    assert receiver.requests == []


def test_rotation_overlap_sends_both_signatures_then_only_the_new(world, receiver, on_commit):
    endpoint, old = _endpoint(world, receiver.url)
    endpoint, new = services.endpoint_rotate_secret(endpoint=endpoint, actor=world.user("a"))
    assert new != old and endpoint.previous_secret == old
    _emit(world, on_commit)
    request = receiver.requests[-1]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(request["body"], request["headers"])["type"] == "period.closed"

    # Rotating again 25 hours ago: the overlap is over, only the newest secret signs.
    endpoint, newest = services.endpoint_rotate_secret(
        endpoint=endpoint, actor=world.user("a"), now=timezone.now() - timedelta(hours=25)
    )
    _emit(world, on_commit, period="2026-11")
    request = receiver.requests[-1]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 1
    assert Webhook(newest).verify(request["body"], request["headers"])["data"]["id"] == "2026-11"
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(request["body"], request["headers"])
    with scope(organization=world.org("a")):
        rotations = AuditEvent.objects.filter(action="webhook_endpoint.secret_rotated").order_by("seq")
        assert rotations.count() == 2
        assert not any(secret in json.dumps(e.after) for e in rotations for secret in (old, new, newest))


def test_redeliver_sends_again_in_a_new_round(world, receiver, on_commit):
    _endpoint(world, receiver.url)
    receiver.answers = [500] * 8
    event = _emit(world, on_commit)
    delivery = _delivery(world, event)
    with scope(organization=world.org("a")):
        while delivery.status == "pending":
            deliveries_send_due(organization=world.org("a"), now=delivery.next_attempt_at)
            delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 8)

    with on_commit(execute=True):
        services.delivery_redeliver(delivery=delivery, actor=world.user("a"))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.round_start, delivery.last_status_code) == (
        "succeeded",
        9,
        8,
        200,
    )
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [event.webhook_id] * 9
    with scope(organization=world.org("a")):
        assert AuditEvent.objects.filter(action="webhook_delivery.redelivered", object_id=str(delivery.pk)).count() == 1


def test_an_endpoint_failing_for_the_configured_days_is_disabled_with_mail_and_audit(
    world, receiver, settings, on_commit
):
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 5
    endpoint, _ = _endpoint(world, receiver.url)
    receiver.answers = [500] * 20
    first = _emit(world, on_commit)
    [failed] = _attempts(world, _delivery(world, first))
    endpoint.refresh_from_db()
    assert endpoint.failing_since == failed.attempted_at
    start = failed.attempted_at

    # A later event: four days and 23 hours of failures is not yet five days.
    second = _emit(world, on_commit, period="2026-11")
    with scope(organization=world.org("a")):
        WebhookDelivery.objects.filter(event=second).update(next_attempt_at=start)
        deliveries_send_due(organization=world.org("a"), now=start + timedelta(days=4, hours=23))
    endpoint.refresh_from_db()
    assert endpoint.is_active and mail.outbox == []

    with scope(organization=world.org("a")), on_commit(execute=True):
        deliveries_send_due(organization=world.org("a"), now=start + timedelta(days=5))
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at == start + timedelta(days=5)
    assert endpoint.disabled_reason.startswith("Every attempt failed for 5 days (since ")
    with scope(organization=world.org("a")):
        assert not WebhookDelivery.objects.filter(endpoint=endpoint, status="pending").exists()
        event = AuditEvent.objects.get(action="webhook_endpoint.disabled")
    assert event.actor is None and event.reason == endpoint.disabled_reason
    [message] = mail.outbox
    assert message.to == ["alpha-org_admin@example.com"]
    assert message.subject == f"[Alpha Corp] Webhook endpoint disabled: {receiver.url}"
    assert f"http://127.0.0.1:8000/o/alpha/webhooks/{endpoint.pk}/" in message.body


def test_a_success_resets_the_failure_clock(world, receiver, on_commit):
    endpoint, _ = _endpoint(world, receiver.url)
    receiver.answers = [500]
    _emit(world, on_commit)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    _emit(world, on_commit, period="2026-11")
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.is_active


def test_the_beat_task_sends_a_delivery_whose_message_was_lost(world, receiver, on_commit):
    from apps.webhooks.tasks import send_due

    _endpoint_row, secret = _endpoint(world, receiver.url)
    with on_commit(execute=False):  # the commit happens, the queued send never runs: a lost message
        event = emit(organization=world.org("a"), type="period.closed", object_type="period", object_id="2026-10")
    assert receiver.requests == []
    assert send_due.delay().get() == {"alpha": 1}
    assert Webhook(secret).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])["data"]["seq"] == (
        event.seq
    )
    assert _delivery(world, event).status == "succeeded"
    assert send_due.delay().get() == {}  # nothing due any more; a second run sends nothing
    assert len(receiver.requests) == 1
