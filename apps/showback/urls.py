from django.urls import path

from . import views_budgets

app_name = "showback"

urlpatterns = [
    path("budgets/", views_budgets.budgets, name="budgets"),
]
