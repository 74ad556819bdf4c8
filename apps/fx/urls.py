from django.urls import path

from . import views

app_name = "fx"

urlpatterns = [
    path("settings/exchange-rates/", views.exchange_rates, name="exchange_rates"),
    path("settings/exchange-rates/settings/", views.exchange_rates_settings, name="exchange_rates_settings"),
    path("settings/exchange-rates/upload/", views.exchange_rates_upload, name="exchange_rates_upload"),
]
