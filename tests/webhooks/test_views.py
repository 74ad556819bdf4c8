"""The webhook pages: org admins only, the secret shown once, deliveries with their attempts, bounded queries."""

import re

import pytest
from django.urls import reverse
from django_scopes import scope
from standardwebhooks.webhooks import Webhook

from apps.tenancy.roles import Role
from apps.webhooks.deliveries import deliveries_send_due
from apps.webhooks.events import emit
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def _list_url(world):
    return reverse("webhooks:endpoints", kwargs={"org_slug": world.org("a").slug})


def _url(world, name, endpoint, **extra):
    return reverse(f"webhooks:{name}", kwargs={"org_slug": world.org("a").slug, "pk": endpoint.pk, **extra})


def _secret_shown(response) -> str | None:
    match = re.search(r"<pre>(whsec_[A-Za-z0-9+/=]+)</pre>", response.content.decode())
    return match.group(1) if match else None


def _register(world, client, url, events=("period.closed",)):
    return client.post(_list_url(world), {"url": url, "events": list(events), "description": "NetSuite"})


def test_only_org_admins_reach_the_pages_and_the_nav_entry(world):
    assert world.login("a", Role.FINANCE_ADMIN).get(_list_url(world)).status_code == 403
    response = world.login("a").get(_list_url(world))
    assert response.status_code == 200
    assert "No webhook endpoints yet." in response.content.decode()
    assert f'href="{_list_url(world)}"' in response.content.decode()


def test_register_shows_the_secret_once(world, receiver):
    client = world.login("a")
    response = _register(world, client, receiver.url)
    assert response.status_code == 200
    secret = _secret_shown(response)
    with scope(organization=world.org("a")):
        endpoint = WebhookEndpoint.objects.get()
    assert secret == endpoint.secret
    again = client.get(_list_url(world))
    assert _secret_shown(again) is None and secret not in again.content.decode()
    assert receiver.url in again.content.decode()
    assert secret not in client.get(_url(world, "endpoint", endpoint)).content.decode()


def test_register_refuses_a_private_target_on_the_form(world, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    response = _register(world, world.login("a"), "http://10.0.0.1/hook")
    assert response.status_code == 200
    assert "10.0.0.1 is refused: 10.0.0.1 is a private address." in response.content.decode()
    with scope(organization=world.org("a")):
        assert not WebhookEndpoint.objects.exists()


def test_rotate_shows_the_new_secret_once_and_both_verify(world, receiver, on_commit):
    client = world.login("a")
    old = _secret_shown(_register(world, client, receiver.url))
    with scope(organization=world.org("a")):
        endpoint = WebhookEndpoint.objects.get()
    response = client.post(_url(world, "endpoint_rotate", endpoint))
    new = _secret_shown(response)
    assert new and new != old
    with on_commit(execute=True):
        emit(organization=world.org("a"), type="period.closed", object_type="period", object_id="2026-10")
    request = receiver.requests[-1]
    assert Webhook(old).verify(request["body"], request["headers"])
    assert Webhook(new).verify(request["body"], request["headers"])


def test_detail_lists_deliveries_with_attempts_and_redelivers(
    world, receiver, on_commit, django_assert_max_num_queries
):
    client = world.login("a")
    _register(world, client, receiver.url)
    with scope(organization=world.org("a")):
        endpoint = WebhookEndpoint.objects.get()
    receiver.answers = [500] * 8
    for month in range(1, 13):
        with on_commit(execute=True):
            emit(organization=world.org("a"), type="period.closed", object_type="period", object_id=f"2026-{month:02}")
    with scope(organization=world.org("a")):
        pending = WebhookDelivery.objects.filter(status="pending").order_by("-next_attempt_at")
        assert pending.count() == 8  # 2026-01 to 2026-08 were answered 500, the rest 200
        assert len(deliveries_send_due(organization=world.org("a"), now=pending[0].next_attempt_at)) == 8
    with django_assert_max_num_queries(15):
        response = client.get(_url(world, "endpoint", endpoint))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("HTTP 500") == 8
    assert page.count("HTTP 200") == 12  # 4 at once, 8 on their 5 s retry
    with django_assert_max_num_queries(12):
        client.get(_list_url(world))

    with scope(organization=world.org("a")):
        first = WebhookDelivery.objects.get(event__object_id="2026-01")
    with on_commit(execute=True):
        response = client.post(_url(world, "delivery_redeliver", endpoint, delivery_pk=first.pk))
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.status, first.attempts, first.round_start) == ("succeeded", 3, 2)


def test_disable_enable_delete(world, receiver):
    client = world.login("a")
    _register(world, client, receiver.url)
    with scope(organization=world.org("a")):
        endpoint = WebhookEndpoint.objects.get()
    assert client.post(_url(world, "endpoint_disable", endpoint)).status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == "Disabled by an admin."
    assert "Disabled by an admin." in client.get(_url(world, "endpoint", endpoint)).content.decode()
    client.post(_url(world, "endpoint_enable", endpoint))
    endpoint.refresh_from_db()
    assert endpoint.is_active
    response = client.post(_url(world, "endpoint_delete", endpoint))
    assert response.status_code == 302 and response["Location"] == _list_url(world)
    with scope(organization=world.org("a")):
        assert not WebhookEndpoint.objects.exists()


def test_the_pages_satisfy_the_content_security_policy(world, receiver, on_commit):
    from tests.portal.test_csp import _problems

    client = world.login("a")
    _register(world, client, receiver.url)
    with scope(organization=world.org("a")):
        endpoint = WebhookEndpoint.objects.get()
    with on_commit(execute=True):
        emit(organization=world.org("a"), type="period.closed", object_type="period", object_id="2026-10")
    for url in (_list_url(world), _url(world, "endpoint", endpoint)):
        response = client.get(url)
        assert response.status_code == 200
        assert _problems(response.content.decode()) == []
