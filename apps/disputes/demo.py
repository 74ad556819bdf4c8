"""Demo dispute: acme's budget owner (acme-owner, CC-1100 and below) disputes part of the largest direct
line of a statement in review, and a finance analyst answers in the thread. Left open, so the queue has
something in it and the period shows why it cannot be approved yet.

Statements are in review only once the periods demo has moved a month there; before that this does
nothing and says why. Idempotent: a second run finds the dispute and leaves it."""

from decimal import ROUND_DOWN, Decimal

from django.contrib.auth import get_user_model

from apps.owners.models import BudgetOwner
from apps.owners.selectors import owner_subtree_ids
from apps.periods.models import BillingPeriod
from apps.statements.models import Section, Statement
from apps.tenancy.scoping import organization_scope

from .models import Dispute
from .services import dispute_comment_add, dispute_open

OWNER_ROOT = "CC-1100"
REASON = (
    "About a quarter of these requests are the relevance team's offline evaluation runs of 14–16 October, "
    "which were meant to go through the evaluation budget, not production search."
)
EVIDENCE = "https://tickets.acme.example/SRCH-2291"
COMMENT = (
    "Thanks. The gateway logs show the eval runs tagged team=search; we are checking with the platform team "
    "whether they should be re-charged to CC-9001 before we approve the month."
)


def seed_demo(*, organization, stdout) -> None:
    if organization.slug != "acme":
        stdout.write(f"  {organization.slug}: no disputes in the demo")
        return
    users = get_user_model().objects
    owner_user = users.filter(username="acme-owner").first()
    analyst = users.filter(username="acme-analyst").first()
    if owner_user is None or analyst is None:
        stdout.write("  acme: no demo users yet, so no dispute")
        return
    with organization_scope(organization):
        billing_period = (
            BillingPeriod.objects.filter(organization=organization, state=BillingPeriod.State.IN_REVIEW)
            .order_by("period")
            .first()
        )
        if billing_period is None:
            stdout.write("  acme: no period is in review yet, so there is no draft statement to dispute")
            return
        if Dispute.objects.filter(billing_period=billing_period, opened_by=owner_user).exists():
            stdout.write(f"  acme: {billing_period.label} already has the demo dispute")
            return
        roots = BudgetOwner.objects.filter(organization=organization, code=OWNER_ROOT).values_list("id", flat=True)
        subtree = owner_subtree_ids(organization=organization, root_ids=list(roots))
        statement = (
            Statement.objects.filter(
                billing_period=billing_period,
                version=billing_period.version,
                status=Statement.Status.DRAFT,
                owner_id__in=subtree,
            )
            .order_by("owner_code")
            .first()
        )
        line = (
            statement.lines.filter(section=Section.DIRECT, amount__gt=0).order_by("-amount_nano", "position").first()
            if statement is not None
            else None
        )
        if line is None:
            stdout.write(f"  acme: no charged statement under {OWNER_ROOT} in {billing_period.label} to dispute")
            return
    amount = max((line.amount / 4).quantize(Decimal("0.01"), rounding=ROUND_DOWN), min(line.amount, Decimal("0.01")))
    dispute = dispute_open(
        statement=statement, line=line, actor=owner_user, amount=amount, reason=REASON, evidence_url=EVIDENCE
    )
    dispute_comment_add(dispute=dispute, actor=analyst, body=COMMENT)
    stdout.write(
        f"  acme: acme-owner disputes {amount} {statement.currency} of line {line.position} of "
        f"{statement.reference} (dispute #{dispute.pk}, open)"
    )
