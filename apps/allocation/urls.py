from django.urls import path

from apps.core import converters  # noqa: F401 - registers <billing_month:...>

from . import views

app_name = "allocation"

PERIOD = "o/<slug:org_slug>/allocation/<billing_month:period>/"

urlpatterns = [
    path("o/<slug:org_slug>/allocation/", views.overview, name="overview"),
    path(PERIOD, views.period_detail, name="period"),
    path(f"{PERIOD}allocate/", views.allocate, name="allocate"),
    path(f"{PERIOD}preview/", views.preview, name="preview"),
    path(f"{PERIOD}unallocated/", views.unallocated, name="unallocated"),
    path(f"{PERIOD}owners/<str:code>/", views.owner_detail, name="owner"),
]
