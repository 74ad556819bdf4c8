from django.urls import path

from . import views, views_budgets, views_forecasts

app_name = "showback"

urlpatterns = [
    path("showback/", views.dashboard, name="dashboard"),
    path("showback/trends/", views.trends, name="trends"),
    path("budgets/", views_budgets.budgets, name="budgets"),
    path("forecasts/", views_forecasts.forecasts, name="forecasts"),
    path("alerts/", views_forecasts.alerts, name="alerts"),
    path("alerts/<int:pk>/acknowledge/", views_forecasts.alert_ack, name="alert_ack"),
]
