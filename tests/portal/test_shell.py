from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from apps.audit.services import audit_chain_verify
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def test_login_page_renders_without_a_session():
    response = Client().get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b"Log in" in response.content
    assert b"/static/django_htmx/htmx" in response.content  # served from the pip package, no CDN


def test_healthz_checks_the_database():
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_friendly_404(world):
    response = world.login("a").get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_openapi_schema_is_served():
    response = Client().get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/organization/" in paths and "/api/v1/audit-events/" in paths


def test_seed_demo_is_idempotent_and_every_user_can_log_in(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "chargeback-demo-2026" in out
    with scopes_disabled():
        assert Organization.objects.filter(slug__in=["acme", "globex"]).count() == 2
        assert Membership.objects.filter(organization__slug="acme").count() == 7
        roles = set(Membership.objects.filter(organization__slug="globex").values_list("role", flat=True))
    assert roles == set(Role.values)
    for organization in Organization.objects.all():
        assert audit_chain_verify(organization=organization).ok
    for username in ("acme-admin", "acme-finadmin", "acme-analyst", "acme-owner", "acme-viewer", "globex-admin"):
        client = Client()
        response = client.post(reverse("accounts:login"), {"username": username, "password": "chargeback-demo-2026"})
        assert response.status_code == 302, username
        if username.endswith(("-admin", "-finadmin")):
            # Admins confirm the demo authenticator's code (README: manage.py demo_totp USER).
            verify = reverse("accounts:mfa_verify")
            assert response["Location"].startswith(verify), username
            code = StringIO()
            call_command("demo_totp", username, stdout=code)
            response = client.post(verify, {"otp_token": code.getvalue().strip(), "next": reverse("portal:switcher")})
            assert response.status_code == 302, username
        home = client.get(response["Location"], follow=True)
        assert home.status_code == 200
        assert home.context["current_org"].slug == username.split("-")[0]
    assert_globex_is_charged_in_euro(out)


def assert_globex_is_charged_in_euro(out: str) -> None:
    """globex (EUR): June to October are allocated in EUR with the ECB rates of their usage days, September and
    October sent to review (statements add up to what the runs allocated, to the nano); November is refused for
    the rate gap after the shipped history's last day; the base currency is fixed."""
    from apps.allocation.models import AllocationRun
    from apps.owners.guards import budgets_fix_base_currency
    from apps.statements.models import Statement

    globex = Organization.objects.get(slug="globex")
    with scope(organization=globex):
        runs = list(AllocationRun.objects.order_by("period"))
        assert [(f"{run.period:%Y-%m}", run.currency, run.status) for run in runs] == [
            ("2026-06", "EUR", "draft"),
            ("2026-07", "EUR", "draft"),
            ("2026-08", "EUR", "draft"),
            ("2026-09", "EUR", "issued"),
            ("2026-10", "EUR", "issued"),
        ]
        for run in runs:
            assert run.conversion_id is not None
            assert run.allocated_nano + run.unallocated_nano == run.pool_total_nano
            # statements only for the months sent to review
            statements = Statement.objects.filter(allocation_run=run).values_list("total_nano", flat=True)
            assert sum(statements) == (run.allocated_nano if run.status == "issued" else 0)
        assert set(Statement.objects.values_list("currency", flat=True)) == {"EUR"}
        assert budgets_fix_base_currency(organization=globex).startswith(
            "The base currency of Globex Industries, EUR, is fixed: "
        )
    assert (
        "globex: 2026-11 not allocated: The usage and invoices of 2026-11 cannot be allocated in EUR: No ECB "
        "exchange rate for USD on 2026-11-02 to 2026-11-" in out
    )
