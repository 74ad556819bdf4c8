from django.urls import path

from .views import FxRateView

urlpatterns = [path("fx-rates/", FxRateView.as_view(), name="fx-rate-list")]
