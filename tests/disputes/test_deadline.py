"""The dispute window (issue 18): ``Organization.dispute_window_business_days`` business days after a draft is
issued, shown to owners, enforced when a dispute is opened, and a reminder once, a day before it closes.

The reference for "N business days after" is numpy's business-day calendar (``numpy.busday_offset`` with the
Monday-to-Friday week mask; a weekend issue day rolls back to the Friday before, which is not counted), never
the code under test."""

import datetime
from decimal import Decimal

import numpy
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.disputes.reminders import dispute_deadline_reminders_send
from apps.disputes.services import dispute_open
from apps.disputes.tasks import remind_deadlines
from apps.statements.deadlines import add_business_days, dispute_deadline, dispute_last_day
from apps.statements.models import Statement
from apps.tenancy.models import Organization
from tests import scenarios

UTC = datetime.UTC


def _numpy_last_day(issued: datetime.date, days: int) -> datetime.date:
    return numpy.busday_offset(issued, days, roll="backward").astype(datetime.date)


def test_business_days_are_counted_as_numpy_counts_them():
    start = datetime.date(2026, 11, 27)  # a Friday; four weeks cover every weekday and weekend start
    for offset in range(28):
        day = start + datetime.timedelta(days=offset)
        for days in (1, 2, 5, 10, 30):
            assert add_business_days(day, days) == _numpy_last_day(day, days), (day, days)


def _issue_at(issued: scenarios.Issued, moment: datetime.datetime) -> list[Statement]:
    with scope(organization=issued.organization):
        Statement.objects.filter(billing_period=issued.billing_period).update(issued_at=moment)
        return list(Statement.objects.filter(billing_period=issued.billing_period).order_by("owner_code"))


def _set_window(organization: Organization, days: int) -> None:
    Organization.objects.filter(pk=organization.pk).update(dispute_window_business_days=days)
    organization.refresh_from_db()


def test_the_deadline_is_the_end_of_the_fifth_business_day_after_the_issue_day(issued):
    # Issued on Thursday 5 November 2026 at 16:20: Fri 6, Mon 9, Tue 10, Wed 11, Thu 12 → until the end of the 12th.
    [statement, *_] = _issue_at(issued, datetime.datetime(2026, 11, 5, 16, 20, tzinfo=UTC))
    assert issued.organization.dispute_window_business_days == 5
    assert dispute_last_day(statement) == datetime.date(2026, 11, 12) == _numpy_last_day(datetime.date(2026, 11, 5), 5)
    assert dispute_deadline(statement) == datetime.datetime(2026, 11, 13, 0, 0, tzinfo=UTC)
    _set_window(issued.organization, 2)
    statement.organization.refresh_from_db()
    assert dispute_last_day(statement) == datetime.date(2026, 11, 9)  # Fri 6, Mon 9


def test_a_dispute_after_the_window_is_refused_with_the_day_it_closed(world, issued):
    issued_at = timezone.now() - datetime.timedelta(days=30)
    _issue_at(issued, issued_at)
    statement = issued.statement("CC-1101")
    last_day = _numpy_last_day(issued_at.date(), 5)
    with scope(organization=issued.organization), pytest.raises(ValidationError) as refused:
        dispute_open(statement=statement, actor=world.user("a", "budget_owner"), amount=Decimal("1.00"), reason="x")
    assert refused.value.messages == [
        f"The dispute window of 2026-10-CC-1101-v1 has closed: disputes were open until the end of "
        f"{last_day:%A %-d %B %Y}, 5 business days after it was issued on {issued_at:%-d %B %Y}. "
        "Ask finance if the charge is still wrong."
    ]
    with scope(organization=issued.organization):
        assert not statement.disputes.exists()


def test_the_owner_sees_the_deadline_and_a_closed_window_as_a_disabled_action(
    world, issued, django_assert_max_num_queries
):
    client = world.login("a", "budget_owner")
    statement = issued.statement("CC-1101")
    url = f"/o/alpha/statements/{statement.pk}/"
    last_day = _numpy_last_day(statement.issued_at.date(), 5)
    with django_assert_max_num_queries(28):  # 23 measured with an open dispute; the deadline reads no table
        html = client.get(url).content.decode()
    assert f"<dt>Disputes until</dt><dd>end of {last_day:%A %-d %B %Y} (5 business days after it was issued)" in html
    assert f'/o/alpha/statements/{statement.pk}/dispute/">Dispute the whole statement</a>' in html
    form = client.get(f"/o/alpha/statements/{statement.pk}/dispute/").content.decode()
    assert f"open until the end of <strong>{last_day:%A %-d %B %Y}</strong>" in form

    _issue_at(issued, timezone.now() - datetime.timedelta(days=30))
    html = client.get(url).content.decode()
    assert (
        '<a class="is-disabled" aria-disabled="true" role="link" aria-describedby="dispute-closed">'
        "Dispute the whole statement</a>"
    ) in html
    assert '<p class="muted" id="dispute-closed">The dispute window closed at the end of' in html
    assert f"/statements/{statement.pk}/dispute/?line=" not in html
    response = client.get(f"/o/alpha/statements/{statement.pk}/dispute/", follow=True)
    assert "The dispute window of 2026-10-CC-1101-v1 has closed" in response.content.decode()


def test_the_api_gives_a_drafts_disputes_until(world, issued):
    _issue_at(issued, datetime.datetime(2026, 11, 5, 16, 20, tzinfo=UTC))
    statement = issued.statement("CC-1101")
    row = world.api("a").get(f"/api/v1/statements/{statement.pk}/").json()
    assert row["disputes_until"] == "2026-11-13T00:00:00Z"


def test_the_window_is_an_organisation_setting(world):
    client = world.login("a", "org_admin")
    page = client.get("/o/alpha/settings/").content.decode()
    assert 'name="dispute_window_business_days"' in page
    organization = world.org("a")
    form = {
        "name": organization.name,
        "base_currency": organization.base_currency,
        "variance_tolerance_pct": organization.variance_tolerance_pct,
        "period_start_day": organization.period_start_day,
        "fx_policy": organization.fx_policy,
        "fx_source": organization.fx_source,
        "dispute_response_days": organization.dispute_response_days,
        "dispute_window_business_days": 8,
    }
    assert client.post("/o/alpha/settings/", form).status_code == 302
    organization.refresh_from_db()
    assert organization.dispute_window_business_days == 8
    with scope(organization=organization):
        [event] = AuditEvent.objects.filter(action="organization.updated")
    assert event.before["dispute_window_business_days"] == 5 and event.after["dispute_window_business_days"] == 8
    form["dispute_window_business_days"] = 31
    assert client.post("/o/alpha/settings/", form).status_code == 200
    organization.refresh_from_db()
    assert organization.dispute_window_business_days == 8


# --- the reminder ----------------------------------------------------------------------------------------


def test_the_reminder_goes_once_a_day_before_the_window_closes(world, issued, django_capture_on_commit_callbacks):
    statements = _issue_at(issued, datetime.datetime(2026, 11, 5, 16, 20, tzinfo=UTC))
    organization = issued.organization
    closes = datetime.datetime(2026, 11, 13, 0, 0, tzinfo=UTC)
    mail.outbox.clear()
    with scope(organization=organization), django_capture_on_commit_callbacks(execute=True):
        assert (
            dispute_deadline_reminders_send(organization=organization, now=closes - datetime.timedelta(hours=25)) == 0
        )
        assert dispute_deadline_reminders_send(
            organization=organization, now=closes - datetime.timedelta(hours=20)
        ) == (len(statements))
        assert (
            dispute_deadline_reminders_send(organization=organization, now=closes - datetime.timedelta(hours=19)) == 0
        )
    [reminder] = mail.outbox
    assert reminder.to == ["alpha-budget_owner@example.com"]
    assert reminder.subject == "[Alpha Corp] Disputes on 2026-10 close Thursday 12 November"
    assert "closes at the end of Thursday 12 November 2026" in reminder.body
    assert "CC-1101 Search: 16.11 USD" in reminder.body
    with scope(organization=organization):
        assert set(Statement.objects.values_list("deadline_reminded_at", flat=True)) == {
            closes - datetime.timedelta(hours=20)
        }
        [event] = AuditEvent.objects.filter(action="statements.dispute_deadline_reminded")
    assert event.after["statements"] == [s.reference for s in statements]
    assert event.after["disputes_until"] == "2026-11-13T00:00:00+00:00"


def test_no_reminder_once_the_window_has_closed_or_for_another_organisation(world, issued):
    _issue_at(issued, datetime.datetime(2026, 11, 5, 16, 20, tzinfo=UTC))
    closes = datetime.datetime(2026, 11, 13, 0, 0, tzinfo=UTC)
    other = scenarios.issued(
        world.org("b"), world.user("b", "finance_analyst"), owner_user=world.user("b", "budget_owner")
    )
    _issue_at(other, datetime.datetime(2026, 11, 5, 16, 20, tzinfo=UTC))
    with scope(organization=issued.organization):
        assert dispute_deadline_reminders_send(organization=issued.organization, now=closes) == 0
    # The task reminds each organisation in its own scope; org b's statements are marked only by org b's run.
    summary = remind_deadlines(now=(closes - datetime.timedelta(hours=2)).isoformat())
    assert summary == {"alpha": 3, "beta": 3}
    assert remind_deadlines(now=(closes - datetime.timedelta(hours=1)).isoformat()) == {"alpha": 0, "beta": 0}
    with scope(organization=world.org("b")):
        assert Statement.objects.filter(deadline_reminded_at__isnull=True).count() == 0
