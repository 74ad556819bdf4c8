"""The URL converter for a billing period, shared by every app whose URLs name one (periods, allocation).
Registered once, here, when a URL module imports it: ``<billing_month:period>``."""

from django.urls import register_converter

from apps.core.calendar import PERIOD_PATTERN


class PeriodConverter:
    """YYYY-MM, kept as the string; a month that cannot exist (2026-13) is not a URL at all, and other
    words in that place of a path never reach a period view."""

    regex = PERIOD_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return value if isinstance(value, str) else f"{value:%Y-%m}"


register_converter(PeriodConverter, "billing_month")
