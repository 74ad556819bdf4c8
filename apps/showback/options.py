"""The values the dashboard's pickers offer: the organisation's own (tag values of its catalogue, the providers
and models in its cube, the customers in its detail totals), restricted to what a budget owner may see."""

from datetime import date

from apps.pricing.constants import COST_SOURCES
from apps.taxonomy.models import Granularity, TagDimension, TagValue
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import MonthlyDetailUsage, MonthlyUsage

from .dashboard import BREAKDOWNS

MAX_DETAIL_OPTIONS = 500  # a detail dimension (customers) can have thousands of values: the first ones by name
DETAIL_OPTION_MONTHS = 3  # of the values seen in the last months (not all history)


@tenant_scoped
def picker_options(
    *, organization: Organization, team_values: set[str] | None, since: date, recent: date
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """({breakdown key: values}, {key: label}) for every breakdown of the dashboard the organisation has.
    Four queries: the dimensions, their values, the providers and models of the cube since ``since``, and
    the detail dimensions' values since ``recent`` (customers are many: the months people look at most)."""
    wanted = [key for key, _label in BREAKDOWNS]
    labels = dict(BREAKDOWNS)
    dimensions = {
        key: (label, granularity)
        for key, label, granularity in TagDimension.objects.filter(is_active=True, key__in=wanted).values_list(
            "key", "label", "granularity"
        )
    }
    options: dict[str, list[str]] = {}
    tag_values: dict[str, list[str]] = {}
    for key, value in (
        TagValue.objects.filter(dimension__key__in=list(dimensions), is_active=True)
        .order_by("dimension__position", "value")
        .values_list("dimension__key", "value")
    ):
        if key == "team" and team_values is not None and value not in team_values:
            continue
        tag_values.setdefault(key, []).append(value)
    pairs = set(MonthlyUsage.objects.filter(month__gte=since).values_list("provider", "model").distinct())
    detail = [key for key, (_label, granularity) in dimensions.items() if granularity == Granularity.DETAIL]
    for key in wanted:
        if key == "provider":
            options[key] = sorted({provider for provider, _model in pairs})
        elif key == "model":
            options[key] = sorted({model for _provider, model in pairs})
        elif key == "cost_source":
            options[key] = list(COST_SOURCES)
        elif key in detail:
            queryset = MonthlyDetailUsage.objects.filter(dimension=key, month__gte=recent)
            if team_values is not None:
                queryset = queryset.filter(team__in=sorted(team_values))
            options[key] = sorted(
                queryset.values_list("value", flat=True).distinct().order_by("value")[:MAX_DETAIL_OPTIONS]
            )
        elif key in dimensions:
            options[key] = tag_values.get(key, [])
        if key in dimensions:
            labels[key] = dimensions[key][0]
    return {key: values for key, values in options.items() if values or key in dimensions}, labels
