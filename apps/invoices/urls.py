from django.urls import path

from . import views

app_name = "invoices"

urlpatterns = [
    path("o/<slug:org_slug>/invoices/", views.invoice_list, name="list"),
    path("o/<slug:org_slug>/invoices/<int:pk>/", views.invoice_detail, name="detail"),
    path("o/<slug:org_slug>/invoices/imports/", views.import_list, name="imports"),
    path("o/<slug:org_slug>/invoices/imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("o/<slug:org_slug>/invoices/imports/<int:pk>/retry/", views.import_retry, name="import_retry"),
    path("o/<slug:org_slug>/invoices/settings/", views.settings_update, name="settings"),
]
