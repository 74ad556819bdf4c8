"""Writes of allocation rule sets: create one, make it primary, edit the draft, publish it, start a draft
from any version. Every write is audited; the checks live in ``checks``."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.audit.services import audit_record, model_snapshot
from apps.owners.models import BudgetOwner
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

from ..models import RuleSet, RuleSetVersion
from .checks import RuleSetCheck, rule_set_check, rule_set_validate
from .document import Problem, document_sha256, empty_document, normalise

VERSION_FIELDS = ["rule_set_id", "number", "status", "true_up_mode", "true_up_central_owner_id", "sha256"]


class RuleProblemsError(ValidationError):
    """Problems that refuse a save or a publish, kept as (where, field, message) so a form can show each
    one on its field; ``messages`` reads "where: field: message"."""

    def __init__(self, problems: list[Problem]):
        super().__init__([f"{where}: {fld}: {message}" for where, fld, message in problems])
        self.problems = list(problems)


class StaleDraftError(ValidationError):
    """The draft changed after the caller read it (another save came first)."""


def _shape_error(problems: list[Problem]) -> RuleProblemsError:
    return RuleProblemsError(problems)


# --- writes -------------------------------------------------------------------------------------


def _apply_document(version: RuleSetVersion, doc: dict, organization: Organization) -> None:
    central = doc["true_up"]["central_owner"]
    owner = BudgetOwner.objects.filter(organization=organization, code=central).first() if central else None
    version.document = doc
    version.sha256 = document_sha256(doc)
    version.true_up_mode = doc["true_up"]["mode"]
    version.true_up_central_owner = owner


@tenant_scoped
@transaction.atomic
def rule_set_create(*, organization: Organization, actor, name: str, description: str = "") -> RuleSet:
    """A new rule set with an empty draft (version 1)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the rule set a name."})
    if RuleSet.objects.filter(organization=organization, name=name).exists():
        raise ValidationError({"name": f"There is already a rule set called {name}."})
    is_first = not RuleSet.objects.filter(organization=organization).exists()
    rule_set = RuleSet.objects.create(
        organization=organization, name=name, description=description, is_primary=is_first
    )
    draft = RuleSetVersion(organization=organization, rule_set=rule_set, number=1, created_by=_user(actor))
    _apply_document(draft, empty_document(), organization)
    draft.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="allocation.rule_set_created",
        target=rule_set,
        after={"name": name, "description": description, "draft": draft.number},
    )
    return rule_set


@tenant_scoped(via="rule_set")
@transaction.atomic
def rule_set_make_primary(*, rule_set: RuleSet, actor) -> RuleSet:
    """Make this the rule set that allocates the organisation's periods (the others stay as they are)."""
    organization = rule_set.organization
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    previous = RuleSet.objects.filter(organization=organization, is_primary=True).exclude(pk=rule_set.pk).first()
    if previous is None and rule_set.is_primary:
        return rule_set
    if previous is not None:
        previous.is_primary = False
        previous.save(update_fields=["is_primary"])
    rule_set.is_primary = True
    rule_set.save(update_fields=["is_primary"])
    audit_record(
        organization=organization,
        actor=actor,
        action="allocation.rule_set_made_primary",
        target=rule_set,
        before={"primary": previous.name if previous else None},
        after={"primary": rule_set.name},
    )
    return rule_set


def _user(actor):
    return actor if getattr(actor, "_meta", None) is not None else getattr(actor, "user", None)


def _locked_draft(draft: RuleSetVersion, expected_sha256: str | None = None) -> RuleSetVersion:
    locked = (
        RuleSetVersion.objects.select_for_update(of=("self",))
        .filter(organization_id=draft.organization_id, pk=draft.pk)
        .first()
    )
    if locked is None or locked.is_published:
        raise ValidationError(f"Version {draft.number} is published and cannot be changed; start a new draft.")
    if expected_sha256 is not None and locked.sha256 != expected_sha256:
        raise StaleDraftError(
            f"The draft of version {locked.number} changed after you opened it (someone else saved it). "
            "Reload it and make your change again."
        )
    return locked


@tenant_scoped(via="draft")
@transaction.atomic
def draft_update(
    *, draft: RuleSetVersion, document: dict, actor, expected_sha256: str | None = None
) -> tuple[RuleSetVersion, RuleSetCheck]:
    """Save a new document on the draft. Shape errors refuse it; meaning errors are returned, not fatal.

    With ``expected_sha256`` (the draft's fingerprint when the caller read it) a draft that has changed
    since is refused with ``StaleDraftError``, so an editor never overwrites a change it has not seen."""
    organization = draft.organization
    doc, shape = normalise(document)
    if shape:
        raise _shape_error(shape)
    draft = _locked_draft(draft, expected_sha256)
    before = model_snapshot(draft, VERSION_FIELDS)
    _apply_document(draft, doc, organization)
    draft.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="allocation.draft_updated",
        target=draft,
        before=before,
        after=model_snapshot(draft, VERSION_FIELDS),
    )
    return draft, rule_set_check(organization=organization, document=doc)


@tenant_scoped(via="draft")
@transaction.atomic
def draft_publish(*, draft: RuleSetVersion, actor, expected_sha256: str | None = None) -> RuleSetVersion:
    """Freeze the draft as the next published version, or refuse with every validation error.

    With ``expected_sha256`` only the exact rules the publisher reviewed are published."""
    organization = draft.organization
    draft = _locked_draft(draft, expected_sha256)
    errors = rule_set_validate(organization=organization, document=draft.document)
    if errors:
        raise _shape_error(errors)
    before = model_snapshot(draft, VERSION_FIELDS)
    draft.status = RuleSetVersion.Status.PUBLISHED
    draft.published_at = timezone.now()
    draft.published_by = _user(actor)
    draft.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="allocation.version_published",
        target=draft,
        before=before,
        after=model_snapshot(draft, [*VERSION_FIELDS, "published_at"]),
    )
    return draft


@tenant_scoped(via="version")
@transaction.atomic
def draft_from_version(*, version: RuleSetVersion, actor) -> RuleSetVersion:
    """Start the draft from any version's rules (replacing the current draft's rules if there is one)."""
    organization = version.organization
    RuleSet.objects.select_for_update().filter(organization=organization, pk=version.rule_set_id).first()
    draft = RuleSetVersion.objects.filter(rule_set_id=version.rule_set_id, status="draft").first()
    before = model_snapshot(draft, VERSION_FIELDS) if draft else None
    if draft is None:
        top = RuleSetVersion.objects.filter(rule_set_id=version.rule_set_id).aggregate(n=Max("number"))["n"]
        draft = RuleSetVersion(
            organization=organization,
            rule_set_id=version.rule_set_id,
            number=(top or 0) + 1,
            created_by=_user(actor),
        )
    _apply_document(draft, version.document, organization)
    draft.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="allocation.draft_started",
        target=draft,
        before=before,
        after={**model_snapshot(draft, VERSION_FIELDS), "from_version": version.number},
    )
    return draft
