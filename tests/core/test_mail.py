"""Notification e-mails: sent after the commit, never for a rolled-back change, retried when the server fails."""

import pytest
from django.core import mail
from django.db import transaction

from apps.core.mail import send_mail_on_commit

from . import flaky_mail


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.core.flaky_mail.FlakyBackend"
    flaky_mail.FAILURES["left"] = 0
    yield flaky_mail.FAILURES
    flaky_mail.FAILURES["left"] = 0


@pytest.mark.django_db
def test_an_email_is_sent_once_the_change_commits_to_each_address_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert send_mail_on_commit(
            "Statement issued", "Your October statement.", ["b@x.test", "", "a@x.test", "b@x.test"]
        )
        assert mail.outbox == []  # nothing before the commit
    assert [(m.subject, m.to) for m in mail.outbox] == [("Statement issued", ["a@x.test", "b@x.test"])]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_for_a_change_that_rolled_back():
    with pytest.raises(RuntimeError), transaction.atomic():
        send_mail_on_commit("Statement issued", "Your October statement.", ["a@x.test"])
        raise RuntimeError("the change failed")
    assert mail.outbox == []


def test_nobody_to_write_to_sends_nothing():
    assert send_mail_on_commit("Statement issued", "body", ["", None]) is False
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_down_for_a_moment_is_tried_again(flaky):
    flaky["left"] = 2
    send_mail_on_commit("Dispute resolved", "Your dispute was accepted.", ["owner@x.test"])
    assert flaky["left"] == 0
    assert [(m.subject, m.to) for m in mail.outbox] == [("Dispute resolved", ["owner@x.test"])]


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_stays_down_is_given_up_on_after_the_retries_without_failing_the_change(flaky, settings):
    settings.MAIL_MAX_RETRIES = 2
    flaky["left"] = 10
    with transaction.atomic():
        send_mail_on_commit("Dispute resolved", "body", ["owner@x.test"])
    assert flaky["left"] == 7  # the first try and two retries
    assert mail.outbox == []
