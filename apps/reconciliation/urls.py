from django.urls import path

from . import views

app_name = "reconciliation"

urlpatterns = [
    path("reconciliation/", views.overview, name="overview"),
    path("reconciliation/run/", views.run_create, name="run_create"),
    path("reconciliation/runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("reconciliation/runs/<int:pk>/export.csv", views.run_export, name="run_export"),
    path("reconciliation/runs/<int:pk>/rates.csv", views.run_conversion_export, name="run_conversion_export"),
]
