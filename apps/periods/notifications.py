"""E-mails about period transitions that periods itself sends (the statements' owners hear from statements):
submitting a period for review tells its approvers, the members whose role may approve periods (finance
admins), other than the one who submitted it (maker-checker: they may not approve it). Queued after the
transition commits (``apps.core.mail.send_mail_on_commit``: a worker sends it, with retries), so nobody is told
of a submission that rolled back."""

from django.conf import settings
from django.urls import reverse

from apps.core.mail import send_mail_on_commit
from apps.tenancy.roles import Perm
from apps.tenancy.scoping import tenant_scoped
from apps.tenancy.selectors import member_emails

from .models import BillingPeriod


@tenant_scoped(via="billing_period")
def period_submitted_notify(*, billing_period: BillingPeriod, actor=None, reason: str = "") -> None:
    """Effect of ``submit_for_review``: once it commits, one e-mail to the period's approvers."""
    organization = billing_period.organization
    recipients = member_emails(
        organization=organization, perm=Perm.APPROVE_PERIOD, exclude_user_id=billing_period.prepared_by_id
    )
    if not recipients:
        return
    label, version = billing_period.label, billing_period.version
    link = f"{settings.PORTAL_URL}{reverse('periods:detail', kwargs={'org_slug': organization.slug, 'period': label})}"
    lines = [
        f"{billing_period.prepared_by_label} submitted {label} (version {version}) for review: its draft statements "
        "are issued to the budget owners, who may dispute them.",
        "",
    ]
    if billing_period.override_at:
        lines += [f"Reconciliation was outside tolerance, overridden: “{billing_period.override_reason}”", ""]
    if reason:
        lines += [f"Note: {reason}", ""]
    lines += [f"Review and approve it: {link}"]
    subject = f"[{organization.name}] {label} is ready for your review"
    body = "\n".join(lines)
    send_mail_on_commit(subject, body, recipients)
