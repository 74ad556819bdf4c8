"""Cube rows: ``DailyUsage`` (day × provider × model × tier × tag set) and ``DailyDetailUsage`` (per value of a
detail dimension such as customer). Usage records themselves come through the real ingest (tests/usage)."""

import datetime

import factory
from factory.django import DjangoModelFactory

from apps.usage.models import DailyDetailUsage, DailyUsage


def _estimated(o) -> int:
    return o.cost_input_nano + o.cost_output_nano + o.cost_cache_read_nano + o.cost_cache_write_nano + o.cost_tools_nano


def _rebuild_rollups(cell) -> None:
    from apps.usage.rollups import rollups_rebuild

    rollups_rebuild(organization=cell.organization)


class DailyUsageFactory(DjangoModelFactory[DailyUsage]):
    """A cube cell with known costs; ``estimated_nano`` defaults to the sum of the cost sources."""

    class Meta:
        model = DailyUsage
        skip_postgeneration_save = True

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    day = datetime.date(2026, 10, 3)
    provider = "openai"
    model = "gpt-4o"
    service_tier = "standard"
    tagset = factory.SubFactory(
        "tests.factories.taxonomy.TagSetFactory", organization=factory.SelfAttribute("..organization")
    )
    records = 1
    requests = 1
    cost_input_nano = 0
    cost_output_nano = 0
    cost_cache_read_nano = 0
    cost_cache_write_nano = 0
    cost_tools_nano = 0
    estimated_nano = factory.LazyAttribute(_estimated)

    @factory.post_generation
    def rollups(obj, create, extracted, **kwargs):
        """A cell planted in the cube, as the writer would have left it: its monthly rollup follows
        (``rollups=False``: not, for cells whose month cannot be summed, see tests/allocation/test_run_sums.py)."""
        if create and extracted is not False:
            _rebuild_rollups(obj)


class DailyDetailUsageFactory(DjangoModelFactory[DailyDetailUsage]):
    """Daily totals of one value of a detail dimension (customer by default), per team."""

    class Meta:
        model = DailyDetailUsage
        skip_postgeneration_save = True

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    day = datetime.date(2026, 10, 3)
    dimension = "customer"
    value = factory.Sequence(lambda n: f"cust_{n}")
    team = ""
    records = factory.SelfAttribute("requests")
    requests = 1
    cost_input_nano = 0
    cost_output_nano = 0
    cost_cache_read_nano = 0
    cost_cache_write_nano = 0
    cost_tools_nano = 0
    estimated_nano = factory.LazyAttribute(_estimated)

    @factory.post_generation
    def rollups(obj, create, extracted, **kwargs):
        """A cell planted in the cube, as the writer would have left it: its monthly rollup follows
        (``rollups=False``: not, for cells whose month cannot be summed, see tests/allocation/test_run_sums.py)."""
        if create and extracted is not False:
            _rebuild_rollups(obj)
