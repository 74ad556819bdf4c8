"""Schemathesis over every operation of the API, in-process against the Django WSGI app, with all its checks.

Not part of ``make test`` (the file name does not start with test_): ``.ci/run`` runs it on its own, bounded by
a fixed example count per operation (schemathesis.toml) and a time cap. It seeds the demo world into the test
database once and sends a real token of acme with every scope, so authenticated operations are exercised and
not only their 401s. Any 5xx, status, content type, header or body the schema does not declare fails the run.
See README "API schema check".
"""

from datetime import timedelta

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from django_scopes import scope
from hypothesis import HealthCheck, settings

from apps.accounts.services import api_client_create
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Role, TokenScope

from . import figures

# NDJSON usage bodies go on the wire as text, like CSV bills.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

# Each operation runs in a transaction rolled back after it, over the demo world seeded once for the run.
pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture(scope="session")
def token(django_db_setup, django_db_blocker) -> str:
    """The demo world (seed_demo) and an acme token carrying every scope, made once for the run. It is a finance
    analyst (the token role that may prepare), so the preparing transitions are exercised too."""
    with django_db_blocker.unblock():
        call_command("seed_demo", verbosity=0)
        organization = Organization.objects.get(slug="acme")
        with scope(organization=organization):
            admin = Membership.objects.get(organization=organization, user__username="acme-admin").user
            _, raw_token = api_client_create(
                organization=organization,
                actor=admin,
                name="schemathesis",
                scopes=list(TokenScope.values),
                role=Role.FINANCE_ANALYST,
                expires_at=timezone.now() + timedelta(days=1),
            )
    return raw_token


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, token):
    label = case.operation.label
    figures.OPERATIONS.add(label)
    figures.CASES["total"] += 1
    try:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
    except BaseException:
        figures.FAILED.add(label)
        raise
