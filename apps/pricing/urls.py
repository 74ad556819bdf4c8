from django.urls import path

from . import views

app_name = "pricing"

_BASE = "pricing/"

urlpatterns = [
    path(_BASE, views.price_book, name="book"),
    path(_BASE + "estimate/", views.estimate, name="estimate"),
    path(_BASE + "overrides/", views.override_list, name="overrides"),
    path(_BASE + "overrides/new/", views.override_create, name="override_create"),
    path(_BASE + "overrides/<int:pk>/edit/", views.override_edit, name="override_edit"),
    path(_BASE + "overrides/<int:pk>/deactivate/", views.override_deactivate, name="override_deactivate"),
    path(_BASE + "overrides/<int:pk>/reactivate/", views.override_reactivate, name="override_reactivate"),
    path(_BASE + "models/", views.org_model_list, name="org_models"),
    path(_BASE + "models/new/", views.org_model_create, name="org_model_create"),
    path(_BASE + "models/<int:pk>/edit/", views.org_model_edit, name="org_model_edit"),
    path(_BASE + "models/<int:pk>/deactivate/", views.org_model_deactivate, name="org_model_deactivate"),
    path(_BASE + "models/<int:pk>/reactivate/", views.org_model_reactivate, name="org_model_reactivate"),
]
