from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("o/<slug:org_slug>/history/", views.history, name="history"),
    path("o/<slug:org_slug>/history/<int:pk>/", views.event_detail, name="event_detail"),
]
