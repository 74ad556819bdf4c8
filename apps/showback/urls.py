from django.urls import path

from . import views, views_budgets

app_name = "showback"

urlpatterns = [
    path("showback/", views.dashboard, name="dashboard"),
    path("showback/trends/", views.trends, name="trends"),
    path("budgets/", views_budgets.budgets, name="budgets"),
]
