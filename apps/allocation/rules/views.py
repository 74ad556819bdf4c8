"""Allocation rules pages: rule sets, versions, the draft editor, compare and downloads.

Reading needs VIEW_ALL_COST (finance, org admins, viewers; not budget owners). Creating rule sets and
editing drafts needs PREPARE_PERIOD; publishing and making a rule set primary need APPROVE_PERIOD.

Every change of a draft saves the whole document through ``services.draft_update`` (validation and
audit in one place). Editor POSTs carry the draft's fingerprint (``revision``) as the page showed
it, so a change made meanwhile by someone else is never overwritten: the request is refused with 409.
A published version is immutable: its editor routes answer 409 with a message.
"""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from apps.core.forms import apply_validation_error
from apps.core.tables import Column, Table
from apps.tenancy.permissions import org_perm_required
from apps.tenancy.roles import Perm

from ..models import RuleSet, RuleSetVersion
from . import selectors
from .checks import rule_set_check
from .compare import versions_compare
from .describe import describe_markdown, rule_sentence, true_up_sentence
from .document import KINDS
from .editor import (
    diff_in_words,
    document_with_rule,
    document_with_rule_moved,
    document_with_true_up,
    document_without_rule,
    problems_in_words,
)
from .forms import KIND_LABELS, CompareForm, RuleEditor, RuleSetForm, RulesYamlForm, TrueUpForm
from .io import RulesFileError, export_json, export_yaml, parse_text
from .services import (
    RuleProblemsError,
    StaleDraftError,
    draft_from_version,
    draft_publish,
    draft_update,
    rule_set_create,
    rule_set_make_primary,
)

PAGE_SIZE = 50
DOWNLOADS = {
    "md": ("text/markdown; charset=utf-8", lambda version: describe_markdown(version)),
    "yaml": ("application/yaml; charset=utf-8", export_yaml),
    "json": ("application/json; charset=utf-8", export_json),
}

view_rules_required = org_perm_required(Perm.VIEW_ALL_COST)
edit_rules_required = org_perm_required(Perm.PREPARE_PERIOD)
approve_rules_required = org_perm_required(Perm.APPROVE_PERIOD)


# --- helpers ------------------------------------------------------------------------------------


def _version_or_404(pk: int, number: int) -> RuleSetVersion:
    versions = RuleSetVersion.objects.select_related("rule_set", "published_by", "created_by", "organization")
    return get_object_or_404(versions, rule_set_id=pk, number=number)


def _version_url(version: RuleSetVersion, org_slug: str, anchor: str = "") -> str:
    url = reverse("rules:version", kwargs={"org_slug": org_slug, "pk": version.rule_set_id, "number": version.number})
    return f"{url}#{anchor}" if anchor else url


def _refused(request, version: RuleSetVersion, message: str, *, status: int = 409):
    return render(request, "allocation/rules/refused.html", {"version": version, "message": message}, status=status)


def _published_message(version: RuleSetVersion) -> str:
    return (
        f"Version {version.number} of {version.rule_set.name} is published and cannot be changed. "
        "Start a new draft from it to make changes."
    )


def draft_required(view):
    """Resolve ``pk``/``number`` to the rule set's draft; a published version answers 409."""

    @wraps(view)
    def wrapped(request, org_slug: str, pk: int, number: int, **kwargs):
        version = _version_or_404(pk, number)
        if version.is_published:
            return _refused(request, version, _published_message(version))
        if request.method == "POST" and request.POST.get("revision") != version.sha256:
            return _refused(request, version, _stale_message(version))
        return view(request, org_slug, version, **kwargs)

    return wrapped


def _stale_message(version: RuleSetVersion) -> str:
    return (
        f"The draft of version {version.number} changed after you opened this page (someone else saved it). "
        "Open the draft again and make your change on the current rules."
    )


def _rule_index(version: RuleSetVersion, position: int) -> int:
    """The 0-based index of the rule at 1-based ``position``, or 404."""
    if not 1 <= position <= len(version.document["rules"]):
        raise Http404(f"Version {version.number} has no rule {position}.")
    return position - 1


def _save(request, version: RuleSetVersion, document: dict, *, done: str):
    """Save the whole document on the draft; report what is left to fix. Returns the check, or raises."""
    saved, check = draft_update(
        draft=version, document=document, actor=request.user, expected_sha256=request.POST.get("revision")
    )
    if check.errors:
        count = len(check.errors)
        messages.warning(
            request, f"{done} The draft has {count} problem{'s' if count != 1 else ''} to fix before publishing."
        )
    else:
        messages.success(request, f"{done} The draft is ready to publish.")
    return saved


# --- rule sets ----------------------------------------------------------------------------------


def _draft_text(row) -> str:
    if row.draft is None:
        return "no draft"
    if row.draft_check is not None and row.draft_check.errors:
        count = len(row.draft_check.errors)
        return f"v{row.draft.number} draft: {count} error{'s' if count != 1 else ''}"
    if not row.draft.document.get("rules"):
        return f"v{row.draft.number} draft: no rules yet"
    return f"v{row.draft.number} draft: ready to publish"


# The versions and draft checks are read for the rule sets of one page, so the list sorts by its own columns.
RULE_SETS_TABLE = Table(
    "rule-sets",
    (
        Column("name", "Rule set", value="rule_set.name", order="name"),
        Column("primary", "Primary", value=lambda r: "primary" if r.rule_set.is_primary else "", in_page=False),
        Column(
            "published",
            "Latest published version",
            value=lambda r: r.latest_published.number if r.latest_published else None,
        ),
        Column(
            "published_at",
            "Published",
            value=lambda r: r.latest_published.published_at if r.latest_published else None,
            in_page=False,
        ),
        Column(
            "published_by",
            "Published by",
            value=lambda r: r.latest_published.published_by.get_username()
            if r.latest_published and r.latest_published.published_by
            else None,
            in_page=False,
        ),
        Column("draft", "Draft", value=_draft_text),
        Column("description", "Description", value="rule_set.description", order="description"),
    ),
    note="Rule sets sort by name or description: versions and drafts are read a page at a time.",
)


@view_rules_required
def rule_set_list(request, org_slug: str):
    table = RULE_SETS_TABLE.bind(request)
    rule_sets = table.sort(selectors.rule_sets(organization=request.organization))
    if table.wants_export:
        limited = list(rule_sets[: table.table.cap + 1])
        return table.export(selectors.rule_set_rows(organization=request.organization, rule_sets_page=limited))
    page = Paginator(rule_sets, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.rule_set_rows(organization=request.organization, rule_sets_page=page)
    return render(
        request,
        "allocation/rules/rule_set_list.html",
        {"page": page, "rows": rows, "query": table.query, "table": table},
    )


@edit_rules_required
def rule_set_create_view(request, org_slug: str):
    form = RuleSetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule_set = rule_set_create(
                organization=request.organization,
                actor=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Rule set {rule_set.name} created with an empty draft (version 1).")
            return redirect("rules:version", org_slug=org_slug, pk=rule_set.pk, number=1)
    return render(request, "allocation/rules/rule_set_form.html", {"form": form})


@view_rules_required
def rule_set_detail(request, org_slug: str, pk: int):
    rule_set = get_object_or_404(RuleSet, pk=pk)
    versions = Paginator(selectors.versions(rule_set=rule_set), PAGE_SIZE).get_page(request.GET.get("page"))
    draft = selectors.draft_of(rule_set=rule_set)
    numbers = list(selectors.versions(rule_set=rule_set).values_list("number", "status"))
    return render(
        request,
        "allocation/rules/rule_set_detail.html",
        {
            "rule_set": rule_set,
            "page": versions,
            "draft": draft,
            "compare_form": _compare_form(numbers, None),
            "version_count": len(numbers),
        },
    )


@require_POST
@approve_rules_required
def rule_set_make_primary_view(request, org_slug: str, pk: int):
    rule_set = get_object_or_404(RuleSet, pk=pk)
    rule_set_make_primary(rule_set=rule_set, actor=request.user)
    if selectors.versions(rule_set=rule_set).filter(status=RuleSetVersion.Status.PUBLISHED).exists():
        messages.success(request, f"{rule_set.name} is now the primary rule set: new allocations use it.")
    else:
        messages.warning(
            request,
            f"{rule_set.name} is now the primary rule set. It has no published version yet, so periods cannot "
            "be allocated until one is published.",
        )
    return redirect("rules:detail", org_slug=org_slug, pk=rule_set.pk)


def _compare_form(numbers: list[tuple[int, str]], data) -> CompareForm:
    """Default: the latest two versions (the draft against the latest published one, when there is a draft)."""
    initial = {}
    if len(numbers) >= 2:
        initial = {"a": numbers[1][0], "b": numbers[0][0]}
    labels = [(n, f"v{n} ({status})") for n, status in numbers]
    return CompareForm(data, numbers=labels, initial=initial)


@view_rules_required
def compare(request, org_slug: str, pk: int):
    rule_set = get_object_or_404(RuleSet, pk=pk)
    numbers = list(selectors.versions(rule_set=rule_set).values_list("number", "status"))
    data = request.GET if "a" in request.GET or "b" in request.GET else None
    if data is None and len(numbers) >= 2:
        data = {"a": numbers[1][0], "b": numbers[0][0]}
    form = _compare_form(numbers, data)
    context = {"rule_set": rule_set, "form": form, "version_count": len(numbers)}
    if data is not None and form.is_valid():
        version_a = _version_or_404(rule_set.pk, form.cleaned_data["a"])
        version_b = _version_or_404(rule_set.pk, form.cleaned_data["b"])
        names = selectors.owner_names(organization=request.organization)
        context.update(
            version_a=version_a,
            version_b=version_b,
            diff=diff_in_words(versions_compare(version_a, version_b), version_a.document, version_b.document, names),
        )
    return render(request, "allocation/rules/compare.html", context)


# --- versions -----------------------------------------------------------------------------------


@view_rules_required
def version_detail(request, org_slug: str, pk: int, number: int):
    version = _version_or_404(pk, number)
    return _version_page(request, version)


def _version_page(request, version: RuleSetVersion, *, publish_problems=None, status: int = 200):
    organization = request.organization
    names = selectors.owner_names(organization=organization)
    document = version.document
    check = None if version.is_published else rule_set_check(organization=organization, document=document)
    errors = problems_in_words(check.errors, document) if check else []
    warnings = problems_in_words(check.warnings, document) if check else []
    rules = [
        {
            "position": index + 1,
            "rule": rule,
            "kind_label": KIND_LABELS[rule["kind"]],
            "sentence": rule_sentence(rule, names),
            "errors": [p for p in errors if p.rule_index == index],
            "warnings": [p for p in warnings if p.rule_index == index],
        }
        for index, rule in enumerate(document["rules"])
    ]
    membership = request.membership
    context = {
        "version": version,
        "rule_set": version.rule_set,
        "rules": rules,
        "true_up_sentence": true_up_sentence(document["true_up"], names),
        "check": check,
        "errors": errors,
        "warnings": warnings,
        "other_errors": [p for p in errors if p.rule_index is None],
        "other_warnings": [p for p in warnings if p.rule_index is None],
        "draft": None if not version.is_published else selectors.draft_of(rule_set=version.rule_set),
        "can_edit": not version.is_published and membership.has_perm(Perm.PREPARE_PERIOD),
        "can_start_draft": version.is_published and membership.has_perm(Perm.PREPARE_PERIOD),
        "can_publish": not version.is_published and membership.has_perm(Perm.APPROVE_PERIOD),
        "kinds": [(kind, KIND_LABELS[kind]) for kind in KINDS],
        "publish_problems": publish_problems,
        "same_as": None
        if version.is_published
        else selectors.versions(rule_set=version.rule_set).filter(status="published", sha256=version.sha256).first(),
    }
    return render(request, "allocation/rules/version.html", context, status=status)


@view_rules_required
def version_download(request, org_slug: str, pk: int, number: int, fmt: str):
    if fmt not in DOWNLOADS:
        raise Http404("Download the model as md, yaml or json.")
    version = _version_or_404(pk, number)
    content_type, render_text = DOWNLOADS[fmt]
    response = HttpResponse(render_text(version), content_type=content_type)
    name = f"{request.organization.slug}-{slugify(version.rule_set.name) or 'rules'}-v{version.number}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@edit_rules_required
def draft_start(request, org_slug: str, pk: int, number: int):
    version = _version_or_404(pk, number)
    if not version.is_published:
        return _refused(request, version, f"Version {version.number} is the draft already; edit it directly.")
    draft = draft_from_version(version=version, actor=request.user)
    messages.success(
        request, f"Draft version {draft.number} now holds the rules of version {version.number}; edit it below."
    )
    return redirect(_version_url(draft, org_slug))


@require_POST
@approve_rules_required
@draft_required
def publish(request, org_slug: str, version: RuleSetVersion):
    try:
        published = draft_publish(draft=version, actor=request.user, expected_sha256=request.POST.get("revision"))
    except StaleDraftError as exc:
        return _refused(request, version, " ".join(exc.messages))
    except RuleProblemsError as exc:
        problems = problems_in_words(exc.problems, version.document)
        return _version_page(request, version, publish_problems=problems, status=409)
    rule_set = published.rule_set
    effect = (
        "New allocations of the organisation's periods use it."
        if rule_set.is_primary
        else f"{rule_set.name} is not the primary rule set, so it allocates nothing until it is made primary."
    )
    messages.success(request, f"Published version {published.number} of {rule_set.name}. {effect}")
    return redirect(_version_url(published, org_slug))


# --- the draft editor ---------------------------------------------------------------------------


def _rule_form_page(request, version: RuleSetVersion, editor: RuleEditor, *, position: int | None, status=200):
    index = (position or len(version.document["rules"]) + 1) - 1
    problems = []
    if position is not None:
        check = rule_set_check(organization=request.organization, document=version.document)
        problems = problems_in_words(check.errors + check.warnings, version.document)
        problems = [problem for problem in problems if problem.rule_index == index]
    return render(
        request,
        "allocation/rules/rule_form.html",
        {
            "version": version,
            "rule_set": version.rule_set,
            "editor": editor,
            "kind_label": KIND_LABELS[editor.kind],
            "position": position,
            "stored_problems": problems,
        },
        status=status,
    )


def _save_rule(request, org_slug: str, version: RuleSetVersion, editor: RuleEditor, index: int, position):
    if not editor.is_valid():
        return _rule_form_page(request, version, editor, position=position)
    rule = editor.rule()
    try:
        _save(
            request,
            version,
            document_with_rule(version.document, index, rule),
            done=f"Saved rule {index + 1} “{rule['name']}”.",
        )
    except StaleDraftError as exc:
        return _refused(request, version, " ".join(exc.messages))
    except RuleProblemsError as exc:
        editor.show_problems(exc.problems, index)
        return _rule_form_page(request, version, editor, position=position)
    return redirect(_version_url(version, org_slug, anchor=f"rule-{index + 1}"))


@edit_rules_required
@draft_required
def rule_add(request, org_slug: str, version: RuleSetVersion, kind: str):
    if kind not in KINDS:
        raise Http404("A rule is direct, tag_map or shared_pool.")
    editor = RuleEditor(kind, organization=request.organization, data=request.POST or None)
    if request.method == "POST":
        return _save_rule(request, org_slug, version, editor, len(version.document["rules"]), None)
    return _rule_form_page(request, version, editor, position=None)


@edit_rules_required
@draft_required
def rule_edit(request, org_slug: str, version: RuleSetVersion, position: int):
    index = _rule_index(version, position)
    rule = version.document["rules"][index]
    editor = RuleEditor(rule["kind"], organization=request.organization, data=request.POST or None, rule=rule)
    if request.method == "POST":
        return _save_rule(request, org_slug, version, editor, index, position)
    return _rule_form_page(request, version, editor, position=position)


@require_POST
@edit_rules_required
@draft_required
def rule_move(request, org_slug: str, version: RuleSetVersion, position: int):
    index = _rule_index(version, position)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction"))
    if offset is None:
        return _refused(request, version, "Move a rule up or down.", status=400)
    rules = version.document["rules"]
    name = rules[index]["name"]
    target = index + offset
    if not 0 <= target < len(rules):
        messages.info(request, f"“{name}” is already the {'first' if offset < 0 else 'last'} rule.")
        return redirect(_version_url(version, org_slug, anchor=f"rule-{position}"))
    try:
        _save(
            request,
            version,
            document_with_rule_moved(version.document, index, offset),
            done=f"Moved “{name}” to position {target + 1}.",
        )
    except StaleDraftError as exc:
        return _refused(request, version, " ".join(exc.messages))
    return redirect(_version_url(version, org_slug, anchor=f"rule-{target + 1}"))


@require_POST
@edit_rules_required
@draft_required
def rule_delete(request, org_slug: str, version: RuleSetVersion, position: int):
    index = _rule_index(version, position)
    name = version.document["rules"][index]["name"]
    try:
        _save(request, version, document_without_rule(version.document, index), done=f"Deleted rule “{name}”.")
    except StaleDraftError as exc:
        return _refused(request, version, " ".join(exc.messages))
    return redirect(_version_url(version, org_slug, anchor="rules"))


@edit_rules_required
@draft_required
def true_up_edit(request, org_slug: str, version: RuleSetVersion):
    stored = version.document["true_up"]
    form = TrueUpForm(
        request.POST or None,
        organization=request.organization,
        keep={stored["central_owner"]} - {None},
        initial={"mode": stored["mode"], "central_owner": stored["central_owner"] or ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            _save(
                request,
                version,
                document_with_true_up(version.document, form.true_up()),
                done="Saved the invoice true-up policy.",
            )
        except StaleDraftError as exc:
            return _refused(request, version, " ".join(exc.messages))
        except RuleProblemsError as exc:
            for problem in problems_in_words(exc.problems, version.document):
                form.add_error(None, problem.text)
        else:
            return redirect(_version_url(version, org_slug, anchor="true-up"))
    return render(
        request,
        "allocation/rules/true_up_form.html",
        {"version": version, "rule_set": version.rule_set, "form": form},
    )


@edit_rules_required
@draft_required
def yaml_edit(request, org_slug: str, version: RuleSetVersion):
    form = RulesYamlForm(request.POST or None, initial={"text": export_yaml(version)})
    problems = []
    if request.method == "POST" and form.is_valid():
        raw = None
        try:
            raw = parse_text(form.cleaned_data["text"])
            _save(request, version, raw, done="Saved the rules from YAML.")
        except StaleDraftError as exc:
            return _refused(request, version, " ".join(exc.messages))
        except (RulesFileError, RuleProblemsError) as exc:
            problems = problems_in_words(exc.problems, raw if isinstance(raw, dict) else None)
        else:
            return redirect(_version_url(version, org_slug, anchor="rules"))
    return render(
        request,
        "allocation/rules/yaml_form.html",
        {"version": version, "rule_set": version.rule_set, "form": form, "problems": problems},
    )
