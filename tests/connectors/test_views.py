"""The connectors pages: org admins save a key that is never shown again, finance pulls now, the invoice list
shows the last pulls; who sees what; each page in a bounded number of queries."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.connectors import crypto
from apps.connectors.models import ConnectorPull, ProviderConnection, PullStatus
from apps.tenancy.roles import Role

from .test_pull import COMPLETIONS, OPENAI_KEY, serve_openai

pytestmark = pytest.mark.django_db


def url(world, name, **kwargs):
    return reverse(f"connectors:{name}", kwargs={"org_slug": world.org("a").slug, **kwargs})


def create(world, client=None, **overrides):
    client = client or world.login("a")
    data = {"provider": "openai", "label": "OpenAI prod", "api_key": OPENAI_KEY, "repull_days": 3, **overrides}
    return client.post(url(world, "list"), data)


def test_an_org_admin_saves_a_key_that_is_stored_encrypted_and_never_shown_again(world):
    client = world.login("a")
    response = create(world, client)
    assert response.status_code == 302
    with scope(organization=world.org("a")):
        connection = ProviderConnection.objects.get()
    assert OPENAI_KEY not in connection.credentials_encrypted
    assert crypto.decrypt(connection.credentials_encrypted) == {"api_key": OPENAI_KEY}
    assert connection.credentials_hint == "…mnop"
    for page in (client.get(response.url), client.get(url(world, "list"))):
        assert page.status_code == 200
        assert OPENAI_KEY not in page.content.decode()
        assert "…mnop" in page.content.decode()

    # Replacing the key: the form never echoes either key; an empty field keeps the stored one.
    detail = url(world, "detail", pk=connection.pk)
    form = {"label": "OpenAI production", "repull_days": 5, "is_active": "on", "api_key": ""}
    assert client.post(detail, form).status_code == 302
    with scope(organization=world.org("a")):
        connection.refresh_from_db()
    assert (connection.label, connection.repull_days, crypto.decrypt(connection.credentials_encrypted)) == (
        "OpenAI production", 5, {"api_key": OPENAI_KEY},
    )  # fmt: skip
    assert client.post(detail, {**form, "api_key": "sk-admin-new-key-000000000000wxyz"}).status_code == 302
    with scope(organization=world.org("a")):
        connection.refresh_from_db()
    assert crypto.decrypt(connection.credentials_encrypted) == {"api_key": "sk-admin-new-key-000000000000wxyz"}
    assert "sk-admin-new-key" not in client.get(detail).content.decode()


def test_who_sees_and_who_acts(world):
    assert create(world).status_code == 302
    with scope(organization=world.org("a")):
        connection = ProviderConnection.objects.get()
    for role, status in (
        (Role.ORG_ADMIN, 200),
        (Role.FINANCE_ADMIN, 200),
        (Role.FINANCE_ANALYST, 200),
        (Role.VIEWER, 403),
        (Role.BUDGET_OWNER, 403),
    ):
        assert world.login("a", role).get(url(world, "list")).status_code == status, role
    # Finance cannot add or change credentials (org admins keep them); org admins do not ingest.
    analyst = world.login("a", Role.FINANCE_ANALYST)
    assert create(world, analyst, label="Another").status_code == 403
    assert world.login("a").post(url(world, "pull", pk=connection.pk)).status_code == 403
    assert analyst.post(url(world, "delete", pk=connection.pk)).status_code == 403


def test_pull_now_runs_the_pull_and_the_invoice_list_shows_its_status(
    world, price_book, fake_provider, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    serve_openai(fake_provider, dec6_input=1_000_000, dec6_cost="2.50")
    create(world)
    with scope(organization=world.org("a")):
        connection = ProviderConnection.objects.get()
    analyst = world.login("a", Role.FINANCE_ANALYST)
    with django_capture_on_commit_callbacks(execute=True):
        response = analyst.post(url(world, "pull", pk=connection.pk))
    assert response.status_code == 302
    with scope(organization=world.org("a")):
        pull = ConnectorPull.objects.get()
        connection.refresh_from_db()
    assert (pull.trigger, pull.status, pull.created_by_label) == ("manual", PullStatus.SUCCEEDED, analyst_name(world))
    assert connection.last_pull_status == PullStatus.SUCCEEDED
    assert len(fake_provider.asked(COMPLETIONS)) == 2

    with django_assert_max_num_queries(14):
        invoices = analyst.get(reverse("invoices:list", kwargs={"org_slug": world.org("a").slug}))
    page = invoices.content.decode()
    assert "Provider connectors" in page and "OpenAI prod" in page and "Succeeded" in page
    assert url(world, "pull", pk=connection.pk) in page  # the pull-now button, for those who ingest
    with django_assert_max_num_queries(12):
        assert analyst.get(url(world, "list")).status_code == 200
    with django_assert_max_num_queries(14):
        detail = analyst.get(url(world, "detail", pk=connection.pk))
    assert f"#{pull.usage_job_id}" in detail.content.decode() and f"#{pull.invoice_job_id}" in detail.content.decode()

    # A viewer sees the invoices, with the last pull but without the button.
    viewer_page = world.login("a", Role.VIEWER).get(reverse("invoices:list", kwargs={"org_slug": world.org("a").slug}))
    assert "OpenAI prod" in viewer_page.content.decode()
    assert url(world, "pull", pk=connection.pk) not in viewer_page.content.decode()


def analyst_name(world) -> str:
    return world.user("a", Role.FINANCE_ANALYST).username


def test_pull_now_while_a_pull_runs_says_so_and_queues_nothing(world, django_capture_on_commit_callbacks):
    create(world)
    with scope(organization=world.org("a")):
        connection = ProviderConnection.objects.get()
        connection.last_pull_status = PullStatus.RUNNING
        connection.last_pull_started_at = datetime.now(UTC)
        connection.save()
    analyst = world.login("a", Role.FINANCE_ANALYST)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = analyst.post(url(world, "pull", pk=connection.pk), follow=True)
    assert callbacks == []
    assert "is running" in response.content.decode()


def test_the_invoice_list_without_connections_shows_no_panel(world):
    page = world.login("a", Role.FINANCE_ANALYST).get(reverse("invoices:list", kwargs={"org_slug": "alpha"}))
    assert "Provider connectors" not in page.content.decode()


def test_removing_a_connection_keeps_what_it_stored_and_is_audited(world):
    create(world)
    with scope(organization=world.org("a")):
        connection = ProviderConnection.objects.get()
    response = world.login("a").post(url(world, "delete", pk=connection.pk))
    assert response.status_code == 302
    with scope(organization=world.org("a")):
        assert not ProviderConnection.objects.exists()
        from apps.audit.models import AuditEvent

        actions = list(AuditEvent.objects.values_list("action", flat=True).order_by("seq"))
    assert actions[-2:] == ["connector.created", "connector.deleted"]
