import io

import pytest
from django_scopes import scope

from apps.allocation.demo import seed_demo as seed_allocation
from apps.audit.models import AuditEvent
from apps.owners.demo import seed_demo as seed_owners
from apps.periods.demo import OVERRIDE_REASON, seed_demo
from apps.periods.models import BillingPeriod
from apps.reconciliation.demo import seed_demo as seed_reconciliation
from apps.reconciliation.demo_invoices import seed_demo_invoices as seed_invoices
from apps.taxonomy.demo import seed_demo as seed_taxonomy
from apps.tenancy.models import Organization
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.scenarios import demo_cube

pytestmark = pytest.mark.django_db


def test_demo_closes_september_reviews_october_leaves_november_open_and_is_idempotent():
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
    seed_owners(organization=acme, stdout=io.StringIO())
    seed_taxonomy(organization=acme, stdout=io.StringIO())
    demo_cube(acme)
    seed_invoices(organization=acme, stdout=io.StringIO())
    seed_reconciliation(organization=acme, stdout=io.StringIO())
    seed_allocation(organization=acme, stdout=io.StringIO())
    out = io.StringIO()
    seed_demo(organization=acme, stdout=out)
    with scope(organization=acme):
        events = AuditEvent.objects.count()
    seed_demo(organization=acme, stdout=out)
    acme.refresh_from_db()
    assert acme.mode == Organization.Mode.CHARGEBACK
    with scope(organization=acme):
        assert AuditEvent.objects.count() == events  # the second run changed nothing
        states = {bp.label: bp for bp in BillingPeriod.objects.all()}
        transitions = list(
            AuditEvent.objects.filter(action__startswith="billing_period.").values_list("action", "actor_label")
        )
    # November has no row here (allocation, which makes one, is not seeded in this test): it is open.
    assert {label: bp.state for label, bp in states.items()} == {
        "2026-09": "closed",
        "2026-10": "in_review",
        "2026-11": "open",
    }
    september, october = states["2026-09"], states["2026-10"]
    # September (openai only) is within tolerance: the analyst prepares it. October's anthropic bill is +6.3 %
    # over the estimate, outside 5 %: the second finance admin submits it with the override and its reason.
    assert (september.prepared_by_label, september.override_reason) == ("acme-analyst", "")
    assert (september.approved_by_label, september.closed_by_label) == ("acme-finadmin", "acme-finadmin")
    assert (october.prepared_by_label, october.override_reason) == ("acme-finadmin2", OVERRIDE_REASON)
    assert transitions == [
        ("billing_period.start_reconciliation", "acme-analyst"),
        ("billing_period.submit_for_review", "acme-analyst"),
        ("billing_period.approve", "acme-finadmin"),
        ("billing_period.close", "acme-finadmin"),
        ("billing_period.start_reconciliation", "acme-analyst"),
        ("billing_period.submit_for_review", "acme-finadmin2"),
    ]
    assert "acme: 2026-11 is open" in out.getvalue()
    # The demo closes April to September; this cube has no usage before September, so those months have
    # nothing to review and stay open rather than half done.
    assert (
        "acme: 2026-08 stays open: Reconcile 2026-08 first: submitting for review needs a reconciliation run of "
        "the month. Allocate 2026-08 before sending it to review."
    ) in out.getvalue()


def test_other_organisations_stay_in_showback():
    globex = OrganizationFactory(slug="globex")
    out = io.StringIO()
    seed_demo(organization=globex, stdout=out)
    assert out.getvalue() == "  globex: stays in showback, periods open"
