"""The reminder that a draft statement's dispute window is about to close (``apps.statements.deadlines``):
once, to the budget-owner users who see the statement, when less than a day of the window is left. The beat
task ``disputes.remind_deadlines`` (hourly) calls ``dispute_deadline_reminders_send`` for every organisation;
the statements' ``deadline_reminded_at`` marker, set under a row lock in the transaction that records the
reminder (one audit event per period), makes a repeated or overlapping run send nothing twice. The e-mails are
queued after that transaction commits (``apps.core.mail.send_mail_on_commit``: sent by a worker, with retries)."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.mail import send_mail_on_commit
from apps.periods.models import BillingPeriod
from apps.statements.deadlines import dispute_deadline, dispute_last_day
from apps.statements.models import Statement
from apps.statements.notifications import portal_link, users_seeing_owners
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

REMIND_BEFORE = timedelta(days=1)


@tenant_scoped
def statements_due_a_reminder(*, organization: Organization, now: datetime) -> list[Statement]:
    """The current drafts of periods in review whose window closes within ``REMIND_BEFORE`` of ``now`` (and has
    not closed yet), not reminded yet."""
    drafts = Statement.objects.filter(
        organization=organization,
        status=Statement.Status.DRAFT,
        deadline_reminded_at__isnull=True,
        billing_period__state=BillingPeriod.State.IN_REVIEW,
        version=F("billing_period__version"),
    ).order_by("period", "owner_code", "pk")
    return [s for s in drafts if now < dispute_deadline(s, organization=organization) <= now + REMIND_BEFORE]


@tenant_scoped
def dispute_deadline_reminders_send(*, organization: Organization, now: datetime | None = None) -> int:
    """Remind the owners of the drafts due a reminder; returns how many statements were marked reminded."""
    now = now or timezone.now()
    due = statements_due_a_reminder(organization=organization, now=now)
    if not due:
        return 0
    with transaction.atomic():
        # Locked and filtered again: a run that overlaps this one has marked some already.
        locked = list(
            Statement.objects.select_for_update()
            .filter(organization=organization, pk__in=[s.pk for s in due], deadline_reminded_at__isnull=True)
            .order_by("pk")
        )
        if not locked:
            return 0
        Statement.objects.filter(organization=organization, pk__in=[s.pk for s in locked]).update(
            deadline_reminded_at=now
        )
        by_period = defaultdict(list)
        for statement in locked:
            by_period[statement.billing_period_id].append(statement)
        for period_id, statements in by_period.items():
            billing_period = BillingPeriod.objects.get(organization=organization, pk=period_id)
            audit_record(
                organization=organization,
                actor=None,
                action="statements.dispute_deadline_reminded",
                target=billing_period,
                after={
                    "period": billing_period.label,
                    "statements": [s.reference for s in statements],
                    "disputes_until": dispute_deadline(statements[0], organization=organization).isoformat(),
                },
            )
        ids = [s.pk for s in locked]
        transaction.on_commit(lambda: _send(organization=organization, ids=ids))
    return len(locked)


def _send(*, organization: Organization, ids: list[int]) -> int:
    statements = list(Statement.objects.filter(organization=organization, pk__in=ids).order_by("owner_code"))
    seeing = users_seeing_owners(organization=organization, owner_ids={s.owner_id for s in statements})
    by_user = defaultdict(list)
    for statement in statements:
        for user in seeing[statement.owner_id]:
            by_user[user].append(statement)
    for user, own in sorted(by_user.items(), key=lambda item: item[0].username):
        first = own[0]
        last_day = dispute_last_day(first)
        lines = [
            f"Hello {user.get_full_name() or user.username},",
            "",
            f"The dispute window of your {first.period_label} statements closes at the end of {last_day:%A %-d %B %Y}. "
            "After that a charge can no longer be disputed in the portal:",
            "",
        ]
        for statement in own:
            lines.append(
                f"- {statement.owner_code} {statement.owner_name}: "
                f"{statement.money(statement.total_amount):,} {statement.currency} "
                f"(disputes until the end of {dispute_last_day(statement):%A %-d %B})"
            )
            lines.append(f"  {portal_link('statements:detail', org_slug=organization.slug, pk=statement.pk)}")
        subject = f"[{organization.name}] Disputes on {first.period_label} close {last_day:%A %-d %B}"
        send_mail_on_commit(subject, "\n".join(lines), [user.email])
    return len(by_user)
