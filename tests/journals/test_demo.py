"""The demo's ERP side: recovery accounts before the months close, the ERP connector's service account, a
disabled webhook endpoint on loopback, and the closed months' journals (all but the last acknowledged as
posted by the connector). Seeded twice: the second run changes nothing."""

import datetime
import io

import pytest
from django_scopes import scope

from apps.accounts.demo import ERP_CLIENT_NAME, ERP_CLIENT_SCOPES, seed_demo_erp_client
from apps.accounts.models import ApiClient
from apps.allocation.demo import seed_demo as seed_allocation
from apps.audit.models import AuditEvent
from apps.journals.demo import seed_demo, seed_demo_recovery_accounts
from apps.journals.models import JournalEntry, RecoveryAccount
from apps.owners.demo import GL_ACCOUNT
from apps.owners.demo import seed_demo as seed_owners
from apps.periods.demo import seed_demo as seed_periods
from apps.periods.models import BillingPeriod
from apps.reconciliation.demo import seed_demo as seed_reconciliation
from apps.reconciliation.demo_invoices import seed_demo_invoices as seed_invoices
from apps.statements.models import Statement
from apps.taxonomy.demo import seed_demo as seed_taxonomy
from apps.taxonomy.models import TagSet
from apps.taxonomy.services import tagsets_get_or_create
from apps.tenancy.roles import Role
from apps.webhooks.demo import DEMO_ENDPOINT_URL
from apps.webhooks.demo import seed_demo as seed_webhooks
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.usage import DailyUsageFactory
from tests.scenarios import G, demo_cube

pytestmark = pytest.mark.django_db

AUG, SEP = datetime.date(2026, 8, 1), datetime.date(2026, 9, 1)


def acme_seeded_to_allocation():
    """acme's people, cost centres, tags, and the demo cube with one more openai day in August (so two
    months close: August and September), billed, reconciled and allocated by the demo seeders."""
    acme = OrganizationFactory(slug="acme", name="Acme Corporation")
    for name, role in [
        ("admin", Role.ORG_ADMIN),
        ("analyst", Role.FINANCE_ANALYST),
        ("finadmin", Role.FINANCE_ADMIN),
        ("finadmin2", Role.FINANCE_ADMIN),
        ("owner", Role.BUDGET_OWNER),
    ]:
        with scope(organization=acme):
            MembershipFactory(organization=acme, user=UserFactory(username=f"acme-{name}"), role=role)
    quiet = io.StringIO()
    seed_owners(organization=acme, stdout=quiet)
    seed_taxonomy(organization=acme, stdout=quiet)
    demo_cube(acme)
    with scope(organization=acme):
        ids = tagsets_get_or_create(organization=acme, tag_dicts=[{"team": "search"}])
        DailyUsageFactory(
            organization=acme,
            day=datetime.date(2026, 8, 12),
            provider="openai",
            model="gpt-4o",
            tagset=TagSet.objects.get(pk=next(iter(ids.values()))),
            records=0,
            requests=0,
            cost_input_nano=20 * G,
            cost_output_nano=30 * G,
        )
    seed_invoices(organization=acme, stdout=quiet)
    seed_reconciliation(organization=acme, stdout=quiet)
    seed_allocation(organization=acme, stdout=quiet)
    return acme


def seed_erp_side(acme, out) -> None:
    """The order seed_demo runs them in (apps/portal/management/commands/seed_demo.py)."""
    seed_demo_recovery_accounts(organization=acme, stdout=out)
    seed_demo_erp_client(organization=acme, stdout=out)
    seed_webhooks(organization=acme, stdout=out)
    seed_periods(organization=acme, stdout=out)
    seed_demo(organization=acme, stdout=out)


def test_the_demo_books_the_closed_months_and_the_erp_posted_all_but_the_last(eager_celery):
    acme = acme_seeded_to_allocation()
    out = io.StringIO()
    seed_erp_side(acme, out)
    with scope(organization=acme):
        events = AuditEvent.objects.count()
        entries = JournalEntry.objects.count()
    again = io.StringIO()
    seed_erp_side(acme, again)
    with scope(organization=acme):
        assert (AuditEvent.objects.count(), JournalEntry.objects.count()) == (events, entries)  # nothing new

        assert list(RecoveryAccount.objects.values_list("company_code", "account")) == [("US01", "2990-AI-Recovery")]
        client = ApiClient.objects.get(name=ERP_CLIENT_NAME)
        assert (client.role, client.scopes) == (Role.FINANCE_ANALYST, sorted(ERP_CLIENT_SCOPES))
        endpoint = WebhookEndpoint.objects.get()
        assert (endpoint.url, endpoint.is_active) == (DEMO_ENDPOINT_URL, False)
        assert endpoint.secret.startswith("whsec_")
        assert not WebhookDelivery.objects.exists()  # disabled from the start: nothing was sent anywhere

        closed = {bp.period: bp for bp in BillingPeriod.objects.filter(state="closed")}
        assert sorted(closed) == [AUG, SEP]
        finals = list(Statement.objects.filter(status="final").exclude(total_nano=0).select_related("owner"))
        booked = list(JournalEntry.objects.prefetch_related("lines").order_by("period", "owner_code"))
    # One charge per final statement of each closed month, on the demo GL account and the recovery account.
    assert sorted((e.period, e.owner_code, e.kind, e.version) for e in booked) == sorted(
        (s.period, s.owner_code, "charge", 1) for s in finals
    )
    assert {e.period for e in booked} == {AUG, SEP}
    for entry in booked:
        lines = list(entry.lines.all())
        assert sum(line.debit for line in lines) == sum(line.credit for line in lines) == entry.total_amount
        assert {line.account for line in lines} == {GL_ACCOUNT, "2990-AI-Recovery"}
        assert entry.company_code == "US01"
    # August was posted by the ERP connector with its document numbers; September waits for the ERP.
    assert {(e.period, e.posting_status) for e in booked} == {(AUG, "posted"), (SEP, "pending")}
    august = [e for e in booked if e.period == AUG]
    assert all(e.erp_reference == f"JE-202608-{e.pk:05d}" for e in august)
    assert {e.acknowledged_by_label for e in august} == {f"api:{ERP_CLIENT_NAME}"}
    text = out.getvalue()
    assert "acme: recovery accounts US01 → 2990-AI-Recovery" in text
    assert f"acme: API client {ERP_CLIENT_NAME!r} (finance_analyst, {' '.join(ERP_CLIENT_SCOPES)}); its token" in text
    assert f"acme: webhook endpoint {DEMO_ENDPOINT_URL} registered, disabled until a receiver listens" in text
    posted = len(august)
    assert (
        f"acme: journals of 2026-08 to 2026-09: {posted} entries posted ({posted} acknowledged now by "
        f"{ERP_CLIENT_NAME!r}), {len(booked) - posted} pending, 0 failed"
    ) in text
    assert f"acme: journals of 2026-08 to 2026-09: {posted} entries posted (0 acknowledged now" in again.getvalue()
    assert "shown this once" not in again.getvalue()  # the token and the secret were printed the first time only


def test_globex_gets_its_recovery_account_and_nothing_else():
    globex = OrganizationFactory(slug="globex", name="Globex Industries", base_currency="EUR")
    out = io.StringIO()
    seed_demo_recovery_accounts(organization=globex, stdout=out)
    seed_demo_erp_client(organization=globex, stdout=out)
    seed_webhooks(organization=globex, stdout=out)
    seed_demo(organization=globex, stdout=out)
    with scope(organization=globex):
        assert list(RecoveryAccount.objects.values_list("company_code", "account")) == [("DE01", "2990-AI-Recovery")]
        assert not ApiClient.objects.exists() and not WebhookEndpoint.objects.exists()
    # (A command's stdout ends each write with a newline; this StringIO does not.)
    assert out.getvalue() == "  globex: recovery accounts DE01 → 2990-AI-Recovery  globex: no closed month, no journal"
