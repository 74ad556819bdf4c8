from django.urls import path

from .views import PeriodReconciliationView

urlpatterns = [
    path("periods/<str:period>/reconciliation/", PeriodReconciliationView.as_view(), name="period-reconciliation"),
]
