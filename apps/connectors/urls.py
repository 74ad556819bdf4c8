from django.urls import path

from . import views

app_name = "connectors"

urlpatterns = [
    path("connectors/", views.connections, name="list"),
    path("connectors/<int:pk>/", views.connection_detail, name="detail"),
    path("connectors/<int:pk>/pull/", views.connection_pull_now, name="pull"),
    path("connectors/<int:pk>/delete/", views.connection_remove, name="delete"),
]
