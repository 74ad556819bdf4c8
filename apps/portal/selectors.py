"""Reads the top floor assembles from the apps below it."""

from apps.disputes.selectors import open_disputes_for_owner_panel
from apps.statements.selectors import OwnerPanel, owner_statements_panel
from apps.tenancy.models import Membership
from apps.tenancy.scoping import tenant_scoped


@tenant_scoped(via="membership")
def owner_home_panel(*, membership: Membership) -> OwnerPanel | None:
    """For budget owners: the latest period with statements, each owner's charge against its budget, and
    the open disputes on their statements. None for other roles (finance has the queue)."""
    panel = owner_statements_panel(membership=membership)
    if panel is not None:
        panel.open_disputes = open_disputes_for_owner_panel(membership=membership)
    return panel
