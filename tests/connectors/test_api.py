"""The connectors API: connections and their pulls read with invoices:write, never a key; "pull now" answers 202
with the connection and its pulls' URL, 409 while a pull runs."""

from datetime import UTC, datetime

import pytest
from django_scopes import scope

from apps.connectors.models import ProviderConnection, PullStatus
from apps.connectors.services import connection_create
from apps.tenancy.roles import TokenScope

from .test_pull import OPENAI_KEY, serve_openai

pytestmark = pytest.mark.django_db


def test_read_and_pull_now_through_the_api(world, price_book, fake_provider, django_capture_on_commit_callbacks):
    serve_openai(fake_provider, dec6_input=1_000_000, dec6_cost="2.50")
    org = world.org("a")
    with scope(organization=org):
        connection = connection_create(
            organization=org, actor=None, provider="openai", label="OpenAI", api_key=OPENAI_KEY
        )
    api = world.api("a", scopes=[TokenScope.INVOICES_WRITE])
    listed = api.get("/api/v1/connectors/")
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert (row["id"], row["provider"], row["credentials_hint"], row["last_pull_status"]) == (
        connection.pk, "openai", "…mnop", "never",
    )  # fmt: skip
    assert OPENAI_KEY not in listed.content.decode() and "credentials_encrypted" not in row
    assert world.api("a", scopes=[TokenScope.ORG_READ]).get("/api/v1/connectors/").status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        pulled = api.post(f"/api/v1/connectors/{connection.pk}/pull/")
    assert pulled.status_code == 202
    assert pulled["Location"].endswith(f"/api/v1/connectors/{connection.pk}/pulls/")
    pulls = api.get(f"/api/v1/connectors/{connection.pk}/pulls/").json()["results"]
    assert [(p["trigger"], p["status"], p["pages"], p["results"]) for p in pulls] == [("manual", "succeeded", 5, 4)]
    assert pulls[0]["created_by_label"].startswith("api:")
    assert api.get(f"/api/v1/connectors/{connection.pk}/").json()["last_pull_status"] == "succeeded"

    with scope(organization=org):
        ProviderConnection.objects.filter(pk=connection.pk).update(
            last_pull_status=PullStatus.RUNNING, last_pull_started_at=datetime.now(UTC)
        )
    refused = api.post(f"/api/v1/connectors/{connection.pk}/pull/")
    assert refused.status_code == 409 and "is running" in refused.json()["detail"]
