from django.urls import path

from apps.core import converters  # noqa: F401 - registers <billing_month:...>

from . import downloads

app_name = "journals"

urlpatterns = [
    path("periods/<billing_month:period>/journal/download/", downloads.journal_download, name="download"),
]
