from django.urls import path

from . import views

app_name = "disputes"

urlpatterns = [
    path("o/<slug:org_slug>/disputes/", views.dispute_list, name="list"),
    path("o/<slug:org_slug>/disputes/<int:pk>/", views.dispute_detail, name="detail"),
    path("o/<slug:org_slug>/disputes/<int:pk>/comment/", views.dispute_comment, name="comment"),
    path("o/<slug:org_slug>/disputes/<int:pk>/accept/", views.dispute_accept, name="accept"),
    path("o/<slug:org_slug>/disputes/<int:pk>/reject/", views.dispute_reject, name="reject"),
    path("o/<slug:org_slug>/statements/<int:pk>/dispute/", views.dispute_create, name="create"),
]
