from django.urls import path

from . import views

app_name = "disputes"

urlpatterns = [
    path("disputes/", views.dispute_list, name="list"),
    path("disputes/<int:pk>/", views.dispute_detail, name="detail"),
    path("disputes/<int:pk>/comment/", views.dispute_comment, name="comment"),
    path("disputes/<int:pk>/accept/", views.dispute_accept, name="accept"),
    path("disputes/<int:pk>/reject/", views.dispute_reject, name="reject"),
    path("statements/<int:pk>/dispute/", views.dispute_create, name="create"),
]
