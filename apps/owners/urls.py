from django.urls import path

from . import views

app_name = "owners"

urlpatterns = [
    path("cost-centres/", views.owner_list, name="list"),
    path("cost-centres/new/", views.owner_create, name="create"),
    path("cost-centres/<int:pk>/", views.owner_detail, name="detail"),
    path("cost-centres/<int:pk>/edit/", views.owner_edit, name="edit"),
    path("cost-centres/<int:pk>/deactivate/", views.owner_deactivate, name="deactivate"),
    path("cost-centres/<int:pk>/reactivate/", views.owner_reactivate, name="reactivate"),
    path("cost-centres/<int:pk>/budgets/new/", views.budget_create, name="budget_create"),
    path("cost-centres/<int:pk>/budgets/<int:budget_pk>/", views.budget_edit, name="budget_edit"),
    path("cost-centres/<int:pk>/budgets/<int:budget_pk>/delete/", views.budget_delete, name="budget_delete"),
    path("cost-centres/<int:pk>/thresholds/new/", views.threshold_create, name="threshold_create"),
    path("cost-centres/<int:pk>/thresholds/<int:threshold_pk>/", views.threshold_edit, name="threshold_edit"),
    path(
        "cost-centres/<int:pk>/thresholds/<int:threshold_pk>/deactivate/",
        views.threshold_deactivate,
        name="threshold_deactivate",
    ),
    path(
        "cost-centres/<int:pk>/thresholds/<int:threshold_pk>/reactivate/",
        views.threshold_reactivate,
        name="threshold_reactivate",
    ),
]
