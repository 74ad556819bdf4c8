"""Demo data: two organisations with a user for every role, then every app's demo data. Safe to run again:
it converges. It lives on the top floor (portal) because it calls every app's demo module."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.demo import DEMO_TOTP_SECRET, demo_authenticator, seed_demo_erp_client
from apps.allocation import demo as allocation_demo
from apps.audit.services import audit_record
from apps.disputes import demo as disputes_demo
from apps.fx import demo as fx_demo
from apps.journals import demo as journals_demo
from apps.owners import demo as owners_demo
from apps.periods import demo as periods_demo
from apps.pricing import demo as pricing_demo
from apps.reconciliation import demo as reconciliation_demo
from apps.showback import demo as showback_demo
from apps.taxonomy import demo as taxonomy_demo
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import SECOND_FACTOR_ROLES, Role
from apps.tenancy.scoping import organization_scope
from apps.usage import demo as usage_demo
from apps.webhooks import demo as webhooks_demo

User = get_user_model()

DEMO_PASSWORD = "chargeback-demo-2026"  # noqa: S105 - demo data, printed on purpose

ORGANIZATIONS = [
    {"slug": "acme", "name": "Acme Corporation", "base_currency": "USD"},
    {"slug": "globex", "name": "Globex Industries", "base_currency": "EUR"},
]

# Each app that has demo data exposes ``seed_demo(*, organization, stdout)`` in ``apps/<app>/demo.py``;
# they run in this order (later ones read what earlier ones made). Each must be idempotent.
APP_SEEDERS = [
    owners_demo.seed_demo,
    taxonomy_demo.seed_demo,
    pricing_demo.seed_demo,
    fx_demo.seed_demo,
    usage_demo.seed_demo,
    usage_demo.seed_demo_budgets,
    reconciliation_demo.seed_demo,
    allocation_demo.seed_demo,
    # The ERP side: recovery accounts before the months close (closing books their journals), the ERP's
    # service account and its (disabled) webhook endpoint, then the journals of the closed months.
    journals_demo.seed_demo_recovery_accounts,
    seed_demo_erp_client,
    webhooks_demo.seed_demo,
    periods_demo.seed_demo,
    journals_demo.seed_demo,
    disputes_demo.seed_demo,
    showback_demo.seed_demo,
]

# username suffix -> (role, full name)
PEOPLE = [
    ("admin", Role.ORG_ADMIN, "Olivia Admin"),
    ("finadmin", Role.FINANCE_ADMIN, "Fiona Approver"),
    ("finadmin2", Role.FINANCE_ADMIN, "Frank Approver"),
    ("analyst", Role.FINANCE_ANALYST, "Priya Preparer"),
    ("owner", Role.BUDGET_OWNER, "Bob Owner"),
    ("viewer", Role.VIEWER, "Vera Viewer"),
]


class Command(BaseCommand):
    help = "Create the demo organisations (acme, globex) and a user for every role. Idempotent."

    def handle(self, *args, **options):
        rows = []
        for spec in ORGANIZATIONS:
            rows.extend(self._seed_organization(spec))
        consultant = self._user("consultant", "Casey Consultant")
        for slug, role in (("acme", Role.VIEWER), ("globex", Role.FINANCE_ANALYST)):
            rows.append(self._member(Organization.objects.get(slug=slug), consultant, role))

        for seed_demo in APP_SEEDERS:
            for organization in Organization.objects.filter(slug__in=[o["slug"] for o in ORGANIZATIONS]).order_by(
                "slug"
            ):
                seed_demo(organization=organization, stdout=self.stdout)

        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD})")
        self.stdout.write(f"  {'username':<18} {'organisation':<10} role")
        for username, slug, role in rows:
            self.stdout.write(f"  {username:<18} {slug:<10} {Role(role).label}")
        self.stdout.write(
            "Org admins and finance admins also confirm a code after the password: "
            "`python manage.py demo_totp USERNAME` prints it, or add the demo secret "
            f"{DEMO_TOTP_SECRET} to an authenticator app."
        )

    @transaction.atomic
    def _seed_organization(self, spec: dict) -> list[tuple[str, str, str]]:
        organization, created = Organization.objects.get_or_create(slug=spec["slug"], defaults=spec)
        if created:
            audit_record(
                organization=organization,
                actor=None,
                action="organization.created",
                target=organization,
                after=spec,
                reason="seed_demo",
            )
        rows = []
        for suffix, role, full_name in PEOPLE:
            user = self._user(f"{spec['slug']}-{suffix}", full_name, email_domain=f"{spec['slug']}.example")
            rows.append(self._member(organization, user, role))
            if role in SECOND_FACTOR_ROLES:
                # Approvals and administration need a second factor: the demo admins share a published one.
                demo_authenticator(user)
        return rows

    def _user(self, username: str, full_name: str, email_domain: str = "example.com"):
        first, last = full_name.split(" ", 1)
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@{email_domain}"},
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    @transaction.atomic
    def _member(self, organization: Organization, user, role: str) -> tuple[str, str, str]:
        with organization_scope(organization):
            membership, created = Membership.objects.get_or_create(
                organization=organization, user=user, defaults={"role": role}
            )
            if created:
                audit_record(
                    organization=organization,
                    actor=None,
                    action="membership.created",
                    target=membership,
                    after={"user": user.username, "role": role},
                    reason="seed_demo",
                )
            elif membership.role != role:
                before = {"user": user.username, "role": membership.role}
                membership.role = role
                membership.save(update_fields=["role"])
                audit_record(
                    organization=organization,
                    actor=None,
                    action="membership.role_changed",
                    target=membership,
                    before=before,
                    after={"user": user.username, "role": role},
                    reason="seed_demo",
                )
        return user.username, organization.slug, role
