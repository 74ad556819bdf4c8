"""Every list's export (CSV and XLSX) holds its own organisation's rows and never another's.

Each case makes one row in both organisations, marked with the organisation's slug, then exports the list of
org "a" as a member of "a": the file must contain a's mark (so the check could catch a leak) and not b's."""

import datetime
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from apps.accounts.services import api_client_create
from apps.allocation.rules.services import rule_set_create
from apps.audit.services import audit_record
from apps.fx.models import OrgFxRate
from apps.pricing.models import OrgModel
from apps.usage.models import IngestJob
from tests.factories.invoices import InvoiceIngestJobFactory, ProviderInvoiceFactory
from tests.factories.owners import BudgetOwnerFactory
from tests.factories.periods import BillingPeriodFactory
from tests.factories.pricing import PriceOverrideFactory, ProviderFactory
from tests.factories.reconciliation import ReconciliationRunFactory
from tests.factories.taxonomy import TagDimensionFactory
from tests.scenarios import issued
from tests.tables import csv_rows, xlsx_rows

pytestmark = pytest.mark.django_db


def _api_client(world, org):
    api_client_create(
        organization=org,
        actor=None,
        name=f"client-{org.slug}",
        scopes=["org:read"],
        expires_at=timezone.now() + timedelta(days=3),
    )
    return f"client-{org.slug}"


def _owner(world, org):
    return BudgetOwnerFactory(organization=org, code=f"CC-{org.slug}").code


def _dimension(world, org):
    return TagDimensionFactory(organization=org, key=f"dim_{org.slug}").key


def _override(world, org):
    provider = ProviderFactory(code=f"p-{org.slug}")
    PriceOverrideFactory(organization=org, provider=provider, note=f"note-{org.slug}")
    return f"note-{org.slug}"


def _org_model(world, org):
    provider = ProviderFactory(code=f"q-{org.slug}")
    OrgModel.objects.create(organization=org, provider=provider, name=f"model-{org.slug}")
    return f"model-{org.slug}"


def _invoice(world, org):
    return ProviderInvoiceFactory(organization=org, invoice_number=f"INV-{org.slug}").invoice_number


def _invoice_job(world, org):
    return InvoiceIngestJobFactory(organization=org, file_name=f"inv-{org.slug}.csv").file_name


def _usage_job(world, org):
    IngestJob.objects.create(
        organization=org, channel="upload", format="jsonl", file_name=f"use-{org.slug}.jsonl", payload="none.bin"
    )
    return f"use-{org.slug}.jsonl"


def _audit(world, org):
    with transaction.atomic():
        audit_record(organization=org, actor=None, action="test.export", reason=f"why-{org.slug}")
    return f"why-{org.slug}"


def _rate(world, org):
    OrgFxRate.objects.create(
        organization=org,
        day=datetime.date(2026, 10, 1),
        from_currency="EUR",
        to_currency="USD",
        rate_e10=10_000_000_000,
        source=f"src-{org.slug}",
    )
    return f"src-{org.slug}"


def _rule_set(world, org):
    return rule_set_create(organization=org, actor=None, name=f"rules-{org.slug}").name


def _period(world, org):
    month = datetime.date(2026, 10, 1) if org.slug == "alpha" else datetime.date(2025, 1, 1)
    BillingPeriodFactory(organization=org, period=month)
    return f"{month:%Y-%m}"


def _statements(world, org):
    # Both organisations issue to the same cost-centre codes; the month (in the reference) marks them.
    month = datetime.date(2026, 10, 1) if org.slug == "alpha" else datetime.date(2026, 8, 1)
    issued(org, period=month)
    return f"{month:%Y-%m}-CC-1101-v1"


def _reconciliation_run(world, org):
    return ReconciliationRunFactory(organization=org, created_by_label=f"recon-{org.slug}").created_by_label


CASES = [
    ("accounts:members", "org_admin", lambda world, org: f"{org.slug}-viewer"),
    ("accounts:api_clients", "org_admin", _api_client),
    ("owners:list", "org_admin", _owner),
    ("taxonomy:dimensions", "org_admin", _dimension),
    ("pricing:overrides", "org_admin", _override),
    ("pricing:org_models", "org_admin", _org_model),
    ("invoices:list", "finance_admin", _invoice),
    ("invoices:imports", "finance_admin", _invoice_job),
    ("usage:jobs", "finance_analyst", _usage_job),
    ("audit:history", "org_admin", _audit),
    ("fx:exchange_rates", "finance_admin", _rate),
    ("rules:list", "finance_analyst", _rule_set),
    ("periods:board", "finance_admin", _period),
    ("statements:list", "finance_analyst", _statements),
    ("reconciliation:overview", "finance_analyst", _reconciliation_run),
]


@pytest.mark.parametrize(("url_name", "role", "make"), CASES, ids=[case[0] for case in CASES])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_never_holds_another_organisations_rows(world, url_name, role, make, fmt):
    marks = {}
    for key in ("a", "b"):
        organization = world.org(key)
        with scope(organization=organization):
            marks[key] = make(world, organization)
    response = world.login("a", role).get(reverse(url_name, kwargs={"org_slug": "alpha"}) + f"?export={fmt}")
    rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)
    text = "\n".join(" ".join("" if cell is None else str(cell) for cell in row) for row in rows)
    assert marks["a"] in text, "the export lacks the caller's own row, so this test could not catch a leak"
    assert marks["b"] not in text
