from django.urls import path

from . import views

app_name = "owners"

urlpatterns = [
    path("o/<slug:org_slug>/cost-centres/", views.owner_list, name="list"),
    path("o/<slug:org_slug>/cost-centres/new/", views.owner_create, name="create"),
    path("o/<slug:org_slug>/cost-centres/<int:pk>/", views.owner_detail, name="detail"),
    path("o/<slug:org_slug>/cost-centres/<int:pk>/edit/", views.owner_edit, name="edit"),
    path("o/<slug:org_slug>/cost-centres/<int:pk>/deactivate/", views.owner_deactivate, name="deactivate"),
    path("o/<slug:org_slug>/cost-centres/<int:pk>/reactivate/", views.owner_reactivate, name="reactivate"),
    path("o/<slug:org_slug>/cost-centres/<int:pk>/budgets/new/", views.budget_create, name="budget_create"),
    path("o/<slug:org_slug>/cost-centres/<int:pk>/budgets/<int:budget_pk>/", views.budget_edit, name="budget_edit"),
    path(
        "o/<slug:org_slug>/cost-centres/<int:pk>/budgets/<int:budget_pk>/delete/",
        views.budget_delete,
        name="budget_delete",
    ),
]
