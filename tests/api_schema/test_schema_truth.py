"""The OpenAPI document and the API's answers agree (issue 13 item 8): each test pins one class of the
failures schemathesis found, on the document and on a real answer."""

import datetime
import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.core.api.months import MONTH_PATTERN
from apps.tenancy.roles import TokenScope
from tests.factories.owners import BudgetFactory, BudgetOwnerFactory

INVOICE_FILES = Path(__file__).parents[1] / "invoices" / "fixtures"

pytestmark = pytest.mark.django_db

MONTH = {"type": "string", "pattern": MONTH_PATTERN, "example": "2026-10"}


@pytest.fixture(scope="module")
def document(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = Client().get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def component(document, name):
    return document["components"]["schemas"][name]


def test_months_are_documented_as_yyyy_mm_not_as_dates(document):
    month_fields = {
        ("BillingPeriod", "period"),
        ("Dispute", "period"),
        ("ProviderInvoice", "billing_period"),
        ("ReconciliationRun", "period"),
        ("Statement", "period"),
        ("StatementDetail", "period"),
        ("AllocationSummary", "period"),
        ("Budget", "period"),
    }
    for name, field in month_fields:
        schema = component(document, name)["properties"][field]
        assert schema.get("format") != "date", (name, field)
        assert schema["pattern"] == MONTH_PATTERN, (name, field)
    filters = {
        (path, parameter["name"]): parameter["schema"]
        for path, method, operation in operations(document)
        for parameter in operation.get("parameters", [])
        if parameter["name"].startswith("period")
    }
    assert filters[("/api/v1/statements/", "period")] == MONTH
    assert filters[("/api/v1/budgets/", "period_from")] == MONTH
    assert filters[("/api/v1/periods/{period}/reconciliation/", "period")]["pattern"] == MONTH_PATTERN
    assert all(schema.get("format") != "date" for schema in filters.values())


def test_month_filter_takes_yyyy_mm_and_refuses_a_full_date_with_400(world):
    with scope(organization=world.org("a")):
        owner = BudgetOwnerFactory(organization=world.org("a"), code="CC-1")
        BudgetFactory(owner=owner, period=datetime.date(2026, 10, 1))
        BudgetFactory(owner=owner, period=datetime.date(2026, 11, 1))
    api = world.api("a")
    url = reverse("api:budget-list")
    assert [row["period"] for row in api.get(url, {"period": "2026-10"}).json()["results"]] == ["2026-10"]
    response = api.get(url, {"period": "2026-10-01"})
    assert response.status_code == 400
    assert response.json() == {"period": ["Give the month as YYYY-MM, e.g. 2026-10."]}


def test_nullable_fields_are_declared_nullable(document):
    for name in ("Statement", "StatementDetail"):
        assert component(document, name)["properties"]["supersedes"]["nullable"] is True


def test_usage_errors_endpoint_is_documented_as_the_error_list(document):
    response = document["paths"]["/api/v1/usage/{id}/errors/"]["get"]["responses"]["200"]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/IngestJobErrors"
    schema = component(document, "IngestJobErrors")
    assert set(schema["properties"]) == {"job", "rejected", "errors"}
    assert component(document, "IngestError")["required"] == ["field", "line", "message"]


def test_every_operation_declares_its_error_statuses_with_the_one_error_body(document):
    error_ref = "#/components/schemas/Error"
    for path, method, operation in operations(document):
        responses = operation["responses"]
        expected = {"401", "403", "429"}
        if method in {"post", "put", "patch"}:
            expected |= {"400", "413", "415"}
        if "{" in path:
            expected.add("404")
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            assert responses[status]["content"]["application/json"]["schema"]["$ref"] == error_ref, (path, status)
    error = component(document, "Error")
    assert set(error["properties"]) == {"detail", "messages", "limit", "limit_value"}
    assert "additionalProperties" in error


def test_a_validation_error_raised_with_a_bare_list_answers_non_field_errors():
    from rest_framework.exceptions import ValidationError

    from apps.core.api.errors import api_exception_handler

    response = api_exception_handler(ValidationError(["Too late.", "Too big."]), {})
    assert response.data == {"non_field_errors": ["Too late.", "Too big."]}
    response = api_exception_handler(ValidationError({"body": "The request body is empty."}), {})
    assert response.data == {"body": ["The request body is empty."]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/audit-events/1/"),
        ("put", "/api/v1/tag-sets/1/"),
        ("post", "/api/v1/statements/"),
        ("patch", "/api/v1/disputes/1/"),
        ("delete", "/api/v1/periods/2026-10/"),
        ("post", "/api/v1/organization/"),
    ],
)
def test_a_method_an_endpoint_lacks_answers_405_with_allow_whatever_the_scopes(world, method, path):
    for api in (world.api("a"), world.api("a", [TokenScope.ORG_READ])):
        response = getattr(api, method)(path, "{}", content_type="application/json")
        assert response.status_code == 405, (method, path, response.content)
        assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}
        assert method.upper() not in response["Allow"]
    assert getattr(Client(), method)(path).status_code == 401  # no token: still 401 first


def test_a_missing_scope_on_a_method_the_endpoint_has_is_still_403(world):
    response = world.api("a", [TokenScope.ORG_READ]).get("/api/v1/audit-events/")
    assert response.status_code == 403
    assert response.json() == {"detail": "This token lacks the 'audit:read' scope."}


def test_an_unknown_api_path_answers_a_json_404(world):
    for path in ("/api/v1/budgets/0.5/", "/api/v1/periods/2026-13/", "/api/v1/nowhere/"):
        response = world.api("a").get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("path", "query", "errors"),
    [
        ("/api/v1/budget-owners/", "page_size=0", {"page_size": ["Give a whole number from 1 to 1000."]}),
        ("/api/v1/tag-sets/", "page_size=null", {"page_size": ["Give a whole number from 1 to 1000."]}),
        ("/api/v1/tag-sets/", "page_size=5&page_size=6", {"page_size": ["Give page_size once."]}),
        ("/api/v1/tag-dimensions/", "required=null", {"required": ["Use true or false."]}),
        ("/api/v1/audit-events/", "since=", {"since": ["Give a value, or leave the parameter out."]}),
        ("/api/v1/statements/", "version=0.5", {"version": ["Enter a whole number."]}),
        ("/api/v1/budgets/", "owner=a&owner=b", {"owner": ["Give owner once."]}),
    ],
)
def test_invalid_query_parameters_answer_400_instead_of_being_ignored(world, path, query, errors):
    response = world.api("a").get(f"{path}?{query}")
    assert response.status_code == 400, response.content
    assert response.json() == errors


def test_a_form_encoded_body_answers_415(world):
    response = world.api("a").post(
        reverse("api:budget-owner-list"), "code=CC-1&name=X", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.'}


def test_invoice_upload_takes_file_format_and_names_it_when_format_is_sent(world, django_capture_on_commit_callbacks):
    api = world.api("a", [TokenScope.INVOICES_WRITE])
    body = (INVOICE_FILES / "generic_invoice.csv").read_bytes()
    url = reverse("api:invoice-list")
    refused = api.post(f"{url}?format=csv", data=body, content_type="text/csv")
    assert refused.status_code == 400  # was a bare 404: DRF read ?format= as the response's format
    assert refused.json() == {
        "format": [
            "?format= chooses the format of the response; name the file's format with ?file_format= (one of auto, "
            "focus, openai-costs, anthropic-cost-report, aws-cur, csv), or leave it out to detect it."
        ]
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{url}?file_format=csv", data=body, content_type="text/csv")
    assert response.status_code in (201, 202)
    assert response.json()["format"] == "csv"
    assert Client().post(f"{url}?format=csv", data=body, content_type="text/csv").status_code == 401


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"code": "CC-77", "name": "X", "is_active": "true"}, {"is_active": ["Use true or false (a JSON boolean)."]}),
        ({"code": "CC-77", "name": "X", "is_central": 1}, {"is_central": ["Use true or false (a JSON boolean)."]}),
        ({"code": "CC-77", "name": "X", "location": 0}, {"location": ["Give text (a JSON string)."]}),
    ],
)
def test_request_bodies_take_the_json_types_the_schema_says(world, payload, errors):
    response = world.api("a").post(reverse("api:budget-owner-list"), payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == errors


def test_an_amount_sent_as_a_json_number_is_refused_because_it_arrives_as_a_float(world):
    with scope(organization=world.org("a")):
        BudgetOwnerFactory(organization=world.org("a"), code="CC-1")
    url = reverse("api:budget-list")
    api = world.api("a")
    response = api.post(url, {"owner": "CC-1", "period": "2026-10", "amount": 123456789012.57}, "application/json")
    assert response.status_code == 400
    assert response.json() == {"amount": ['Give the amount as a string, e.g. "12.50": a JSON number loses digits.']}
    response = api.post(url, {"owner": "CC-1", "period": "2026-10", "amount": "123456789012.57"}, "application/json")
    assert response.status_code == 201
    assert response.json()["amount"] == "123456789012.57"


def test_decimal_and_month_patterns_need_digits_and_a_real_year(document):
    import re

    amount = component(document, "BudgetRequest")["properties"]["amount"]["pattern"]
    assert [bool(re.match(amount, text)) for text in ("", "-", ".", "12", "12.5", "-0.25", ".5")] == [
        False,
        False,
        False,
        True,
        True,
        True,
        True,
    ]
    assert not re.match(MONTH_PATTERN, "0000-01")
    assert re.match(MONTH_PATTERN, "2026-10")


# The uploads keep their own job-based Idempotency-Key (a key names the job): no 409/422 of the shared one.
OWN_IDEMPOTENCY = {"/api/v1/usage/", "/api/v1/invoices/"}


def test_every_post_documents_the_idempotency_key_and_every_get_the_etag(document):
    posts = gets = 0
    for path, method, operation in operations(document):
        parameters = {(p["name"], p["in"]): p for p in operation.get("parameters", [])}
        responses = operation["responses"]
        if method == "post":
            posts += 1
            assert ("Idempotency-Key", "header") in parameters, path
            if path in OWN_IDEMPOTENCY:
                assert "422" not in responses, path
                continue
            key = parameters[("Idempotency-Key", "header")]
            assert not key.get("required") and key["schema"]["maxLength"] == 255, path
            assert "422" in key["description"] and "409" in key["description"], path
            assert {"409", "422"} <= set(responses), path
            assert "Idempotency-Key" in responses["422"]["description"], path
            success = [status for status in responses if status.startswith("2")]
            assert all("Idempotent-Replayed" in responses[status]["headers"] for status in success), path
        if method == "get" and path != "/api/v1/schema/":
            gets += 1
            assert ("If-None-Match", "header") in parameters, path
            assert "ETag" in responses["200"]["headers"] and "ETag" in responses["304"]["headers"], path
            assert "content" not in responses["304"], path
    assert posts >= 11 and gets >= 20
