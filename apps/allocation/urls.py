from django.urls import path, register_converter

from . import views


class MonthConverter:
    """YYYY-MM, kept as the string: a month that does not exist (2026-13) is not a URL at all, and other
    words under /allocation/ (the rules editor's pages) never reach the period views."""

    regex = r"\d{4}-(?:0[1-9]|1[0-2])"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return value if isinstance(value, str) else f"{value:%Y-%m}"


register_converter(MonthConverter, "yyyy_mm")

app_name = "allocation"

PERIOD = "o/<slug:org_slug>/allocation/<yyyy_mm:period>/"

urlpatterns = [
    path("o/<slug:org_slug>/allocation/", views.overview, name="overview"),
    path(PERIOD, views.period_detail, name="period"),
    path(f"{PERIOD}allocate/", views.allocate, name="allocate"),
    path(f"{PERIOD}preview/", views.preview, name="preview"),
    path(f"{PERIOD}unallocated/", views.unallocated, name="unallocated"),
    path(f"{PERIOD}owners/<str:code>/", views.owner_detail, name="owner"),
]
