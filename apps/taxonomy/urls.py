from django.urls import path

from . import views

app_name = "taxonomy"

_DIM = "tagging/<int:pk>/"
_VALUE = _DIM + "values/<int:value_pk>/"

urlpatterns = [
    path("tagging/", views.dimension_list, name="dimensions"),
    path("tagging/new/", views.dimension_create, name="dimension_create"),
    path(_DIM, views.dimension_detail, name="dimension_detail"),
    path(_DIM + "edit/", views.dimension_edit, name="dimension_edit"),
    path(_DIM + "deactivate/", views.dimension_deactivate, name="dimension_deactivate"),
    path(_DIM + "reactivate/", views.dimension_reactivate, name="dimension_reactivate"),
    path(_DIM + "values/new/", views.value_create, name="value_create"),
    path(_VALUE + "edit/", views.value_edit, name="value_edit"),
    path(_VALUE + "deactivate/", views.value_deactivate, name="value_deactivate"),
    path(_VALUE + "reactivate/", views.value_reactivate, name="value_reactivate"),
    path(_VALUE + "aliases/", views.alias_add, name="alias_add"),
    path(_VALUE + "aliases/<int:alias_pk>/remove/", views.alias_remove, name="alias_remove"),
]
