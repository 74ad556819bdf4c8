from django.urls import path

from apps.core import converters  # noqa: F401 - registers <billing_month:...>

from . import views

app_name = "periods"

PERIOD = "periods/<billing_month:period>/"

urlpatterns = [
    path("periods/", views.board, name="board"),
    path(PERIOD, views.detail, name="detail"),
    path(f"{PERIOD}transition/", views.transition, name="transition"),
    path(f"{PERIOD}timeline/", views.timeline, name="timeline"),
]
