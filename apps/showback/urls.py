from django.urls import path

from . import views

app_name = "showback"

urlpatterns = [
    path("showback/", views.dashboard, name="dashboard"),
    path("showback/trends/", views.trends, name="trends"),
]
