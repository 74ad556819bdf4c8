"""Cross-tenant cases for the showback dashboard pages (the spend dashboard and its trends)."""

from . import portal_route


def _org(world, organization) -> dict:
    return {"org_slug": organization.slug}


portal_route("showback:dashboard", _org)
portal_route("showback:trends", _org)
