"""Billing periods and their late-data flags.

A period starts open, and its state changes only through ``apps.periods.services.period_transition`` (the
model refuses anything else). Tests of the workflow walk it (``tests.scenarios.step`` / ``walk``); tests of
what other apps do in a given state put the period there directly with ``set_state``, which passes the
model's guard and fills the timestamps the database's constraints ask of that state.
"""

import datetime

import factory
from django.utils import timezone
from django_scopes import scope
from factory.django import DjangoModelFactory

from apps.periods.models import BillingPeriod, LateArrival

ORDER = ["open", "reconciling", "in_review", "approved", "closed"]


def set_state(billing_period: BillingPeriod, state: str, *, version: int | None = None) -> BillingPeriod:
    """Put a period in a state directly, past the model's transition guard, with the timestamps the
    database's constraints ask of that state (tests of statements and allocation do not walk the workflow;
    tests/periods and tests/test_full_cycle.py do)."""
    now = timezone.now()
    with scope(organization=billing_period.organization_id):
        billing_period.state = state
        if version is not None:
            billing_period.version = version
        reached = ORDER.index(state)
        billing_period.prepared_at = billing_period.prepared_at or (now if reached >= 2 else None)
        billing_period.approved_at = billing_period.approved_at or (now if reached >= 3 else None)
        billing_period.closed_at = billing_period.closed_at or (now if reached >= 4 else None)
        billing_period._transition_saving = True
        try:
            billing_period.save()
        finally:
            billing_period._transition_saving = False
    return billing_period


def billing_period_of(run) -> BillingPeriod:
    """The period a run (allocation or reconciliation) belongs to."""
    with scope(organization=run.organization_id):
        return BillingPeriod.objects.get(pk=run.billing_period_id)


class BillingPeriodFactory(DjangoModelFactory[BillingPeriod]):
    """A month's period, open unless ``state`` says otherwise (then moved there with ``set_state``)."""

    class Meta:
        model = BillingPeriod

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    period = datetime.date(2026, 10, 1)

    @classmethod
    def _create(cls, model_class, *args, state: str = BillingPeriod.State.OPEN, version: int | None = None, **kwargs):
        with scope(organization=kwargs["organization"]):
            billing_period = super()._create(model_class, *args, **kwargs)
        if state != BillingPeriod.State.OPEN or version is not None:
            set_state(billing_period, state, version=version)
        return billing_period


class LateArrivalFactory(DjangoModelFactory[LateArrival]):
    """Usage rows an ingest job stored for a period after it left open."""

    class Meta:
        model = LateArrival

    billing_period = factory.SubFactory(BillingPeriodFactory)
    organization = factory.LazyAttribute(lambda o: o.billing_period.organization)
    kind = LateArrival.Kind.USAGE
    job_id = factory.Sequence(lambda n: n + 1)
    version = factory.LazyAttribute(lambda o: o.billing_period.version)
    state_at_arrival = BillingPeriod.State.RECONCILING
    rows = 1
    first_at = factory.LazyFunction(timezone.now)
    last_at = factory.SelfAttribute("first_at")
