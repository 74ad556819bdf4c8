"""Provision an API client (a service account) from the command line, for deployments and ERP set-ups that
script it: ``create_api_client --org ORG --name NAME --scopes a,b --role ROLE [--expires-days N]``.

The token is printed once, on its own line, and never stored (only its hash is); the creation is audited
like one in the portal, with the actor ``command``."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.accounts.services import api_client_create
from apps.tenancy.models import Organization
from apps.tenancy.roles import TOKEN_ROLES, Role
from apps.tenancy.scoping import organization_scope

DEFAULT_DAYS = 90


class CommandActor:
    """Who the audit names when a command acts: no person, no token."""

    audit_label = "command"
    user = None


class Command(BaseCommand):
    help = (
        "Create an API client of an organisation with a role and scopes and print its token once. "
        "The client acts as itself, never as a person; approving, closing, reopening, overriding and "
        "resolving disputes stay human actions whatever its role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--name", required=True, help="Which system uses it, e.g. 'NetSuite connector'.")
        parser.add_argument(
            "--scopes", required=True, help="Comma-separated token scopes, e.g. journal:read,events:read."
        )
        parser.add_argument(
            "--role",
            default=Role.VIEWER,
            choices=list(TOKEN_ROLES),
            help=f"The role the token acts with (default {Role.VIEWER}).",
        )
        parser.add_argument(
            "--expires-days", type=int, default=DEFAULT_DAYS, help=f"Days until it expires (default {DEFAULT_DAYS})."
        )

    def handle(self, *args, org, name, scopes, role, expires_days, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation {org!r}.")
        if expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        scope_list = [value.strip() for value in scopes.split(",") if value.strip()]
        with organization_scope(organization):
            try:
                client, token = api_client_create(
                    organization=organization,
                    actor=CommandActor(),
                    name=name.strip(),
                    scopes=scope_list,
                    role=role,
                    expires_at=timezone.now() + timedelta(days=expires_days),
                )
            except ValidationError as exc:
                problems = " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
                raise CommandError(problems) from None
        self.stderr.write(
            f"Created API client {client.name!r} of {organization.slug} (role {client.role}, scopes "
            f"{','.join(client.scopes)}, expires {client.expires_at:%Y-%m-%d %H:%M} UTC). "
            "The token follows; it is not shown again."
        )
        self.stdout.write(token)
