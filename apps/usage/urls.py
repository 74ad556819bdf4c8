from django.urls import path

from . import views

app_name = "usage"

urlpatterns = [
    path("usage/", views.explorer, name="explorer"),
    path("usage/requests/", views.records, name="records"),
    path("usage/imports/", views.jobs, name="jobs"),
    path("usage/imports/<int:pk>/", views.job_detail, name="job_detail"),
    path("usage/imports/<int:pk>/errors.csv", views.job_errors_csv, name="job_errors_csv"),
    path("usage/imports/<int:pk>/retry/", views.job_retry, name="job_retry"),
    # The tagging pages' health view counts usage, so it is here, on the tagging URL it always had.
    path("tagging/health/", views.tagging_health, name="tagging_health"),
    path("usage/mappings/", views.mappings, name="mappings"),
    path("usage/mappings/<int:pk>/delete/", views.mapping_delete, name="mapping_delete"),
]
