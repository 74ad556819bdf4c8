"""A month ready to be allocated (catalog, published rules, usage) and reconciled, for the run-job tests."""

import datetime

from django.db.models import Sum
from django_scopes import scope

from apps.allocation.rules.services import draft_publish
from apps.usage.models import DailyUsage
from tests.factories.allocation import allocation_catalog, rule_set_with_draft
from tests.factories.taxonomy import TagSetFactory
from tests.factories.usage import DailyUsageFactory
from tests.scenarios import OCT, TEAMS, Month

G = 10**9


def ready_to_allocate(organization, month: Month = TEAMS, period: datetime.date = OCT) -> None:
    """``scenarios.allocated`` without the allocation: what a person has before pressing Allocate."""
    allocation_catalog(organization)
    draft_publish(draft=rule_set_with_draft(organization, month.rules), actor=None)
    with scope(organization=organization):
        for tags, input_nano, output_nano, requests in month.usage:
            DailyUsageFactory(
                organization=organization,
                day=period + datetime.timedelta(days=month.day - 1),
                tagset=TagSetFactory(organization=organization, tags=tags),
                cost_input_nano=input_nano,
                cost_output_nano=output_nano,
                requests=requests,
                input_tokens=1000 * requests,
                output_tokens=100 * requests,
            )


def usage_total_nano(organization) -> int:
    """The month's cost, summed straight from the cube the runs read."""
    with scope(organization=organization):
        sums = DailyUsage.objects.filter(organization=organization).aggregate(
            i=Sum("cost_input_nano"), o=Sum("cost_output_nano")
        )
    return (sums["i"] or 0) + (sums["o"] or 0)
