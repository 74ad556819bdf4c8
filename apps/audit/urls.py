from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("history/", views.history, name="history"),
    path("history/<int:pk>/", views.event_detail, name="event_detail"),
]
