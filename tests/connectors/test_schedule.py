"""Which connections the hourly beat task pulls, the command, and the encryption keys' rotation."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope

from apps.connectors import crypto
from apps.connectors.models import ConnectorPull, ProviderConnection, PullStatus
from apps.connectors.schedule import connections_due, rotate_encryption
from apps.connectors.services import connection_create
from apps.connectors.tasks import pull_due

from .test_pull import COMPLETIONS, OPENAI_KEY, serve_openai

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def make(org, label, **fields) -> ProviderConnection:
    with scope(organization=org):
        connection = connection_create(organization=org, actor=None, provider="openai", label=label, api_key=OPENAI_KEY)
        ProviderConnection.objects.filter(organization=org, pk=connection.pk).update(**fields)
    return connection


def test_due_are_the_active_connections_not_pulled_within_the_interval_and_not_running(world, settings):
    settings.CONNECTOR_PULL_EVERY_MINUTES = 60
    settings.CONNECTOR_PULL_STALE_MINUTES = 120
    a, b = world.org("a"), world.org("b")
    never = make(a, "never")
    old = make(
        b, "pulled 61 minutes ago", last_pull_started_at=NOW - timedelta(minutes=61), last_pull_status="succeeded"
    )
    make(a, "pulled 10 minutes ago", last_pull_started_at=NOW - timedelta(minutes=10), last_pull_status="succeeded")
    make(a, "inactive", is_active=False)
    make(
        a,
        "running",
        last_pull_started_at=NOW - timedelta(minutes=65),  # past the interval, not yet stale
        last_pull_status="running",
    )
    stale = make(b, "stale run", last_pull_started_at=NOW - timedelta(minutes=150), last_pull_status="running")
    assert connections_due(now=NOW) == [(a.pk, never.pk), (b.pk, old.pk), (b.pk, stale.pk)]


def test_the_beat_task_pulls_each_due_connection_and_the_command_pulls_one_org(world, fake_provider, eager_celery):
    serve_openai(fake_provider, dec6_input=1_000_000, dec6_cost="2.50")
    first = make(world.org("a"), "OpenAI")
    make(world.org("b"), "OpenAI b", is_active=False)
    assert pull_due() == [first.pk]
    with scope(organization=world.org("a")):
        pull = ConnectorPull.objects.get()
    assert (pull.trigger, pull.status) == ("schedule", PullStatus.SUCCEEDED)
    assert pull_due() == []  # pulled just now: not due for CONNECTOR_PULL_EVERY_MINUTES

    out = StringIO()
    call_command("pull_connectors", "--org", "alpha", stdout=out)
    line = json.loads(out.getvalue())
    assert (line["connection"], line["status"], line["pages"]) == (first.pk, "succeeded", 5)
    assert len(fake_provider.asked(COMPLETIONS)) == 4
    with scope(organization=world.org("a")):
        assert list(ConnectorPull.objects.values_list("trigger", flat=True).order_by("pk")) == ["schedule", "command"]
    assert timezone.now() >= pull.started_at


def test_rotation_reencrypts_every_token_under_the_new_first_key(world, settings):
    old_key = settings.CONNECTOR_ENCRYPTION_KEYS[0]
    connection = make(world.org("a"), "OpenAI")
    other = make(world.org("b"), "OpenAI b")
    new_key = Fernet.generate_key().decode()
    settings.CONNECTOR_ENCRYPTION_KEYS = [new_key, old_key]
    assert rotate_encryption() == 2
    settings.CONNECTOR_ENCRYPTION_KEYS = [new_key]  # the old key dropped: every token still reads
    for row, org in ((connection, world.org("a")), (other, world.org("b"))):
        with scope(organization=org):
            row.refresh_from_db()
        assert crypto.decrypt(row.credentials_encrypted) == {"api_key": OPENAI_KEY}
    settings.CONNECTOR_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(crypto.CredentialsUnreadable, match="enter the key again"):
        crypto.decrypt(connection.credentials_encrypted)


def test_a_bad_encryption_key_is_reported_by_the_system_check(settings):
    from apps.connectors.apps import check_encryption_keys

    settings.CONNECTOR_ENCRYPTION_KEYS = ["not-a-key"]
    assert [error.id for error in check_encryption_keys()] == ["connectors.E001"]
