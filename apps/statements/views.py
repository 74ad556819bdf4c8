"""Statement pages. Every member with a role that sees cost may open them: finance and viewers see every
statement, a budget owner those of their subtree (anything else is a 404, not a 403)."""

import itertools
from operator import attrgetter

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.core.csv import csv_response
from apps.core.money import nano_to_decimal
from apps.core.tables import Column, Table, nano_exact
from apps.periods.models import BillingPeriod
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from . import hooks, selectors
from .deadlines import dispute_last_day, dispute_window_open
from .forms import StatementFilterForm
from .models import Statement
from .pdf import statement_pdf

PAGE_SIZE = 50


def _visible_statement_or_404(request, pk: int) -> Statement:
    queryset = selectors.statements_visible(membership=request.membership).select_related(
        "billing_period", "supersedes", "owner"
    )
    return get_object_or_404(queryset, pk=pk)


def _superseded_by(statement: Statement) -> Statement | None:
    try:
        return statement.superseded_by
    except Statement.DoesNotExist:
        return None


def in_dispute_stage(request, statement: Statement) -> bool:
    """The current draft of a period in review, seen by someone who may dispute: its window is what decides."""
    period = statement.billing_period
    return (
        request.membership.has_perm(Perm.OPEN_DISPUTES)
        and statement.status == Statement.Status.DRAFT
        and period.state == BillingPeriod.State.IN_REVIEW
        and statement.version == period.version
    )


def can_dispute(request, statement: Statement) -> bool:
    """Budget owners dispute the current draft of a period in review, until its dispute window closes."""
    return in_dispute_stage(request, statement) and dispute_window_open(statement)


def _money_column(key: str, label: str) -> Column:
    return Column(
        key,
        label,
        value=lambda s, field=f"{key}_nano": nano_exact(getattr(s, field), s.currency),
        order=f"{key}_nano",
        css="num",
    )


def _superseded_version(statement: Statement) -> int | None:
    later = _superseded_by(statement)
    return later.version if later is not None else None


# The page shows a cost centre's code and name in one cell and the currency next to the total; the export
# gives each its own column. Amounts are exported exactly (nano-units to at least the minor unit).
STATEMENTS_TABLE = Table(
    "statements",
    (
        Column("month", "Month", value="period_label", order="period"),
        Column("owner", "Cost centre", value="owner_code", order="owner_code"),
        Column("owner_name", "Cost centre name", value="owner_name", in_page=False),
        Column("version", "Version", value="version", order="version"),
        Column("superseded_by", "Superseded by version", value=_superseded_version, in_page=False),
        Column("status", "Status", value="get_status_display", order="status"),
        _money_column("direct", "Direct"),
        _money_column("shared", "Shared"),
        _money_column("true_up", "True-up"),
        _money_column("adjustment", "Adjustments"),
        _money_column("total", "Total"),
        Column("currency", "Currency", value="currency", in_page=False),
        Column("issued", "Issued", value="issued_at", order="issued_at"),
        Column("reference", "Reference", value="reference", in_page=False),
        Column("actions", ""),
    ),
)


def _groups(table, rows) -> list[dict]:
    """By month (the default order, or sorted by month) the page shows one section per month; sorted by
    another column, one section in that order (a month per section would split it)."""
    column = table.sort_column
    if column is None or column.key == "month":
        return [
            {"month": month, "rows": list(group)}
            for month, group in itertools.groupby(rows, key=attrgetter("period_label"))
        ]
    if not rows:
        return []
    direction = "descending" if table.descending else "ascending"
    return [{"month": "", "sorted_by": f"{column.label.lower()} ({direction})", "rows": list(rows)}]


@org_perm_required(Perm.VIEW_ORG)
def statement_list(request, org_slug: str):
    table = STATEMENTS_TABLE.bind(request)
    form = StatementFilterForm(table.filter_data)
    filters = form.filters()
    rows = table.sort(selectors.statement_list(membership=request.membership, **filters))
    if response := table.export(rows):
        return response
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "statements/statement_list.html",
        {
            "form": form,
            "page": page,
            "query": table.query,
            "table": table,
            "groups": _groups(table, page.object_list),
            "periods": selectors.statement_periods(membership=request.membership)[:12],
            "period": filters["period"],
            "totals": selectors.period_totals(membership=request.membership, period=filters["period"])
            if filters["period"]
            else None,
            "sees_all": request.membership.has_perm(Perm.VIEW_ALL_COST),
        },
    )


def _detail_context(request, statement: Statement, *, group_small: bool = False) -> dict:
    """``group_small``: a section's small lines become one row that opens (the page, unless ``?group=0``);
    the printable view lists every line."""
    sections = selectors.statement_sections(
        statement=statement, drill_into_shared=request.membership.has_perm(Perm.VIEW_ALL_COST)
    )
    summary = selectors.statement_summary(statement=statement, sections=sections)
    if group_small:
        selectors.group_small_lines(statement=statement, sections=sections)
    return {
        "statement": statement,
        "sections": sections,
        "summary": summary,
        "grouping": group_small,
        "small_count": sum(len(section.small.lines) for section in sections if section.small),
        "small_share_pct": selectors.SMALL_LINE_SHARE * 100,
        "difference": selectors.statement_difference(statement=statement),
        "superseded_by": _superseded_by(statement),
        "period_state": statement.billing_period.get_state_display(),
        "can_dispute": can_dispute(request, statement),
        "dispute_stage": in_dispute_stage(request, statement),
        "dispute_last_day": dispute_last_day(statement) if statement.status == Statement.Status.DRAFT else None,
        "conversion": selectors.statement_conversion(statement=statement),
    }


@org_perm_required(Perm.VIEW_ORG)
def statement_detail(request, org_slug: str, pk: int):
    statement = _visible_statement_or_404(request, pk)
    context = _detail_context(request, statement, group_small=request.GET.get("group") != "0")
    context.update(hooks.statement_context(membership=request.membership, statement=statement))
    return render(request, "statements/statement_detail.html", context)


@org_perm_required(Perm.VIEW_ORG)
def statement_print(request, org_slug: str, pk: int):
    statement = _visible_statement_or_404(request, pk)
    return render(request, "statements/statement_print.html", _detail_context(request, statement))


def pdf_response(*, organization, statement: Statement) -> HttpResponse:
    """The statement's PDF as a download (the portal and the API answer the same file)."""
    response = HttpResponse(statement_pdf(statement=statement), content_type="application/pdf")
    filename = f"statement-{organization.slug}-{statement.reference}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@org_perm_required(Perm.VIEW_ORG)
def statement_pdf_download(request, org_slug: str, pk: int):
    """The PDF of a statement the member may see (a budget owner: their subtree's; anything else is a 404)."""
    return pdf_response(organization=request.organization, statement=_visible_statement_or_404(request, pk))


CSV_HEADER = [
    "reference",
    "period",
    "version",
    "status",
    "cost_centre",
    "cost_centre_name",
    "section",
    "position",
    "feature",
    "provider",
    "model",
    "cost_source",
    "rule",
    "method",
    "share",
    "currency",
    "amount",
    "amount_exact",
    "explanation",
    "exchange_rates",
]


@org_perm_required(Perm.VIEW_ORG)
def statement_export(request, org_slug: str, pk: int):
    statement = _visible_statement_or_404(request, pk)
    conversion = selectors.statement_conversion(statement=statement)
    rates = conversion.text if conversion else ""
    # "exchange_rates": how amounts of other currencies were converted into the statement's (empty: none were).
    # "amount" is footed (the lines add up to the statement total); "amount_exact" keeps all nine decimals.
    # Amounts and counts go in as numbers (a spreadsheet sums them); every text cell, whoever typed it
    # (tag values, feature and model names, explanations), is neutralised by the writer.
    rows = (
        [
            statement.reference,
            statement.period_label,
            statement.version,
            statement.status,
            statement.owner_code,
            statement.owner_name,
            line.section,
            line.position,
            line.feature,
            line.provider,
            line.model,
            line.cost_source,
            line.rule_name,
            line.method,
            line.share,
            statement.currency,
            statement.money(line.amount),
            nano_to_decimal(line.amount_nano),
            line.explanation,
            rates,
        ]
        for line in statement.lines.order_by("position")
    )
    return csv_response(
        filename=f"statement-{request.organization.slug}-{statement.reference}.csv", header=CSV_HEADER, rows=rows
    )
