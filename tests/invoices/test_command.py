import json

import pytest
from django.core.management import call_command

from .conftest import FIXTURES

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out = StringIO()
    try:
        call_command("ingest_invoice", *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


def test_json_output_and_exit_zero_with_rejected_rows(world):
    code, out = run(str(FIXTURES / "focus_1_3_google.csv"), "--org", "alpha", "--json")
    assert code == 0
    assert json.loads(out) == {
        "status": "succeeded",
        "invoices": [
            {"provider": "google", "billing_period": "2026-10", "total": "9.00", "currency": "USD", "lines": 4}
        ],
        "duplicates": 0,
        "restated": 0,
        "rejected": 2,
        "errors": [
            {
                "line": 6,
                "field": "ChargeCategory",
                "message": "must be one of Usage, Purchase, Tax, Credit, Adjustment, got 'Refund'",
            },
            {"line": 7, "field": "BilledCost", "message": "must be a decimal number, got 'abc'"},
        ],
    }
    code, out = run(str(FIXTURES / "focus_1_3_google.csv"), "--org", "alpha", "--json", "--format", "focus")
    assert code == 0
    assert json.loads(out)["duplicates"] == 4


def test_refused_file_exits_one(world, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    code, out = run(str(path), "--org", "alpha", "--json")
    assert code == 1
    result = json.loads(out)
    assert (result["status"], result["invoices"], result["errors"][0]["message"]) == (
        "refused",
        [],
        "the file is empty",
    )


def test_wrong_format_forced_is_refused(world):
    code, out = run(str(FIXTURES / "aws_cur_bedrock.csv"), "--org", "alpha", "--json", "--format", "csv")
    assert code == 1
    assert "lacks the column" in json.loads(out)["errors"][0]["message"]
