from django.urls import path, register_converter

from . import views


class PeriodConverter:
    """YYYY-MM, kept as the string; a month that cannot exist (2026-13) is not a URL at all."""

    regex = r"\d{4}-(?:0[1-9]|1[0-2])"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return value if isinstance(value, str) else f"{value:%Y-%m}"


register_converter(PeriodConverter, "billing_month")

app_name = "periods"

PERIOD = "o/<slug:org_slug>/periods/<billing_month:period>/"

urlpatterns = [
    path("o/<slug:org_slug>/periods/", views.board, name="board"),
    path(PERIOD, views.detail, name="detail"),
    path(f"{PERIOD}transition/", views.transition, name="transition"),
    path(f"{PERIOD}timeline/", views.timeline, name="timeline"),
]
