"""Cross-tenant cases for the journals app: the recovery accounts (entries come with the journal)."""

from django_scopes import scope

from apps.journals.models import RecoveryAccount

from . import api_route, portal_route, tenant_model


def make_recovery_account(world, organization) -> RecoveryAccount:
    with scope(organization=organization):
        account, _ = RecoveryAccount.objects.get_or_create(
            organization=organization, company_code="", defaults={"account": f"{organization.slug[:4]}-6990"}
        )
    return account


tenant_model("journals.recoveryaccount", make_recovery_account)


def make_journal_entry(world, organization):
    from apps.journals.models import JournalEntry

    from .cases_statements import make_statement

    statement = make_statement(world, organization)
    with scope(organization=organization):
        entry, _ = JournalEntry.objects.get_or_create(
            organization=organization,
            statement=statement,
            kind=JournalEntry.Kind.CHARGE,
            defaults={
                "billing_period": statement.billing_period,
                "period": statement.period,
                "version": statement.version,
                "external_id": f"{organization.slug}-{statement.reference}",
                "document_ref": f"CB{statement.pk}",
                "header_text": f"AI chargeback {statement.period_label}",
                "posting_date": statement.period,
                "currency": statement.currency,
                "owner_code": statement.owner_code,
                "memo": f"AI chargeback {statement.reference}",
                "total_nano": 0,
            },
        )
    return entry


def make_journal_line(world, organization):
    entry = make_journal_entry(world, organization)
    with scope(organization=organization):
        line, _ = entry.lines.get_or_create(
            organization=organization, position=1, defaults={"account": "6100", "cost_centre": entry.owner_code}
        )
    return line


tenant_model("journals.journalentry", make_journal_entry)
tenant_model("journals.journalline", make_journal_line)


# --- routes ---------------------------------------------------------------------------------------


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _period(world, organization) -> dict:
    # Each organisation's own month (see cases_periods): the other organisation has no period in it.
    from .cases_periods import own_period

    return {"org_slug": organization.slug, "period": own_period(world, organization).label}


def _recovery_account(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_recovery_account(world, organization).pk}


portal_route("journals:period", _period, role="finance_analyst")
portal_route("journals:recovery_accounts", _org, role="finance_admin")
portal_route("journals:recovery_account_edit", _recovery_account, role="finance_admin")
portal_route("journals:recovery_account_delete", _recovery_account, method="post", role="finance_admin")


def _entry_id(world, organization):
    return make_journal_entry(world, organization).pk


def _entry_pk(world, organization) -> dict:
    return {"pk": make_journal_entry(world, organization).pk}


api_route("api:journal-entry-list", row_id=_entry_id)
api_route("api:journal-entry-detail", _entry_pk)
api_route("api:journal-entry-acknowledge", _entry_pk, method="post")


def make_balanced_journal_entry(world, organization):
    """The journal entry above with two lines that balance (1.00 debit on 6100, 1.00 credit on 7990), so every
    export layout can write it."""
    from decimal import Decimal

    entry = make_journal_entry(world, organization)
    with scope(organization=organization):
        for position, account, side in ((1, "6100", "debit"), (2, "7990", "credit")):
            entry.lines.get_or_create(
                organization=organization,
                position=position,
                defaults={
                    "account": account,
                    "cost_centre": entry.owner_code,
                    f"{side}_nano": 1_000_000_000,
                    side: Decimal("1.00"),
                },
            )
    return entry


def _period_with_journal(world, organization) -> dict:
    """The URL kwargs of a month only this organisation has a journal in (a portal download): the balanced
    entry is moved to the organisation's own month (``cases_periods.OWN_PERIOD``), so the other organisation's
    month names one the caller has nothing in, and a 200 there could only be a leak."""
    from apps.journals.models import JournalEntry

    from .cases_periods import own_period

    entry = make_balanced_journal_entry(world, organization)
    billing_period = own_period(world, organization)
    with scope(organization=organization):
        JournalEntry.objects.filter(pk=entry.pk).update(period=billing_period.period, billing_period=billing_period)
    return {"org_slug": organization.slug, "period": billing_period.label}


def _export_query(world, organization) -> dict:
    """The export of the token's organisation's month, once both organisations have an entry in it: the file
    must name the caller's entries only."""
    for other in world.orgs.values():
        make_balanced_journal_entry(world, other)
    entry = make_balanced_journal_entry(world, organization)
    return {"period": f"{entry.period:%Y-%m}", "layout": "generic"}


portal_route("journals:download", _period_with_journal)
api_route("api:journal-entry-export", query=_export_query)
