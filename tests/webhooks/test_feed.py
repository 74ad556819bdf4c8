"""GET /api/v1/events/: the organisation's events in seq order, paged by ``after`` and ``limit``, filtered by
``type``, with a ``next`` URL that never skips an event."""

import pytest
from django.urls import reverse

from apps.tenancy.roles import TokenScope
from apps.webhooks.events import emit

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def _emit(organization, type: str = "period.closed", object_id: str = "2026-10", **extra):
    defaults = {
        "object_type": "period",
        "api_path": f"/api/v1/periods/{object_id}/",
        "data": {"period": object_id, "state": "closed", "version": 1},
        "actor_label": "alpha-finance_admin",
    }
    return emit(organization=organization, type=type, object_id=object_id, **{**defaults, **extra})


@pytest.fixture
def five(world):
    """Org a: five events (seq 1-5), the third a dispute; org b: one of its own."""
    organization = world.org("a")
    made = [_emit(organization, object_id=f"2026-0{month}") for month in (1, 2)]
    made.append(
        _emit(
            organization,
            "dispute.opened",
            "17",
            object_type="dispute",
            api_path="/api/v1/disputes/17/",
            data={"status": "open"},
        )
    )
    made += [_emit(organization, object_id=f"2026-0{month}") for month in (3, 4)]
    _emit(world.org("b"), object_id="2026-09")
    return made


def test_the_route_is_the_event_list_of_the_api():
    assert reverse("api:event-list") == URL


def test_a_row_has_the_webhook_body_shape_with_the_events_id_and_seq(world, five):
    response = world.api("a", [TokenScope.EVENTS_READ]).get(URL, {"limit": "1"})
    assert response.status_code == 200
    [row] = response.json()["results"]
    first = five[0]
    assert row == {
        "id": first.webhook_id,
        "seq": 1,
        "type": "period.closed",
        "timestamp": first.occurred_at.isoformat().replace("+00:00", "Z"),
        "actor": "alpha-finance_admin",
        "data": {
            "id": "2026-01",
            "object": "period",
            "url": "http://testserver/api/v1/periods/2026-01/",
            "seq": 1,
            "period": "2026-01",
            "state": "closed",
            "version": 1,
        },
    }
    assert row["id"].startswith("msg_") and len(row["id"]) == 4 + 32


def test_paging_with_after_follows_next_to_the_end_and_keeps_the_place_when_empty(world, five):
    api = world.api("a", [TokenScope.EVENTS_READ])
    pages, url = [], f"{URL}?limit=2"
    for _ in range(4):
        body = api.get(url).json()
        pages.append(([row["seq"] for row in body["results"]], body["has_more"]))
        url = body["next"]
    assert pages == [([1, 2], True), ([3, 4], True), ([5], False), ([], False)]
    # An empty page points at the same place: polling it again later picks up what comes next.
    assert url == "http://testserver/api/v1/events/?after=5&limit=2"
    _emit(world.org("a"), object_id="2026-05")
    body = api.get(url).json()
    assert [row["seq"] for row in body["results"]] == [6]
    assert body["next"] == "http://testserver/api/v1/events/?after=6&limit=2"


def test_type_keeps_one_event_type_and_next_continues_after_its_last_row(world, five):
    api = world.api("a", [TokenScope.EVENTS_READ])
    body = api.get(URL, {"type": "dispute.opened"}).json()
    assert [(row["seq"], row["type"], row["data"]["id"]) for row in body["results"]] == [(3, "dispute.opened", "17")]
    assert body["next"] == "http://testserver/api/v1/events/?after=3&type=dispute.opened"
    assert [row["seq"] for row in api.get(URL, {"type": "period.closed", "after": "2"}).json()["results"]] == [4, 5]


def test_an_event_without_an_api_path_has_no_url(world):
    emit(
        organization=world.org("a"),
        type="budget.threshold_crossed",
        object_type="alert",
        object_id=9,
        data={"owner": "CC-1101"},
    )
    [row] = world.api("a").get(URL).json()["results"]
    assert row["data"] == {"id": "9", "object": "alert", "url": None, "seq": 1, "owner": "CC-1101"}
    assert row["actor"] == ""


def test_the_default_page_is_100_and_the_largest_500(world):
    organization = world.org("a")
    for month in range(1, 13):
        _emit(organization, object_id=f"2026-{month:02}")
    api = world.api("a")
    assert len(api.get(URL).json()["results"]) == 12
    assert api.get(URL, {"limit": "500"}).status_code == 200


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("after=-1", {"after": ["Give the seq of the last event you have (a whole number; 0 for the start)."]}),
        ("after=x", {"after": ["Give the seq of the last event you have (a whole number; 0 for the start)."]}),
        ("after=1&after=2", {"after": ["Give after once."]}),
        # The error body's "limit" is the 413's setting name: messages about the parameter are named instead.
        ("limit=0", {"non_field_errors": ["limit: Give a whole number from 1 to 500."]}),
        ("limit=501", {"non_field_errors": ["limit: Give a whole number from 1 to 500."]}),
        ("limit=1&limit=2", {"non_field_errors": ["limit: Give limit once."]}),
        ("page_size=5", {"non_field_errors": ["Unknown parameter 'page_size': the feed takes after, limit and type."]}),
        (
            "type=period.deleted",
            {"type": ["Select a valid choice. period.deleted is not one of the available choices."]},
        ),
        ("type=", {"type": ["Give a value, or leave the parameter out."]}),
    ],
)
def test_invalid_parameters_answer_400(world, query, errors):
    response = world.api("a").get(f"{URL}?{query}")
    assert response.status_code == 400, response.content
    assert response.json() == errors


def test_the_feed_needs_the_events_read_scope(world):
    response = world.api("a", [TokenScope.STATEMENTS_READ]).get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "This token lacks the 'events:read' scope."}


def test_another_organisations_events_never_show(world, five):
    rows = world.api("b").get(URL).json()["results"]
    assert [(row["seq"], row["data"]["id"]) for row in rows] == [(1, "2026-09")]
    assert all(row["id"] != event.webhook_id for row in rows for event in five)


def test_a_page_is_read_in_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    organization = world.org("a")
    for month in range(1, 13):
        for day in range(1, 10):
            _emit(organization, object_id=f"2026-{month:02}", data={"n": day})
    api = world.api("a")
    with django_assert_max_num_queries(6):
        body = api.get(URL, {"limit": "100"}).json()
    assert len(body["results"]) == 100 and body["has_more"] is True


def test_a_number_too_long_to_convert_is_a_400_not_a_500(world):
    response = world.api("a").get(f"{URL}?after={'9' * 5000}")
    assert response.status_code == 400
    assert response.json() == {"after": ["Give the seq of the last event you have (a whole number; 0 for the start)."]}
