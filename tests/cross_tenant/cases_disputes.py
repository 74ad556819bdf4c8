"""Cross-tenant cases for the disputes app."""

from decimal import Decimal

from django_scopes import scope

from apps.disputes.models import Dispute, DisputeComment
from apps.disputes.services import dispute_accept, dispute_comment_add, dispute_open
from apps.statements.models import Adjustment

from . import api_route, portal_route, tenant_model
from .cases_statements import make_statement, world_key

FINANCE = "finance_admin"
OWNER = "budget_owner"


def make_dispute(world, organization) -> Dispute:
    """One open dispute of 1.00 on line 1 of CC-1101's draft, by the organisation's budget owner."""
    statement = make_statement(world, organization)
    with scope(organization=organization):
        existing = Dispute.objects.filter(status="open").first()
        if existing is not None:
            return existing
        line = statement.lines.order_by("position").first()
    return dispute_open(
        statement=statement,
        line=line,
        actor=world.user(world_key(world, organization), OWNER),
        amount=Decimal("1.00"),
        reason="Cross-tenant case",
    )


def make_comment(world, organization) -> DisputeComment:
    dispute = make_dispute(world, organization)
    return dispute_comment_add(dispute=dispute, actor=world.user(world_key(world, organization), FINANCE), body="Hi")


def make_adjustment(world, organization) -> Adjustment:
    dispute = make_dispute(world, organization)
    with scope(organization=organization):
        platform = statement_owner(organization, "CC-1301")
    dispute_accept(
        dispute=dispute,
        actor=world.user(world_key(world, organization), FINANCE),
        amount=Decimal("1.00"),
        recharge_owner=platform,
    )
    with scope(organization=organization):
        return Adjustment.objects.get(dispute_id=dispute.pk, kind="credit")


def statement_owner(organization, code: str):
    from apps.owners.models import BudgetOwner

    return BudgetOwner.objects.get(organization=organization, code=code)


tenant_model("disputes.dispute", make_dispute)
tenant_model("disputes.disputecomment", make_comment)
tenant_model("statements.adjustment", make_adjustment)


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _dispute(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_dispute(world, organization).pk}


def _statement(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_statement(world, organization).pk}


portal_route("disputes:list", _org, role=FINANCE)
portal_route("disputes:detail", _dispute, role=FINANCE)
portal_route("disputes:comment", _dispute, method="post", role=FINANCE)
portal_route("disputes:accept", _dispute, method="post", role=FINANCE)
portal_route("disputes:reject", _dispute, method="post", role=FINANCE)
portal_route("disputes:create", _statement, role=OWNER)


def _dispute_id(world, organization):
    return make_dispute(world, organization).pk


def _dispute_pk(world, organization) -> dict:
    return {"pk": make_dispute(world, organization).pk}


api_route("api:dispute-list", row_id=_dispute_id)
api_route("api:dispute-detail", _dispute_pk)
