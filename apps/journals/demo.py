"""Demo ledger: the recovery accounts the journal credits, and the journals of the closed demo months.

The demo cost centres carry their GL account, department, class, location and company code
(``apps/owners/demo.py``). ``seed_demo_recovery_accounts`` runs before the periods are closed, so closing a
month books its journal as it does for real (``services.journal_book_on_close``); ``seed_demo`` runs after
them and books any closed month that has nothing booked yet (a database seeded before journals existed),
then plays the ERP's side for the months before the last closed one: the demo ERP connector
(``apps/accounts/demo.py``) acknowledged their entries as posted, with its document numbers, so the period
journal page shows posted next to pending. The last closed month (September 2026) is left pending for the
ERP walkthrough in the README. Idempotent: a second run books and acknowledges nothing new.
"""

from apps.accounts.authentication import ApiPrincipal
from apps.accounts.demo import ERP_CLIENT_NAME
from apps.accounts.models import ApiClient
from apps.periods.models import BillingPeriod
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope

from .models import JournalEntry, RecoveryAccount
from .services import journal_acknowledge, journal_book_if_due, recovery_account_create

# slug: (company code, recovery account, description): one per demo company code (apps/owners/demo.py SITES)
RECOVERY_ACCOUNTS = {
    "acme": [("US01", "2990-AI-Recovery", "AI spend recovered from the cost centres (US01)")],
    "globex": [("DE01", "2990-AI-Recovery", "AI spend recovered from the cost centres (DE01)")],
}


def seed_demo_recovery_accounts(*, organization: Organization, stdout) -> None:
    made = []
    with organization_scope(organization):
        existing = set(RecoveryAccount.objects.values_list("company_code", flat=True))
        for company_code, account, description in RECOVERY_ACCOUNTS.get(organization.slug, []):
            if company_code not in existing:
                recovery_account_create(
                    organization=organization,
                    data={"company_code": company_code, "account": account, "description": description},
                    actor=None,
                )
                made.append(f"{company_code} → {account}")
    stdout.write(f"  {organization.slug}: recovery accounts {', '.join(made) if made else 'already set'}")


def document_number(entry: JournalEntry) -> str:
    """The document number the demo ERP gives an entry: stable, so a second seeding changes nothing."""
    return f"JE-{entry.period:%Y%m}-{entry.pk:05d}"


def seed_demo(*, organization: Organization, stdout) -> None:
    with organization_scope(organization):
        closed = list(BillingPeriod.objects.filter(state=BillingPeriod.State.CLOSED).order_by("period"))
        if not closed:
            stdout.write(f"  {organization.slug}: no closed month, no journal")
            return
        for billing_period in closed:
            booking = journal_book_if_due(organization=organization, billing_period=billing_period)
            if booking is not None and booking.blocked:
                stdout.write(f"  {organization.slug}: {billing_period.label} not booked: {booking.reason}")
        client = ApiClient.objects.filter(name=ERP_CLIENT_NAME).first()
        posted = 0
        if client is not None:
            erp = ApiPrincipal(client)
            for entry in JournalEntry.objects.filter(
                period__lt=closed[-1].period, posting_status=JournalEntry.Posting.PENDING
            ).order_by("period", "pk"):
                journal_acknowledge(entry=entry, actor=erp, reference=document_number(entry), status="posted")
                posted += 1
        counts = {
            status: JournalEntry.objects.filter(posting_status=status).count() for status in JournalEntry.Posting.values
        }
    first, last = closed[0].label, closed[-1].label
    stdout.write(
        f"  {organization.slug}: journals of {first} to {last}: {counts['posted']} entries posted "
        f"({posted} acknowledged now by {ERP_CLIENT_NAME!r}), {counts['pending']} pending, {counts['failed']} failed"
    )
