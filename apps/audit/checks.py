"""Deploy checks of the audit trail's anchoring (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Info, Tags, register


@register(Tags.security, deploy=True)
def anchoring_configured(app_configs=None, **kwargs):
    notes = []
    if not settings.AUDIT_ANCHOR_DIR:
        notes.append(
            Info(
                "AUDIT_ANCHOR_DIR is not set: audit chain heads are not published outside the database, so "
                "deleting the newest audit events or rewriting the chain cannot be detected.",
                id="audit.I001",
            )
        )
    if not settings.AUDIT_ANCHOR_KEY:
        notes.append(
            Info(
                "AUDIT_ANCHOR_KEY is not set: published audit heads are signed with a key derived from SECRET_KEY "
                "(rotating SECRET_KEY then invalidates the last published head until the next publication).",
                id="audit.I002",
            )
        )
    return notes
