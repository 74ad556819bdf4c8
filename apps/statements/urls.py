from django.urls import path

from . import views

app_name = "statements"

urlpatterns = [
    path("o/<slug:org_slug>/statements/", views.statement_list, name="list"),
    path("o/<slug:org_slug>/statements/<int:pk>/", views.statement_detail, name="detail"),
    path("o/<slug:org_slug>/statements/<int:pk>/print/", views.statement_print, name="print"),
    path("o/<slug:org_slug>/statements/<int:pk>/export.csv", views.statement_export, name="export"),
]
