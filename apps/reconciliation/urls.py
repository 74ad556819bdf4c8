from django.urls import path

from . import views

app_name = "reconciliation"

urlpatterns = [
    path("o/<slug:org_slug>/reconciliation/", views.overview, name="overview"),
    path("o/<slug:org_slug>/reconciliation/run/", views.run_create, name="run_create"),
    path("o/<slug:org_slug>/reconciliation/runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("o/<slug:org_slug>/reconciliation/runs/<int:pk>/export.csv", views.run_export, name="run_export"),
]
