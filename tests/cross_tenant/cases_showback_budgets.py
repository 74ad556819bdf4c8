"""Cross-tenant cases for the showback budgets page."""

from . import portal_route


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


portal_route("showback:budgets", _org)
