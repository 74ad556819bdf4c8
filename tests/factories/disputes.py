"""Disputes written straight to the table, as one opened before today's checks would be (the services in
``apps.disputes.services`` are how a test opens one through the rules: ``tests.scenarios.open_dispute``)."""

import factory
from factory.django import DjangoModelFactory

from apps.disputes.models import Dispute, DisputeComment


class DisputeFactory(DjangoModelFactory[Dispute]):
    """An open dispute of ``statement`` (of ``line`` when given), in the statement's period and currency."""

    class Meta:
        model = Dispute

    statement = None  # required: the statement disputed
    line = None
    organization = factory.LazyAttribute(lambda o: o.statement.organization)
    billing_period = factory.LazyAttribute(lambda o: o.statement.billing_period)
    owner = factory.LazyAttribute(lambda o: o.statement.owner)
    currency = factory.LazyAttribute(lambda o: o.statement.currency)
    amount_nano = 1_000_000_000
    reason = "Opened before the check."
    opened_by = factory.SubFactory("tests.factories.accounts.UserFactory")


class DisputeCommentFactory(DjangoModelFactory[DisputeComment]):
    class Meta:
        model = DisputeComment

    dispute = factory.SubFactory(DisputeFactory)
    organization = factory.LazyAttribute(lambda o: o.dispute.organization)
    author = factory.SubFactory("tests.factories.accounts.UserFactory")
    author_label = factory.LazyAttribute(lambda o: o.author.username)
    body = "Checked the tags."
