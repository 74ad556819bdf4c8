"""The cube's measure columns and the cost-source vocabulary are defined once and agree."""

from apps.pricing.constants import BILL_COST_SOURCES, COST_SOURCES, OTHER_SOURCE
from apps.usage.models import COST_COLUMNS, CUBE_SUM_FIELDS, DailyDetailUsage, DailyUsage, UsageRecord


def test_every_priced_cost_source_has_its_cube_columns_in_order():
    assert (
        tuple(COST_COLUMNS)
        == COST_SOURCES
        == (
            "input",
            "output",
            "cache_read",
            "cache_write",
            "tool_calls",
            "audio",
            "image",
        )
    )
    assert (*COST_SOURCES, OTHER_SOURCE) == BILL_COST_SOURCES
    for cost, quantity in COST_COLUMNS.values():
        assert cost in CUBE_SUM_FIELDS
        assert quantity in CUBE_SUM_FIELDS


def test_both_cube_tables_have_exactly_the_measure_columns_besides_their_keys():
    for model in (DailyUsage, DailyDetailUsage):
        sums = [f.name for f in model._meta.concrete_fields if f.get_internal_type() == "BigIntegerField"]
        assert tuple(sums) == CUBE_SUM_FIELDS
    assert len(CUBE_SUM_FIELDS) == 19


def test_a_usage_record_has_the_cost_columns_of_every_source():
    names = {f.name for f in UsageRecord._meta.concrete_fields}
    assert {cost for cost, _quantity in COST_COLUMNS.values()} <= names
