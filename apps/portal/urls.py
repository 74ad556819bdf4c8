from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.switcher, name="switcher"),
    path("o/<slug:org_slug>/", views.home, name="home"),
]
