"""The one API exception handler turns a Django ValidationError (from a service or a model's clean()) into the
API's 400 error body, wherever in a view it is raised."""

from django.core.exceptions import ValidationError as DjangoValidationError

from apps.core.api.errors import api_exception_handler


def test_a_django_validation_error_by_field_is_a_400_with_messages_by_field():
    response = api_exception_handler(
        DjangoValidationError({"owner": ["Owner must belong to the same organisation as this budget."]}), {}
    )
    assert response.status_code == 400
    assert response.data == {"owner": ["Owner must belong to the same organisation as this budget."]}


def test_a_django_validation_error_without_a_field_is_a_400_under_non_field_errors():
    response = api_exception_handler(DjangoValidationError("The code CC-9 is already taken."), {})
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["The code CC-9 is already taken."]}


def test_an_unrelated_exception_is_left_to_the_server_error_path():
    assert api_exception_handler(RuntimeError("boom"), {}) is None
