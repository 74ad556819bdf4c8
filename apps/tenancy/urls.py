from django.urls import path

from . import views

app_name = "tenancy"

urlpatterns = [
    path("o/<slug:org_slug>/settings/", views.settings_edit, name="settings"),
    path("o/<slug:org_slug>/settings/mode/", views.mode_switch, name="mode_switch"),
    path("o/<slug:org_slug>/members/", views.members, name="members"),
    path("o/<slug:org_slug>/members/<int:pk>/", views.member_edit, name="member_edit"),
]
