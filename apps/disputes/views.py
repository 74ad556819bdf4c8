"""Dispute pages. Finance (``Perm.RESOLVE_DISPUTES``) works the queue: discusses, accepts, rejects. A budget
owner (``Perm.OPEN_DISPUTES``) disputes the draft statements of their subtree, follows the thread and sees
the outcome. Viewers read. Anything outside what a member sees is a 404."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error
from apps.core.money import nano_to_decimal, quantize_money
from apps.core.tables import Column, Table, nano_money
from apps.statements.deadlines import dispute_last_day
from apps.statements.models import StatementLine
from apps.statements.selectors import adjustments_for_dispute, statements_visible
from apps.statements.views import can_dispute, in_dispute_stage
from apps.tenancy.permissions import org_any_perm_required, org_perm_required
from apps.tenancy.roles import Perm

from . import selectors, services
from .forms import AcceptForm, CommentForm, DisputeOpenForm, QueueFilterForm, RejectForm
from .models import Dispute

PAGE_SIZE = 50
READ_PERMS = (Perm.RESOLVE_DISPUTES, Perm.OPEN_DISPUTES, Perm.VIEW_ALL_COST)


disputes_read_required = org_any_perm_required(*READ_PERMS, what="disputes")


def _line_text(d) -> str:
    if d.line is None:
        return "whole statement"
    return f"{d.line.position}: {d.line.provider} {d.line.model} {d.line.cost_source}"


def _outcome_text(d) -> str:
    if d.status == Dispute.Status.ACCEPTED:
        return f"{nano_money(d.adjusted_nano, d.currency)} credited, charged to {d.recharge_owner.code}"
    if d.status == Dispute.Status.REJECTED:
        return d.resolution_note
    return "waiting for finance"


DISPUTES_TABLE = Table(
    "disputes",
    (
        Column("dispute", "Dispute", value="pk", order="id"),
        Column("comments", "Comments", value="comment_count", order="comment_count", in_page=False),
        Column("statement", "Statement", value="statement.reference", order="statement__reference"),
        Column("line", "Line", value=_line_text, order="line__position"),
        Column(
            "disputed",
            "Disputed",
            value=lambda d: nano_money(d.amount_nano, d.currency),
            order="amount_nano",
            css="num",
        ),
        Column("currency", "Currency", value="currency", in_page=False),
        Column("reason", "Reason", value="reason", order="reason"),
        Column("opened", "Opened", value=lambda d: d.opened_at.date(), order="opened_at"),
        Column(
            "opened_by",
            "Opened by",
            value=lambda d: d.opened_by.get_full_name() or d.opened_by.username,
            order="opened_by__username",
            in_page=False,
        ),
        Column("status", "Status", value="get_status_display", order="status"),
        Column("outcome", "Outcome", value=_outcome_text),
    ),
)


def _visible_dispute_or_404(request, pk: int) -> Dispute:
    queryset = selectors.disputes_visible(membership=request.membership).select_related(
        "statement", "line", "owner", "opened_by", "resolved_by", "recharge_owner", "billing_period"
    )
    return get_object_or_404(queryset, pk=pk)


def _may_comment(request, dispute: Dispute) -> bool:
    membership = request.membership
    return dispute.is_open and (membership.has_perm(Perm.RESOLVE_DISPUTES) or membership.has_perm(Perm.OPEN_DISPUTES))


@disputes_read_required
def dispute_list(request, org_slug: str):
    resolver = request.membership.has_perm(Perm.RESOLVE_DISPUTES)
    default_status = Dispute.Status.OPEN if resolver else ""
    table = DISPUTES_TABLE.bind(request)
    form = QueueFilterForm(table.filter_data, initial={"status": default_status})
    filters = form.filters(default_status=default_status)
    rows = table.sort(selectors.dispute_queue(membership=request.membership, **filters))
    if response := table.export(rows):
        return response
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "disputes/dispute_list.html",
        {
            "form": form,
            "status": filters["status"],
            "page": page,
            "query": table.query,
            "table": table,
            "counts": selectors.dispute_status_counts(membership=request.membership),
            "resolver": resolver,
        },
    )


def _refused(request, form, exc: ValidationError, dispute: Dispute):
    """A field problem goes back on the form; a refusal of the whole action (the dispute was resolved
    meanwhile, its thread is closed) is a message on the dispute's page."""
    if hasattr(exc, "error_dict"):
        apply_validation_error(form, exc)
        return None
    messages.error(request, " ".join(exc.messages))
    return redirect("disputes:detail", org_slug=request.organization.slug, pk=dispute.pk)


def _already_resolved(request, dispute: Dispute):
    if dispute.is_open:
        return None
    messages.error(request, f"Dispute #{dispute.pk} is already {dispute.get_status_display().lower()}.")
    return redirect("disputes:detail", org_slug=request.organization.slug, pk=dispute.pk)


def _detail(request, dispute: Dispute, *, status: int = 200, **forms):
    resolver = request.membership.has_perm(Perm.RESOLVE_DISPUTES) and dispute.is_open
    context = {
        "dispute": dispute,
        "statement": dispute.statement,
        "comments": selectors.dispute_comments(dispute=dispute).select_related("author"),
        "adjustments": adjustments_for_dispute(organization=request.organization, dispute_id=dispute.pk),
        "may_comment": _may_comment(request, dispute),
        "resolver": resolver,
        "comment_form": forms.get("comment_form") or CommentForm(),
    }
    if resolver:
        candidates = selectors.recharge_candidates(dispute=dispute)
        context["accept_form"] = forms.get("accept_form") or AcceptForm(
            candidates=candidates, initial={"amount": dispute.amount.normalize()}
        )
        context["reject_form"] = forms.get("reject_form") or RejectForm()
    return render(request, "disputes/dispute_detail.html", context, status=status)


@disputes_read_required
def dispute_detail(request, org_slug: str, pk: int):
    return _detail(request, _visible_dispute_or_404(request, pk))


@org_perm_required(Perm.OPEN_DISPUTES)
def dispute_create(request, org_slug: str, pk: int):
    statement = get_object_or_404(
        statements_visible(membership=request.membership).select_related("billing_period"), pk=pk
    )
    if not can_dispute(request, statement):
        if in_dispute_stage(request, statement):  # in review, but its window has closed
            messages.error(request, services.dispute_window_closed_message(statement=statement))
        else:
            messages.error(request, f"Statement {statement.reference} is not in review: it can no longer be disputed.")
        return redirect("statements:detail", org_slug=org_slug, pk=statement.pk)
    line_id = request.POST.get("line") or request.GET.get("line")
    line = None
    if line_id:
        if not str(line_id).isdigit():
            raise Http404("No such line.")
        line = get_object_or_404(StatementLine, pk=int(line_id), statement=statement)
    disputable = nano_to_decimal(selectors.disputable_nano(statement=statement, line=line))
    initial = {
        "line": line.pk if line else None,
        "amount": quantize_money(disputable, statement.currency) if disputable > 0 else None,
        "submission": uuid.uuid4(),
    }
    form = DisputeOpenForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = services.dispute_open(
                statement=statement,
                line=line,
                actor=request.user,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                evidence_url=form.cleaned_data["evidence_url"],
                submission_key=form.cleaned_data["submission"],
            )
        except services.DuplicateSubmission as duplicate:
            messages.info(request, duplicate.message)
            return redirect("disputes:detail", org_slug=org_slug, pk=duplicate.dispute.pk)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Dispute #{dispute.pk} opened: finance has been told.")
            return redirect("disputes:detail", org_slug=org_slug, pk=dispute.pk)
    return render(
        request,
        "disputes/dispute_form.html",
        {
            "form": form,
            "statement": statement,
            "line": line,
            "disputable": disputable,
            "dispute_last_day": dispute_last_day(statement),
        },
    )


@require_POST
@disputes_read_required
def dispute_comment(request, org_slug: str, pk: int):
    dispute = _visible_dispute_or_404(request, pk)
    if not (request.membership.has_perm(Perm.RESOLVE_DISPUTES) or request.membership.has_perm(Perm.OPEN_DISPUTES)):
        raise PermissionDenied("Your role cannot comment on disputes.")
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.dispute_comment_add(dispute=dispute, actor=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            if (response := _refused(request, form, exc, dispute)) is not None:
                return response
        else:
            messages.success(request, "Comment added.")
            return redirect("disputes:detail", org_slug=org_slug, pk=dispute.pk)
    return _detail(request, dispute, status=400, comment_form=form)


@require_POST
@org_perm_required(Perm.RESOLVE_DISPUTES)
def dispute_accept(request, org_slug: str, pk: int):
    dispute = _visible_dispute_or_404(request, pk)
    if (response := _already_resolved(request, dispute)) is not None:
        return response
    form = AcceptForm(request.POST, candidates=selectors.recharge_candidates(dispute=dispute))
    if form.is_valid():
        try:
            dispute = services.dispute_accept(
                dispute=dispute,
                actor=request.user,
                amount=form.cleaned_data["amount"],
                recharge_owner=form.cleaned_data["recharge_owner"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            if (response := _refused(request, form, exc, dispute)) is not None:
                return response
        else:
            messages.success(
                request,
                f"Dispute #{dispute.pk} accepted: {dispute.owner.code} is credited and "
                f"{dispute.recharge_owner.code} charged instead.",
            )
            return redirect("disputes:detail", org_slug=org_slug, pk=dispute.pk)
    return _detail(request, dispute, status=400, accept_form=form)


@require_POST
@org_perm_required(Perm.RESOLVE_DISPUTES)
def dispute_reject(request, org_slug: str, pk: int):
    dispute = _visible_dispute_or_404(request, pk)
    if (response := _already_resolved(request, dispute)) is not None:
        return response
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            dispute = services.dispute_reject(dispute=dispute, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            if (response := _refused(request, form, exc, dispute)) is not None:
                return response
        else:
            messages.success(request, f"Dispute #{dispute.pk} rejected.")
            return redirect("disputes:detail", org_slug=org_slug, pk=dispute.pk)
    return _detail(request, dispute, status=400, reject_form=form)
