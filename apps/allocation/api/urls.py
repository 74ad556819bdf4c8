from django.urls import path

from .views import PeriodAllocationLinesView, PeriodAllocationView

urlpatterns = [
    path("periods/<str:period>/allocation/", PeriodAllocationView.as_view(), name="period-allocation"),
    path("periods/<str:period>/allocation/lines/", PeriodAllocationLinesView.as_view(), name="period-allocation-lines"),
]
