from django.urls import path

from . import views

app_name = "rules"

RULE_SET = "rules/<int:pk>/"
VERSION = f"{RULE_SET}versions/<int:number>/"

urlpatterns = [
    path("rules/", views.rule_set_list, name="list"),
    path("rules/new/", views.rule_set_create_view, name="create"),
    path(RULE_SET, views.rule_set_detail, name="detail"),
    path(f"{RULE_SET}primary/", views.rule_set_make_primary_view, name="make_primary"),
    path(f"{RULE_SET}compare/", views.compare, name="compare"),
    path(VERSION, views.version_detail, name="version"),
    path(f"{VERSION}download/<str:fmt>/", views.version_download, name="download"),
    path(f"{VERSION}start-draft/", views.draft_start, name="draft_start"),
    path(f"{VERSION}publish/", views.publish, name="publish"),
    path(f"{VERSION}rules/add/<str:kind>/", views.rule_add, name="rule_add"),
    path(f"{VERSION}rules/<int:position>/", views.rule_edit, name="rule_edit"),
    path(f"{VERSION}rules/<int:position>/move/", views.rule_move, name="rule_move"),
    path(f"{VERSION}rules/<int:position>/delete/", views.rule_delete, name="rule_delete"),
    path(f"{VERSION}true-up/", views.true_up_edit, name="true_up"),
    path(f"{VERSION}yaml/", views.yaml_edit, name="yaml"),
]
