"""Writes on statements: issuing a period's drafts when it enters review, rebuilding a draft after an
accepted dispute (and recording its adjustment pair), and making the drafts final when the period closes.

These run as period-transition hooks (registered in ``apps.py``), inside the transition's transaction and
with the period row locked. They write no audit event of their own: a transition writes exactly one
(``apps.periods.services``), and the statements themselves record when, by whom and from which run they
were issued. ``adjustment_pair_create`` is called by ``apps.disputes.services.dispute_accept``, which audits
the acceptance. Each draft issued and each statement made final emits its event (``events``).

A statement of version n+1 is a full restatement of the owner's charge for the period (the allocation run
of that version plus every accepted adjustment of the period), so the journal can reverse version n and
book n+1; nothing final is ever edited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.allocation.models import AllocationLine, AllocationRun
from apps.audit.services import actor_label_for
from apps.core.ceilings import require_in_range
from apps.core.money import footed_minor_units
from apps.owners.models import BudgetOwner
from apps.periods.models import BillingPeriod
from apps.tenancy.scoping import tenant_scoped
from apps.webhooks.models import EventType

from .events import statements_event_emit
from .models import SECTION_ORDER, Adjustment, Section, Statement, StatementLine, section_for

LINE_FIELDS = [
    "position",
    "section",
    "allocation_line_id",
    "adjustment_id",
    "feature",
    "provider",
    "model",
    "cost_source",
    "rule_name",
    "method",
    "share",
    "explanation",
    "match_tags",
    "amount_nano",
    "amount",
]
# Positions are moved out of the way before a rebuild renumbers them (the position is unique per statement).
_POSITION_SHIFT = 1_000_000


@dataclass(frozen=True)
class LineSpec:
    """What one statement line should say; the footed ``amount`` is added per statement."""

    source_key: str
    section: str
    amount_nano: int
    explanation: str
    allocation_line_id: int | None = None
    adjustment_id: int | None = None
    feature: str = ""
    provider: str = ""
    model: str = ""
    cost_source: str = ""
    rule_name: str = ""
    method: str = ""
    share: Decimal = Decimal(0)
    match_tags: dict | None = None

    def sort_key(self) -> tuple:
        source_id = self.allocation_line_id or self.adjustment_id or 0
        return (SECTION_ORDER.index(self.section), self.provider, self.model, self.cost_source, self.feature, source_id)


def _allocation_spec(line: AllocationLine) -> LineSpec:
    return LineSpec(
        source_key=f"alloc:{line.pk}",
        section=section_for(method=line.method, cost_source=line.cost_source),
        amount_nano=line.amount_nano,
        explanation=line.explanation,
        allocation_line_id=line.pk,
        feature=line.feature,
        provider=line.provider,
        model=line.model,
        cost_source=line.cost_source,
        rule_name=line.rule_name,
        method=line.method,
        share=line.share,
        match_tags=line.match_tags or {},
    )


def _adjustment_spec(adjustment: Adjustment) -> LineSpec:
    return LineSpec(
        source_key=f"adj:{adjustment.pk}",
        section=Section.ADJUSTMENT,
        amount_nano=adjustment.amount_nano,
        explanation=adjustment.description,
        adjustment_id=adjustment.pk,
        method=adjustment.kind,
        rule_name=f"Dispute #{adjustment.dispute_id}",
    )


def _write_lines(statement: Statement, specs: list[LineSpec]) -> None:
    """Make the statement's lines exactly ``specs``, footed, and set its totals. Lines whose source is
    still there keep their row (disputes point at them); the others are removed."""
    specs = sorted(specs, key=LineSpec.sort_key)
    sections: dict[str, int] = defaultdict(int)
    for spec in specs:
        sections[spec.section] += spec.amount_nano
    require_in_range(f"The lines of statement {statement.owner.code}", [*sections.values(), sum(sections.values())])
    footed = footed_minor_units({spec.source_key: spec.amount_nano for spec in specs}, statement.currency)
    existing = {line.source_key: line for line in StatementLine.objects.filter(statement=statement)}
    wanted = {spec.source_key for spec in specs}
    gone = [line.pk for key, line in existing.items() if key not in wanted]
    if gone:
        StatementLine.objects.filter(pk__in=gone).delete()
    if existing:
        StatementLine.objects.filter(statement=statement).update(position=F("position") + _POSITION_SHIFT)
    to_create, to_update = [], []
    for position, spec in enumerate(specs, start=1):
        values = {
            "position": position,
            "section": spec.section,
            "allocation_line_id": spec.allocation_line_id,
            "adjustment_id": spec.adjustment_id,
            "feature": spec.feature,
            "provider": spec.provider,
            "model": spec.model,
            "cost_source": spec.cost_source,
            "rule_name": spec.rule_name,
            "method": spec.method,
            "share": spec.share,
            "explanation": spec.explanation,
            "match_tags": spec.match_tags or {},
            "amount_nano": spec.amount_nano,
            "amount": footed[spec.source_key],
        }
        line = existing.get(spec.source_key)
        if line is None:
            to_create.append(
                StatementLine(
                    organization_id=statement.organization_id,
                    statement=statement,
                    source_key=spec.source_key,
                    **values,
                )
            )
        else:
            for name, value in values.items():
                setattr(line, name, value)
            to_update.append(line)
    if to_update:
        StatementLine.objects.bulk_update(to_update, LINE_FIELDS, batch_size=500)
    if to_create:
        StatementLine.objects.bulk_create(to_create, batch_size=1000)
    nano: dict[str, int] = defaultdict(int)
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for spec in specs:
        nano[spec.section] += spec.amount_nano
        amounts[spec.section] += footed[spec.source_key]
    for section in SECTION_ORDER:
        setattr(statement, f"{section}_nano", nano[section])
        setattr(statement, f"{section}_amount", amounts[section])
    statement.total_nano = sum(nano.values())
    statement.total_amount = sum(amounts.values(), Decimal(0))
    statement.line_count = len(specs)


def _owner_specs(*, run: AllocationRun, billing_period: BillingPeriod) -> dict[int, list[LineSpec]]:
    """Per owner: a line for every non-zero allocation line of the run, and one per adjustment of the period."""
    specs: dict[int, list[LineSpec]] = defaultdict(list)
    lines = AllocationLine.objects.filter(run=run, owner__isnull=False).exclude(amount_nano=0).order_by("position")
    for line in lines.iterator(chunk_size=2000):
        specs[line.owner_id].append(_allocation_spec(line))
    for adjustment in Adjustment.objects.filter(billing_period=billing_period).order_by("pk"):
        specs[adjustment.owner_id].append(_adjustment_spec(adjustment))
    return specs


def _previous_finals(billing_period: BillingPeriod) -> dict[int, Statement]:
    """Each owner's latest final statement of an earlier version of the period."""
    finals: dict[int, Statement] = {}
    rows = Statement.objects.filter(
        billing_period=billing_period, status=Statement.Status.FINAL, version__lt=billing_period.version
    ).order_by("owner_id", "-version")
    for statement in rows:
        finals.setdefault(statement.owner_id, statement)
    return finals


def _new_draft(
    *, billing_period: BillingPeriod, run: AllocationRun, owner: BudgetOwner, previous: Statement | None, actor
) -> Statement:
    return Statement.objects.create(
        organization_id=billing_period.organization_id,
        billing_period=billing_period,
        period=billing_period.period,
        owner=owner,
        owner_code=owner.code,
        owner_name=owner.name,
        version=billing_period.version,
        supersedes=previous,
        allocation_run=run,
        currency=run.currency,
        issued_at=timezone.now(),
        issued_by_label=actor_label_for(actor),
    )


def _draft_run(billing_period: BillingPeriod) -> AllocationRun | None:
    return (
        AllocationRun.objects.select_for_update()
        .filter(
            organization_id=billing_period.organization_id,
            period=billing_period.period,
            status=AllocationRun.Status.DRAFT,
        )
        .first()
    )


@tenant_scoped(via="billing_period")
def guard_period_has_draft_allocation(*, billing_period: BillingPeriod, actor=None) -> str | None:
    """Guard of ``submit_for_review``: statements are built from the period's draft allocation run."""
    exists = AllocationRun.objects.filter(
        organization_id=billing_period.organization_id,
        period=billing_period.period,
        status=AllocationRun.Status.DRAFT,
    ).exists()
    return None if exists else f"Allocate {billing_period.label} before sending it to review."


@tenant_scoped(via="billing_period")
@transaction.atomic
def statements_issue(*, billing_period: BillingPeriod, actor=None, reason: str = "") -> list[Statement]:
    """Effect of ``submit_for_review``: one draft statement of the period's current version per owner with
    a charge (and per owner whose earlier final statement this version supersedes, even at zero, so no
    charge silently disappears). The draft allocation run becomes *issued*."""
    run = _draft_run(billing_period)
    if run is None:
        raise ValidationError(guard_period_has_draft_allocation(billing_period=billing_period, actor=actor))
    issued = Statement.objects.filter(billing_period=billing_period, version=billing_period.version)
    if issued.exclude(status=Statement.Status.WITHDRAWN).exists():
        raise ValidationError(
            f"Statements of {billing_period.label} version {billing_period.version} are already issued."
        )
    run.status = AllocationRun.Status.ISSUED
    run.save(update_fields=["status"])
    specs = _owner_specs(run=run, billing_period=billing_period)
    previous = _previous_finals(billing_period)
    owner_ids = {owner_id for owner_id, rows in specs.items() if rows} | set(previous)
    owners = BudgetOwner.objects.filter(pk__in=owner_ids).order_by("code")
    statements = []
    for owner in owners:
        statement = _new_draft(
            billing_period=billing_period, run=run, owner=owner, previous=previous.get(owner.pk), actor=actor
        )
        _write_lines(statement, specs.get(owner.pk, []))
        statement.save()
        statements.append(statement)
    statements_event_emit(
        billing_period=billing_period, statements=statements, type=EventType.STATEMENT_ISSUED, actor=actor
    )
    if statements:
        from .notifications import statements_issued_notify

        ids = [statement.pk for statement in statements]
        organization = billing_period.organization
        transaction.on_commit(lambda: statements_issued_notify(organization=organization, ids=ids))
    return statements


@tenant_scoped
@transaction.atomic
def adjustment_pair_create(
    *,
    organization,
    dispute_id: int,
    billing_period: BillingPeriod,
    credit_owner: BudgetOwner,
    charge_owner: BudgetOwner,
    amount_nano: int,
    credit_description: str,
    charge_description: str,
) -> tuple[Adjustment, Adjustment]:
    """Record the adjustment pair of an accepted dispute: ``credit_owner`` is credited ``amount_nano`` and
    ``charge_owner`` charged it, so the pair nets to zero. The caller (``apps.disputes.services``) has checked
    the amount; the pair shows on the period's statements at the next (re)build."""
    credit = Adjustment.objects.create(
        organization=organization,
        dispute_id=dispute_id,
        billing_period=billing_period,
        owner=credit_owner,
        kind=Adjustment.Kind.CREDIT,
        amount_nano=-amount_nano,
        description=credit_description,
    )
    charge = Adjustment.objects.create(
        organization=organization,
        dispute_id=dispute_id,
        billing_period=billing_period,
        owner=charge_owner,
        kind=Adjustment.Kind.CHARGE,
        amount_nano=amount_nano,
        description=charge_description,
    )
    return credit, charge


@tenant_scoped(via="billing_period")
@transaction.atomic
def statements_rebuild(*, billing_period: BillingPeriod, owner_ids, actor=None) -> list[Statement]:
    """Rebuild the current version's draft statements of some owners (after a dispute was accepted), adding
    a draft for an owner who had none. Only while the period is in review; a final statement is never
    touched. Outside review the adjustments wait for the next version."""
    if billing_period.state != BillingPeriod.State.IN_REVIEW:
        return []
    current = Statement.objects.filter(
        organization_id=billing_period.organization_id, billing_period=billing_period, version=billing_period.version
    ).exclude(status=Statement.Status.WITHDRAWN)
    sample = current.select_related("allocation_run").first()
    if sample is None:
        return []
    run = sample.allocation_run
    specs = _owner_specs(run=run, billing_period=billing_period)
    previous = _previous_finals(billing_period)
    # The drafts are locked up front in primary-key order, as every writer locks rows of one table.
    list(current.select_for_update().filter(owner_id__in=set(owner_ids)).order_by("pk").values_list("pk", flat=True))
    rebuilt, new = [], []
    for owner in BudgetOwner.objects.filter(pk__in=set(owner_ids)).order_by("code"):
        statement = current.select_for_update().filter(owner=owner).first()
        if statement is None:
            statement = _new_draft(
                billing_period=billing_period, run=run, owner=owner, previous=previous.get(owner.pk), actor=actor
            )
            new.append(statement)
        elif statement.is_final:
            continue
        _write_lines(statement, specs.get(owner.pk, []))
        statement.rebuilt_at = timezone.now()
        statement.save()
        rebuilt.append(statement)
    statements_event_emit(billing_period=billing_period, statements=new, type=EventType.STATEMENT_ISSUED, actor=actor)
    return rebuilt


@tenant_scoped(via="billing_period")
@transaction.atomic
def statements_finalise(*, billing_period: BillingPeriod, actor=None, reason: str = "") -> int:
    """Effect of ``close``: the current version's drafts become final (and immutable from now on). One UPDATE,
    which ``auto_now`` does not see: it sets ``updated_at`` itself (the last change such a row ever gets)."""
    now = timezone.now()
    drafts = Statement.objects.filter(
        billing_period=billing_period, version=billing_period.version, status=Statement.Status.DRAFT
    )
    finalised = list(drafts.order_by("owner_code", "pk"))
    count = drafts.update(status=Statement.Status.FINAL, finalised_at=now, updated_at=now)
    statements_event_emit(
        billing_period=billing_period, statements=finalised, type=EventType.STATEMENT_FINALIZED, actor=actor
    )
    return count


@tenant_scoped(via="billing_period")
@transaction.atomic
def statements_withdraw(*, billing_period: BillingPeriod, actor=None, reason: str = "") -> list[Statement]:
    """Effect of ``send_back``: the current version's drafts are withdrawn, not deleted. They keep their lines,
    their allocation run (which stays issued: it explains them) and their disputes, marked withdrawn with the
    reason, so the audit trail and the owners' links still show what was issued and why it was taken back.
    The next submission issues new drafts of the same version from a new allocation. The owners are e-mailed
    after commit."""
    drafts = Statement.objects.filter(
        organization_id=billing_period.organization_id,
        billing_period=billing_period,
        version=billing_period.version,
        status=Statement.Status.DRAFT,
    )
    withdrawn = list(drafts.select_for_update().order_by("pk"))
    if not withdrawn:
        return []
    now = timezone.now()
    # ``supersedes`` is one-to-one: the resubmitted draft of the same version takes the link to the final
    # statement it replaces, so the withdrawn one lets go of it (its owner, period and version still say
    # which final it would have replaced: the owner's latest of an earlier version).
    drafts.filter(pk__in=[s.pk for s in withdrawn]).update(
        supersedes=None,
        status=Statement.Status.WITHDRAWN,
        withdrawn_at=now,
        withdrawn_by_label=actor_label_for(actor),
        withdrawn_reason=reason,
        updated_at=now,
    )
    for statement in withdrawn:
        statement.status, statement.withdrawn_at, statement.withdrawn_reason = Statement.Status.WITHDRAWN, now, reason
        statement.supersedes = None
    from .notifications import statements_withdrawn_notify

    ids = [statement.pk for statement in withdrawn]
    organization = billing_period.organization
    transaction.on_commit(lambda: statements_withdrawn_notify(organization=organization, ids=ids, reason=reason))
    return withdrawn
