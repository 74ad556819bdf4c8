"""Query parameters are checked, not guessed: a filter given twice, a blank value for a typed filter, or a
boolean that is not true/false answers 400 instead of being silently ignored (a client that sent
``?active=yes`` must not receive every row believing it was filtered)."""

import django_filters
import django_filters.fields
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
    """A list's query parameters are its filters and its paginator's (``cursor``, ``page_size``), plus what
    the view names in ``extra_query_params``; any other parameter answers 400 naming it (a misspelt filter
    must not return every row as if it had filtered). Only a list is held to it: a detail route (or an action
    under it, such as an invoice's lines with their own filters) reads the list's queryset to find its object."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            check_filter_parameters(request.query_params, filterset_class.base_filters)
        if getattr(view, "action", "list") == "list":
            # A list without filters takes only its paginator's parameters (and the view's extra ones).
            filters = filterset_class.base_filters if filterset_class is not None else {}
            known = set(filters) | set(getattr(view, "extra_query_params", ()))
            paginator = getattr(view, "paginator", None)
            for attribute in ("cursor_query_param", "page_size_query_param", "page_query_param"):
                if getattr(paginator, attribute, None):
                    known.add(getattr(paginator, attribute))
            unknown = sorted(name for name in request.query_params if name not in known)
            if unknown:
                # Under non_field_errors: a parameter's own name (say "limit") may be a key the error body
                # already uses for something else.
                raise ValidationError(
                    {
                        "non_field_errors": [
                            f"Not a parameter of this list: {', '.join(unknown)}. It takes {', '.join(sorted(known))}."
                        ]
                    }
                )
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


class UpdatedSinceField(django_filters.fields.IsoDateTimeField):
    default_error_messages = {
        "invalid": "Give an ISO-8601 date-time, e.g. 2026-11-01T08:00:00Z (in a query string, write + as %%2B)."
    }


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    """``?updated_since=2026-11-01T08:00:00Z``: the rows changed at or after that instant (``updated_at >=``),
    for a client that polls. ISO-8601: a value without an offset is UTC (the server's time zone), a date alone
    is its midnight; anything else answers 400. A client keeps the largest ``updated_at`` it saw and asks again
    from it: ``>=`` answers that row once more rather than miss one written in the same instant."""

    field_class = UpdatedSinceField

    def __init__(self, field_name: str = "updated_at", **kwargs):
        kwargs.setdefault("lookup_expr", "gte")
        kwargs.setdefault("label", "Changed at or after (ISO-8601 date-time; no offset means UTC)")
        super().__init__(field_name=field_name, **kwargs)
