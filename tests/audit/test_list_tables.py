"""The audit history: sorted by a column on request, exported as shown (its filters respected)."""

import pytest
from django.db import transaction
from django.urls import reverse
from django_scopes import scope

from apps.audit.services import audit_record
from tests.tables import column, csv_rows, sorted_header, xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(world):
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization), transaction.atomic():
            for action, reason in (("zeta.done", f"b-{key}"), ("alpha.done", f"c-{key}"), ("mid.done", f"a-{key}")):
                audit_record(
                    organization=organization,
                    actor=world.user(key),
                    action=action,
                    object_type="test.thing",
                    object_id="7",
                    reason=reason,
                )


def _get(world, query):
    return world.login("a").get(reverse("audit:history", kwargs={"org_slug": "alpha"}) + query)


def test_history_sorts_and_exports(world, events):
    rows = csv_rows(_get(world, "?action=&sort=action&export=csv"))
    assert rows[0] == ["#", "When (UTC)", "Actor", "Action", "Object", "Reason"]
    assert column(rows, "Action") == ["alpha.done", "mid.done", "zeta.done"]
    assert column(rows, "Object") == ["test.thing 7"] * 3
    rows = csv_rows(_get(world, "?sort=-reason&export=csv"))
    assert column(rows, "Reason") == ["c-a", "b-a", "a-a"]
    assert sorted_header(_get(world, "?sort=-reason").content.decode()) == ("Reason", "descending")
    # The default (and an unknown key): newest first.
    sheet = xlsx_rows(_get(world, "?sort=hash&export=xlsx"))
    assert column(sheet, "Reason") == ["a-a", "c-a", "b-a"]
    assert column(sheet, "#") == [3, 2, 1]
    # A filter narrows the export.
    assert column(csv_rows(_get(world, "?action=mid&export=csv")), "Reason") == ["a-a"]
