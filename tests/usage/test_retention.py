"""Raw usage retention (``manage.py usage_retention``): months past an organisation's setting are exported to
gzip CSV with a manifest, then removed (a whole partition when every organisation with rows in it is past
retention, else that organisation's rows), audited; the cube stays; a dry run changes nothing; a re-run has
nothing to do."""

import csv
import gzip
import hashlib
import io
import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django_scopes import scope, scopes_disabled

from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify
from apps.usage import partitions
from apps.usage.models import DailyUsage, UsageRecord
from tests.usage.test_partitions import _event, _ingest

pytestmark = pytest.mark.django_db

TODAY = "2026-12-15"  # organisation a keeps 3 months: 2026-10, 11 and 12; September and before go


def _days(organization) -> list[date]:
    with scope(organization=organization):
        return sorted(UsageRecord.objects.values_list("day", flat=True))


@pytest.fixture
def usage(world, price_book):
    a, b = world.org("a"), world.org("b")
    a.usage_retention_months = 3
    a.save()
    _ingest(
        a,
        [
            _event("a-1", "2026-08-10T10:00:00Z"),
            _event("a-2", "2026-08-31T23:59:59Z", input_tokens=5),
            _event("a-3", "2026-09-03T10:00:00Z"),
            _event("a-4", "2026-10-02T10:00:00Z"),
        ],
    )
    _ingest(b, [_event("b-1", "2026-09-20T10:00:00Z")])  # b keeps everything (no setting)
    return a, b


def _run(*args) -> str:
    out = io.StringIO()
    call_command("usage_retention", "--today", TODAY, *args, stdout=out)
    return out.getvalue()


def test_months_past_retention_are_exported_then_removed_and_audited(usage, tmp_path):
    a, b = usage
    dry = _run("--dry-run")
    assert _days(a) == [date(2026, 8, 10), date(2026, 8, 31), date(2026, 9, 3), date(2026, 10, 2)]
    assert list(tmp_path.iterdir()) == []

    out = _run("--path", str(tmp_path))

    assert _days(a) == [date(2026, 10, 2)]
    assert _days(b) == [date(2026, 9, 20)]  # September's partition is shared with b, who keeps it
    august = "usage_usagerecord_2026_08"
    if connection.vendor == "postgresql":
        # August holds only a's rows, all past retention: the partition went as a whole; September's rows by DELETE
        whole = f"{august}: 2 rows of 1 organisation(s), all past retention:"
        assert f"{whole} would be exported, then partition dropped" in dry
        assert "alpha 2026-09: 1 rows: would be exported, then rows deleted" in dry
        assert f"{whole} exported, then partition dropped" in out
        assert august not in {p.name for p in partitions.partitions()}
        assert "usage_usagerecord_2026_09" in {p.name for p in partitions.partitions()}
        methods = {"2026-08": "partition dropped", "2026-09": "rows deleted"}
    else:
        assert "alpha 2026-08: 2 rows: exported, then rows deleted" in out
        methods = {"2026-08": "rows deleted", "2026-09": "rows deleted"}

    # The export: gzip CSV with a header, every column, in id order; the manifest counts and hashes it.
    export = tmp_path / "alpha" / "usage-alpha-2026-08.csv.gz"
    manifest = json.loads((tmp_path / "alpha" / "usage-alpha-2026-08.manifest.json").read_text())
    assert manifest["rows"] == 2 and manifest["month"] == "2026-08" and manifest["organization"] == "alpha"
    assert manifest["sha256"] == hashlib.sha256(export.read_bytes()).hexdigest()
    with gzip.open(export, "rt", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["request_id"], r["day"], r["input_tokens"]) for r in rows] == [
        ("a-1", "2026-08-10", "1000"),
        ("a-2", "2026-08-31", "5"),
    ]
    assert {r["organization_id"] for r in rows} == {str(a.pk)}
    assert manifest["columns"] == list(rows[0]) and "detail_tags" in manifest["columns"]
    assert json.loads((tmp_path / "alpha" / "usage-alpha-2026-09.manifest.json").read_text())["rows"] == 1

    # One audit event a removed month, in a's chain (which still verifies); none for b.
    with scopes_disabled():
        events = list(AuditEvent.objects.filter(action="usage.retention_removed").order_by("object_id"))
    assert [(e.organization_id, e.object_id, e.after["method"], e.before["rows"]) for e in events] == [
        (a.pk, "2026-08", methods["2026-08"], 2),
        (a.pk, "2026-09", methods["2026-09"], 1),
    ]
    assert events[0].after["sha256"] == manifest["sha256"]
    assert audit_chain_verify(organization=a).ok
    # The cube is kept: statements and periods read it.
    with scope(organization=a):
        assert sorted(DailyUsage.objects.values_list("day", "records")) == [
            (date(2026, 8, 10), 1),
            (date(2026, 8, 31), 1),
            (date(2026, 9, 3), 1),
            (date(2026, 10, 2), 1),
        ]

    # Again: nothing to do, nothing written.
    assert _run("--path", str(tmp_path)) == "Nothing past retention.\n"
    assert sorted(p.name for p in (tmp_path / "alpha").iterdir()) == [
        "usage-alpha-2026-08.csv.gz",
        "usage-alpha-2026-08.manifest.json",
        "usage-alpha-2026-09.csv.gz",
        "usage-alpha-2026-09.manifest.json",
    ]


def test_late_rows_of_a_removed_month_go_to_a_further_part(usage, tmp_path):
    a, _b = usage
    _run("--path", str(tmp_path), "--organization", "alpha")
    _ingest(a, [_event("a-late", "2026-09-04T10:00:00Z")], "late")
    out = _run("--path", str(tmp_path), "--organization", "alpha")
    assert "alpha 2026-09: 1 rows: exported, then rows deleted" in out
    part2 = json.loads((tmp_path / "alpha" / "usage-alpha-2026-09-part2.manifest.json").read_text())
    assert part2["rows"] == 1
    assert json.loads((tmp_path / "alpha" / "usage-alpha-2026-09.manifest.json").read_text())["rows"] == 1  # kept
    assert _days(a) == [date(2026, 10, 2)]


def test_an_organisation_that_keeps_everything_loses_nothing(usage, tmp_path):
    _a, b = usage
    assert _run("--path", str(tmp_path), "--organization", "beta") == "Nothing past retention.\n"
    assert _days(b) == [date(2026, 9, 20)]


def test_the_command_refuses_what_it_cannot_do(usage):
    with pytest.raises(CommandError, match="--path is required"):
        call_command("usage_retention", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Unknown organisation"):
        call_command("usage_retention", "--dry-run", "--organization", "nope", stdout=io.StringIO())


def test_retention_keeps_at_least_three_months(world):
    organization = world.org("a")
    organization.usage_retention_months = 2
    with pytest.raises(ValidationError, match="usage_retention_months"):
        organization.full_clean()
    organization.usage_retention_months = None  # keep everything
    organization.full_clean()
