"""E-mails about statements. Queued after the transaction commits (``apps.core.mail.send_mail_on_commit``), so
nobody is told about statements that were rolled back, and sent by a worker that retries a refusing mail server;
the backend is the console in the demo, locmem in tests."""

from collections import defaultdict

from django.conf import settings
from django.urls import reverse

from apps.core.mail import send_mail_on_commit
from apps.owners.models import BudgetOwner
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from .models import Statement


def portal_link(url_name: str, **kwargs) -> str:
    return f"{settings.PORTAL_URL}{reverse(url_name, kwargs=kwargs)}"


@tenant_scoped
def users_seeing_owners(*, organization: Organization, owner_ids) -> dict[int, set]:
    """For each owner id: the users who own it or a cost centre above it (they see it in the portal)."""
    parents = dict(BudgetOwner.objects.filter(organization=organization).values_list("id", "parent_id"))
    owners_of = defaultdict(set)
    for owner in BudgetOwner.objects.filter(organization=organization).prefetch_related("owner_users"):
        owners_of[owner.pk] = {user for user in owner.owner_users.all() if user.is_active and user.email}
    seeing: dict[int, set] = {}
    for owner_id in owner_ids:
        users, current, seen = set(), owner_id, set()
        while current is not None and current not in seen:
            seen.add(current)
            users |= owners_of.get(current, set())
            current = parents.get(current)
        seeing[owner_id] = users
    return seeing


def _statements_by_reader(organization: Organization, ids: list[int]) -> tuple[list, dict]:
    """The statements ``ids`` (by cost centre code) and, for every user who sees one, the ones they see."""
    statements = list(Statement.objects.filter(organization=organization, pk__in=ids).order_by("owner_code"))
    seeing = users_seeing_owners(organization=organization, owner_ids={s.owner_id for s in statements})
    by_user = defaultdict(list)
    for statement in statements:
        for user in seeing[statement.owner_id]:
            by_user[user].append(statement)
    return statements, by_user


@tenant_scoped
def statements_issued_notify(*, organization: Organization, ids: list[int]) -> int:
    """One e-mail per budget-owner user, listing the statements issued that they see. Returns e-mails sent."""
    statements, by_user = _statements_by_reader(organization, ids)
    if not statements:
        return 0
    first = statements[0]
    subject = f"[{organization.name}] Statements for {first.period_label} issued (version {first.version})"
    for user, own in sorted(by_user.items(), key=lambda item: item[0].username):
        lines = [
            f"Hello {user.get_full_name() or user.username},",
            "",
            f"The AI charges of {first.period_label} are in review. Your statements:",
            "",
        ]
        for statement in own:
            lines.append(
                f"- {statement.owner_code} {statement.owner_name}: "
                f"{statement.money(statement.total_amount):,} {statement.currency}"
            )
            lines.append(f"  {portal_link('statements:detail', org_slug=organization.slug, pk=statement.pk)}")
        lines += [
            "",
            "If a charge looks wrong, open the statement and dispute the line before the period is approved.",
        ]
        send_mail_on_commit(subject, "\n".join(lines), [user.email])
    return len(by_user)


@tenant_scoped
def statements_withdrawn_notify(*, organization: Organization, ids: list[int], reason: str) -> int:
    """One e-mail per budget-owner user whose draft statements were withdrawn (the period was sent back from
    review), with the reason. Returns e-mails sent."""
    statements, by_user = _statements_by_reader(organization, ids)
    if not statements:
        return 0
    first = statements[0]
    subject = f"[{organization.name}] Draft statements for {first.period_label} withdrawn"
    for user, own in sorted(by_user.items(), key=lambda item: item[0].username):
        lines = [
            f"Hello {user.get_full_name() or user.username},",
            "",
            f"Finance sent {first.period_label} back from review to reconciling. These draft statements are "
            "withdrawn and no longer charge you:",
            "",
        ]
        for statement in own:
            lines.append(f"- {statement.owner_code} {statement.owner_name} ({statement.reference})")
            lines.append(f"  {portal_link('statements:detail', org_slug=organization.slug, pk=statement.pk)}")
        lines += ["", f"Reason: {reason}", "", "New drafts will be issued when the period is submitted again."]
        send_mail_on_commit(subject, "\n".join(lines), [user.email])
    return len(by_user)
