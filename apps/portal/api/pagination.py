from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

from apps.core.api.filtering import single_values


class StableCursorPagination(CursorPagination):
    """Cursor pagination over the primary key: immutable and unique, so pages never skip or repeat
    rows while new ones arrive. ``page_size`` is checked (1 to 1000; anything else answers 400) rather than
    silently replaced by the default."""

    ordering = ("id",)
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        params = request.query_params
        errors = single_values(params, [self.page_size_query_param, self.cursor_query_param])
        if errors:
            raise ValidationError(errors)
        raw = params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters
