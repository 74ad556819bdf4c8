"""The one API exception handler turns a Django ValidationError (from a service or a model's clean()) into the
API's 400 error body, wherever in a view it is raised."""

import pytest
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


@pytest.mark.django_db
def test_a_list_refuses_a_parameter_it_does_not_have_and_names_the_ones_it_has(world):
    """A misspelt filter must not answer every row as if it had filtered."""
    from django.test import Client
    from django.urls import reverse
    from django_scopes import scope

    from tests.factories import ApiClientFactory

    organization = world.org("a")
    with scope(organization=organization):
        api_client = ApiClientFactory(organization=organization, scopes=["catalog:read"])
    api = Client(headers={"Authorization": f"Bearer {api_client.raw_token}"})
    response = api.get(reverse("api:tag-set-list"), {"hsah": "abc"})
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == [
        "Not a parameter of this list: hsah. It takes cursor, hash, page_size."
    ]
    assert api.get(reverse("api:tag-set-list"), {"hash": "abc", "page_size": "5"}).status_code == 200
