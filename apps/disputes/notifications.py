"""E-mails about disputes, queued after commit (``apps.core.mail.send_mail_on_commit``: a worker sends them,
retrying a mail server that refuses): a new dispute goes to the organisation's finance team
(everyone whose role resolves disputes), an outcome to the person who opened the dispute."""

from apps.core.mail import send_mail_on_commit
from apps.core.money import nano_to_decimal, quantize_money
from apps.statements.notifications import portal_link
from apps.tenancy.roles import Perm
from apps.tenancy.selectors import member_emails

from .models import Dispute


def _money(nano: int, currency: str) -> str:
    return f"{quantize_money(nano_to_decimal(nano), currency):,} {currency}"


def _dispute(dispute_id: int) -> Dispute:
    return Dispute._base_manager.select_related(
        "organization", "statement", "line", "owner", "opened_by", "resolved_by", "recharge_owner"
    ).get(pk=dispute_id)


def dispute_opened_notify(*, dispute_id: int) -> int:
    dispute = _dispute(dispute_id)
    organization = dispute.organization
    recipients = member_emails(organization=organization, perm=Perm.RESOLVE_DISPUTES)
    if not recipients:
        return 0
    statement = dispute.statement
    what = f"line {dispute.line.position} ({dispute.line.explanation})" if dispute.line_id else "the whole statement"
    body = "\n".join(
        [
            f"{dispute.opened_by.get_full_name() or dispute.opened_by.username} disputes {what} of "
            f"{statement.reference} ({statement.owner_name}).",
            "",
            f"Amount disputed: {_money(dispute.amount_nano, dispute.currency)}",
            f"Reason: {dispute.reason}",
            *([f"Evidence: {dispute.evidence_url}"] if dispute.evidence_url else []),
            "",
            f"Resolve it: {portal_link('disputes:detail', org_slug=organization.slug, pk=dispute.pk)}",
        ]
    )
    subject = f"[{organization.name}] Dispute #{dispute.pk} opened on {statement.reference}"
    send_mail_on_commit(subject, body, recipients)
    return 1


def dispute_resolved_notify(*, dispute_id: int) -> int:
    dispute = _dispute(dispute_id)
    organization = dispute.organization
    opener = dispute.opened_by
    if not opener.email or not opener.is_active:
        return 0
    resolver = dispute.resolved_by.get_full_name() or dispute.resolved_by.username
    if dispute.status == Dispute.Status.ACCEPTED:
        outcome = [
            f"{resolver} accepted it: {_money(dispute.adjusted_nano, dispute.currency)} is credited to "
            f"{dispute.owner.code} and charged to {dispute.recharge_owner.code} {dispute.recharge_owner.name}.",
            "The adjustment appears on the period's statements (the draft in review, or the next version).",
        ]
        if dispute.resolution_note:
            outcome.append(f"Note: {dispute.resolution_note}")
    else:
        outcome = [f"{resolver} rejected it: {dispute.resolution_note}"]
    body = "\n".join(
        [
            f"Your dispute #{dispute.pk} of {_money(dispute.amount_nano, dispute.currency)} on "
            f"{dispute.statement.reference} has been resolved.",
            "",
            *outcome,
            "",
            portal_link("disputes:detail", org_slug=organization.slug, pk=dispute.pk),
        ]
    )
    subject = f"[{organization.name}] Dispute #{dispute.pk} {dispute.get_status_display().lower()}"
    send_mail_on_commit(subject, body, [opener.email])
    return 1
