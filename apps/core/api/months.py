"""A calendar month on the API: always "YYYY-MM" (e.g. 2026-10), in bodies, filters and paths, stored as the
month's first day. The schema says so with a pattern instead of calling it a date."""

import datetime

import django_filters
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from apps.core.calendar import parse_period

MONTH_REGEX = r"[1-9]\d{3}-(?:0[1-9]|1[0-2])"  # year 0 is no year
MONTH_PATTERN = rf"^{MONTH_REGEX}$"
MONTH_SCHEMA = {"type": "string", "pattern": MONTH_PATTERN, "example": "2026-10"}
MONTH_FORMAT = "%Y-%m"


@extend_schema_field(MONTH_SCHEMA)
class MonthField(serializers.Field):
    """A calendar month as "YYYY-MM", stored as its first day."""

    default_error_messages = {"invalid": "Give the month as YYYY-MM, e.g. 2026-10."}

    def to_representation(self, value: datetime.date | str) -> str:
        return value if isinstance(value, str) else f"{value:{MONTH_FORMAT}}"

    def to_internal_value(self, data) -> datetime.date:
        try:
            return datetime.datetime.strptime(str(data), MONTH_FORMAT).date()
        except ValueError:
            self.fail("invalid")


@extend_schema_field(MONTH_SCHEMA)
class MonthFilter(django_filters.DateFilter):
    """``?period=2026-10``: a month, as YYYY-MM only (a full date is refused, as the schema says)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", [MONTH_FORMAT])
        kwargs.setdefault("error_messages", {"invalid": "Give the month as YYYY-MM, e.g. 2026-10."})
        super().__init__(*args, **kwargs)


MONTH_PATH_PARAMETER = OpenApiParameter(
    "period", MONTH_SCHEMA, OpenApiParameter.PATH, description="The month, as YYYY-MM (e.g. 2026-10)."
)


def month_in_path(period: str) -> datetime.date:
    """The month a path names ("YYYY-MM"), as its first day; else the API's 404 saying how to write one."""
    try:
        return parse_period(period)
    except ValidationError:
        raise NotFound("Use a period as YYYY-MM, e.g. 2026-10.") from None
