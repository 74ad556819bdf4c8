from django.urls import path

from . import views

app_name = "invoices"

urlpatterns = [
    path("invoices/", views.invoice_list, name="list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="detail"),
    path("invoices/imports/", views.import_list, name="imports"),
    path("invoices/imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("invoices/imports/<int:pk>/retry/", views.import_retry, name="import_retry"),
    path("invoices/settings/", views.settings_update, name="settings"),
]
