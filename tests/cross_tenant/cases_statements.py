"""Cross-tenant cases for the statements app."""

from django_scopes import scope

from apps.statements.models import Statement, StatementLine
from tests import scenarios

from . import api_route, portal_route, tenant_model


def world_key(world, organization) -> str:
    return next(key for key, org in world.orgs.items() if org.pk == organization.pk)


def make_statement(world, organization) -> Statement:
    """October issued (drafts in review) once per organisation; its budget-owner member owns CC-1101."""
    with scope(organization=organization):
        existing = Statement.objects.filter(owner__code="CC-1101").first()
    if existing is not None:
        return existing
    issued = scenarios.issued(organization)
    with scope(organization=organization):
        issued.owners["CC-1101"].owner_users.add(world.user(world_key(world, organization), "budget_owner"))
    return issued.statement("CC-1101")


def make_statement_line(world, organization) -> StatementLine:
    statement = make_statement(world, organization)
    with scope(organization=organization):
        return statement.lines.order_by("position").first()


tenant_model("statements.statement", make_statement)
tenant_model("statements.statementline", make_statement_line)


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


def _statement(world, organization) -> dict:
    return {"org_slug": organization.slug, "pk": make_statement(world, organization).pk}


portal_route("statements:list", _org)
portal_route("statements:detail", _statement)
portal_route("statements:print", _statement)
portal_route("statements:export", _statement)
portal_route("statements:pdf", _statement)


def _statement_id(world, organization):
    return make_statement(world, organization).pk


def _statement_pk(world, organization) -> dict:
    return {"pk": make_statement(world, organization).pk}


api_route("api:statement-list", row_id=_statement_id)
api_route("api:statement-detail", _statement_pk)
api_route("api:statement-pdf", _statement_pk)
