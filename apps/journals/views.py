"""The journal pages: a period's journal entries with their posting status (who reads periods reads it),
and the recovery-accounts settings (MANAGE_LEDGER: org admins and finance admins; audited writes)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.calendar import parse_period
from apps.core.forms import apply_validation_error
from apps.periods.models import BillingPeriod
from apps.tenancy.permissions import org_any_perm_required, org_perm_required, require_org_perm
from apps.tenancy.roles import Perm

from . import selectors, services
from .common import with_lines
from .forms import RecoveryAccountForm
from .models import RecoveryAccount

ENTRIES_PER_PAGE = 25

journal_read_required = org_any_perm_required(Perm.PREPARE_PERIOD, Perm.VIEW_ALL_COST, what="journal entries")
ledger_read_required = org_any_perm_required(Perm.MANAGE_LEDGER, Perm.VIEW_ALL_COST, what="recovery accounts")


@journal_read_required
def period_journal(request, org_slug: str, period: str):
    organization = request.organization
    month = parse_period(period)
    billing_period = BillingPeriod.objects.filter(organization=organization, period=month).first()
    if billing_period is None:
        raise Http404(f"{period} has no billing period in {organization.name}.")
    booking = services.journal_book_if_due(organization=organization, billing_period=billing_period)
    entries = with_lines(selectors.period_entries(organization=organization, billing_period=billing_period))
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "journals/period_journal.html",
        {
            "billing_period": billing_period,
            "period_label": billing_period.label,
            "page": page,
            "counts": selectors.posting_counts(organization=organization, billing_period=billing_period),
            "missing": selectors.missing_accounts(organization=organization, billing_period=billing_period),
            "just_booked": booking is not None and booking.booked,
            "may_manage_ledger": request.membership.has_perm(Perm.MANAGE_LEDGER),
        },
    )


def _accounts_page(request, *, form=None, status=200):
    return render(
        request,
        "journals/recovery_accounts.html",
        {
            "accounts": list(RecoveryAccount.objects.filter(organization=request.organization)),
            "form": form or RecoveryAccountForm(),
            "may_manage": request.membership.has_perm(Perm.MANAGE_LEDGER),
        },
        status=status,
    )


@ledger_read_required
def recovery_accounts(request, org_slug: str):
    if request.method != "POST":
        return _accounts_page(request)
    require_org_perm(request, Perm.MANAGE_LEDGER)
    form = RecoveryAccountForm(request.POST)
    if form.is_valid():
        try:
            account = services.recovery_account_create(
                organization=request.organization, data=form.cleaned_data, actor=request.user
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Recovery account {account} added.")
            return redirect("journals:recovery_accounts", org_slug=org_slug)
    return _accounts_page(request, form=form, status=400)


@org_perm_required(Perm.MANAGE_LEDGER)
def recovery_account_edit(request, org_slug: str, pk: int):
    account = get_object_or_404(RecoveryAccount, organization=request.organization, pk=pk)
    initial = {"company_code": account.company_code, "account": account.account, "description": account.description}
    form = RecoveryAccountForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.recovery_account_update(account=account, data=form.cleaned_data, actor=request.user)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Recovery account {account} saved.")
            return redirect("journals:recovery_accounts", org_slug=org_slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "journals/recovery_account_form.html", {"form": form, "account": account}, status=status)


@require_POST
@org_perm_required(Perm.MANAGE_LEDGER)
def recovery_account_delete(request, org_slug: str, pk: int):
    account = get_object_or_404(RecoveryAccount, organization=request.organization, pk=pk)
    services.recovery_account_delete(account=account, actor=request.user)
    messages.success(request, f"Recovery account {account} removed.")
    return redirect("journals:recovery_accounts", org_slug=org_slug)
