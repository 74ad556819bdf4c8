"""Query parameters are checked, not guessed: a filter given twice, a blank value for a typed filter, or a
boolean that is not true/false answers 400 instead of being silently ignored (a client that sent
``?active=yes`` must not receive every row believing it was filtered)."""

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

BOOLEAN_VALUES = ("true", "false")


def single_values(query_params, names) -> dict[str, list[str]]:
    """Messages for the parameters among ``names`` that were given more than once."""
    return {
        name: [f"Give {name} once."] for name in names if name in query_params and len(query_params.getlist(name)) > 1
    }


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            check_filter_parameters(request.query_params, filterset_class.base_filters)
        return super().filter_queryset(request, queryset, view)


def check_filter_parameters(query_params, filters: dict) -> None:
    errors = single_values(query_params, filters)
    for name, filter_ in filters.items():
        if name in errors or name not in query_params:
            continue
        value = query_params[name]
        if isinstance(filter_, django_filters.BooleanFilter) and value not in BOOLEAN_VALUES:
            errors[name] = ["Use true or false."]
        elif value == "" and not isinstance(filter_, django_filters.CharFilter):
            errors[name] = ["Give a value, or leave the parameter out."]
    if errors:
        raise ValidationError(errors)


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (django-filter's NumberFilter takes any decimal, so ``?version=0.5`` matched nothing)."""

    field_class = forms.IntegerField
