from django.urls import path

from . import endpoints

urlpatterns = [
    path("organization/", endpoints.OrganizationDetailView.as_view(), name="organization-detail"),
]
