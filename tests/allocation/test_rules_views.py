"""The rules pages: rule sets, versions, the draft editor (every action asserted on the stored
document), publish, compare, downloads, and who may do what."""

import json

import pytest
import yaml
from django import forms
from django.urls import reverse
from django_scopes import scope

from apps.allocation.models import RuleSet, RuleSetVersion
from apps.allocation.rules.describe import describe_markdown
from apps.allocation.rules.editor import field_words, problems_in_words
from apps.allocation.rules.io import export_json, export_yaml
from apps.allocation.rules.services import draft_from_version, draft_publish, draft_update
from apps.audit.models import AuditEvent
from apps.tenancy.roles import Role
from tests.factories.allocation import allocation_catalog, rule_set_with_draft

pytestmark = pytest.mark.django_db

SEARCH = {"field": "tag:team", "op": "equals", "value": "search"}
GATEWAY = {"field": "tag:feature", "op": "equals", "value": "gateway-healthcheck"}
SEARCH_TEAM = {"kind": "direct", "name": "Search team", "conditions": [SEARCH], "owner": "CC-1101"}
TEAMS = {"kind": "tag_map", "name": "Teams", "conditions": [], "dimension": "team", "mapping": None}
LEFTOVERS = {
    "kind": "shared_pool",
    "name": "Leftovers",
    "conditions": [],
    "source": "unallocated",
    "method": "even",
    "targets": [{"owner": "CC-1301", "weight_pct": None}],
    "usage_basis": None,
    "same_provider": False,
}
FULL_COST = {"mode": "full_cost", "central_owner": None}
DOCUMENT = {"rules": [SEARCH_TEAM, TEAMS, LEFTOVERS], "true_up": FULL_COST}
GHOST = {"kind": "direct", "name": "Ghost", "conditions": [GATEWAY], "owner": "CC-0000"}


@pytest.fixture
def org(world):
    organization = world.org("a")
    allocation_catalog(organization)
    return organization


@pytest.fixture
def draft(org):
    return rule_set_with_draft(org, DOCUMENT, name="Acme allocation")


@pytest.fixture
def analyst(world):
    return world.login("a", Role.FINANCE_ANALYST)


@pytest.fixture
def approver(world):
    return world.login("a", Role.FINANCE_ADMIN)


def url(name: str, version: RuleSetVersion | None = None, **kwargs) -> str:
    if version is not None:
        kwargs = {"pk": version.rule_set_id, "number": version.number, **kwargs}
    return reverse(f"rules:{name}", kwargs={"org_slug": "alpha", **kwargs})


def stored(version: RuleSetVersion) -> RuleSetVersion:
    with scope(organization=version.organization):
        return RuleSetVersion.objects.get(pk=version.pk)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def browser_data(response) -> dict:
    """What a browser sends back for the page's form left as it is (tests then change some fields)."""
    context = response.context
    data = {"revision": context["version"].sha256}
    if "editor" in context:
        bound = [context["editor"].form]
        for formset in context["editor"].formsets:
            bound += [formset.management_form, *formset.forms]
    else:
        bound = [context["form"]]
    for form in bound:
        for field in form:
            value = field.value()
            if isinstance(field.field, forms.BooleanField):
                if value:
                    data[field.html_name] = "on"
            else:
                data[field.html_name] = "" if value is None else value
    return data


def publish(version: RuleSetVersion) -> RuleSetVersion:
    return draft_publish(draft=stored(version), actor=None)


# --- rule sets ----------------------------------------------------------------------------------


def test_list_says_when_there_is_no_rule_set(org, analyst, world):
    response = analyst.get(url("list"))
    assert response.status_code == 200
    assert "No allocation rule sets yet: until one is published, every cost stays Unallocated." in (
        response.content.decode()
    )
    assert url("create") in response.content.decode()
    viewer_page = world.login("a", Role.VIEWER).get(url("list")).content.decode()
    assert "A finance analyst or admin can create one." in viewer_page
    assert url("create") not in viewer_page


def test_list_shows_primary_latest_published_and_the_drafts_state(org, draft, analyst):
    published = publish(draft)
    second = draft_from_version(version=published, actor=None)
    draft_update(draft=second, document={**DOCUMENT, "rules": [*DOCUMENT["rules"], GHOST]}, actor=None)
    rule_set_with_draft(org, {"rules": [], "true_up": FULL_COST}, name="Experiment")
    response = analyst.get(url("list"))
    rows = response.context["rows"]
    assert [(r.rule_set.name, r.rule_set.is_primary) for r in rows] == [
        ("Acme allocation", True),
        ("Experiment", False),
    ]
    assert (rows[0].latest_published.number, rows[0].draft.number, len(rows[0].draft_check.errors)) == (1, 2, 1)
    assert (rows[1].latest_published, rows[1].draft.number, rows[1].draft_check.errors) == (None, 1, [])
    page = response.content.decode()
    assert '<span class="badge badge-ok">primary</span>' in page
    assert "v2 draft</a>" in page and "1 error</span>" in page
    assert "no rules yet</span>" in page
    assert "none yet" in page


def test_create_a_rule_set_opens_its_empty_draft(org, analyst):
    response = analyst.post(url("create"), {"name": "  Acme allocation ", "description": "Charges AI spend."})
    with scope(organization=org):
        rule_set = RuleSet.objects.get()
        version = rule_set.versions.get()
    assert response.status_code == 302
    assert response["Location"] == url("version", version)
    assert (rule_set.name, rule_set.description, rule_set.is_primary) == ("Acme allocation", "Charges AI spend.", True)
    assert (version.number, version.status, version.document) == (1, "draft", {"rules": [], "true_up": FULL_COST})
    page = analyst.get(response["Location"])
    assert "No rules yet: published like this, every cost would stay Unallocated" in page.content.decode()


def test_create_refuses_a_name_already_taken(org, draft, analyst):
    response = analyst.post(url("create"), {"name": "Acme allocation"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["There is already a rule set called Acme allocation."]}


def test_rule_set_page_lists_versions_with_who_when_and_fingerprint(org, draft, world, analyst):
    approver_user = world.user("a", Role.FINANCE_ADMIN)
    published = draft_publish(draft=stored(draft), actor=approver_user)
    second = draft_from_version(version=published, actor=None)
    response = analyst.get(url("detail", pk=draft.rule_set_id))
    page = response.content.decode()
    assert [v.number for v in response.context["page"]] == [2, 1]
    assert f'<code title="{published.sha256}">{published.sha256[:12]}</code>' in page
    assert f"by {approver_user.username}" in page
    assert "Start a draft from v1" in page
    assert url("version", second) in page
    assert "Make primary" not in page  # already primary


def test_make_primary_needs_an_approver_and_says_when_nothing_is_published(org, draft, approver, analyst):
    other = rule_set_with_draft(org, {"rules": [], "true_up": FULL_COST}, name="Experiment")
    target = url("make_primary", pk=other.rule_set_id)
    assert analyst.post(target).status_code == 403
    response = approver.post(target, follow=True)
    assert messages_of(response) == [
        "Experiment is now the primary rule set. It has no published version yet, so periods cannot be "
        "allocated until one is published."
    ]
    with scope(organization=org):
        assert list(RuleSet.objects.filter(is_primary=True).values_list("name", flat=True)) == ["Experiment"]
        assert AuditEvent.objects.filter(action="allocation.rule_set_made_primary").count() == 1
    publish(draft)
    response = approver.post(url("make_primary", pk=draft.rule_set_id), follow=True)
    assert messages_of(response) == ["Acme allocation is now the primary rule set: new allocations use it."]


def test_start_a_draft_from_a_published_version(org, draft, analyst):
    published = publish(draft)
    response = analyst.post(url("draft_start", published))
    with scope(organization=org):
        new = RuleSetVersion.objects.get(rule_set_id=draft.rule_set_id, status="draft")
    assert response["Location"] == url("version", new)
    assert (new.number, new.document, new.sha256) == (2, published.document, published.sha256)
    assert "The draft has exactly the rules of version 1" in analyst.get(url("version", new)).content.decode()
    refused = analyst.post(url("draft_start", new))
    assert refused.status_code == 409
    assert "Version 2 is the draft already; edit it directly." in refused.content.decode()


# --- version pages ------------------------------------------------------------------------------


def test_draft_page_lists_rules_in_words_with_their_problems(org, draft, analyst):
    draft_update(draft=stored(draft), document={**DOCUMENT, "rules": [GHOST, *DOCUMENT["rules"]]}, actor=None)
    response = analyst.get(url("version", draft))
    assert response.status_code == 200
    rules = response.context["rules"]
    assert [(r["position"], r["rule"]["name"], r["kind_label"]) for r in rules] == [
        (1, "Ghost", "Direct"),
        (2, "Search team", "Direct"),
        (3, "Teams", "Tag map"),
        (4, "Leftovers", "Shared pool"),
    ]
    assert rules[1]["sentence"] == "Requests tagged team=search go to CC-1101 Search."
    assert [p.text for p in response.context["errors"]] == ["Rule 1 “Ghost”, owner: There is no budget owner CC-0000."]
    page = response.content.decode()
    assert "1 problem to fix before publishing:" in page
    assert '<div class="error">Owner: There is no budget owner CC-0000.</div>' in page
    assert url("rule_edit", draft, position=4) in page
    assert url("rule_add", draft, kind="shared_pool") in page
    assert url("yaml", draft) in page
    assert "Publish as version" not in page  # analysts prepare, finance admins publish
    assert "A finance admin publishes the draft." in page


def test_published_version_shows_the_model_and_offers_no_edit_controls(org, draft, analyst):
    published = publish(draft)
    response = analyst.get(url("version", published))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Requests tagged team=search go to CC-1101 Search." in page
    assert "Cost that no earlier rule claims is shared evenly among CC-1301 Platform." in page
    assert "Invoice true-up: each provider&#x27;s difference between invoice and estimate is spread" in page
    for name in ("rule_edit", "rule_move", "rule_delete"):
        assert url(name, published, position=1) not in page
    assert url("yaml", published) not in page and url("publish", published) not in page
    assert "Start a new draft from this version" in page


# --- the editor: every action changes the stored document exactly ------------------------------


def test_add_a_direct_rule(org, draft, analyst):
    form = analyst.get(url("rule_add", draft, kind="direct"))
    assert form.status_code == 200
    data = browser_data(form)
    data.update(
        {
            "name": "Ads retries",
            "owner": "CC-1201",
            "conditions-0-field": "tag:team",
            "conditions-0-op": "in",
            "conditions-0-value": "ads, research ,",
            "conditions-1-field": "is_retry",
            "conditions-1-op": "equals",
            "conditions-1-value": "true",
        }
    )
    response = analyst.post(url("rule_add", draft, kind="direct"), data)
    assert response.status_code == 302
    assert response["Location"] == url("version", draft) + "#rule-4"
    assert stored(draft).document["rules"] == [
        SEARCH_TEAM,
        TEAMS,
        LEFTOVERS,
        {
            "kind": "direct",
            "name": "Ads retries",
            "conditions": [
                {"field": "tag:team", "op": "in", "value": ["ads", "research"]},
                {"field": "is_retry", "op": "equals", "value": True},
            ],
            "owner": "CC-1201",
        },
    ]
    assert messages_of(analyst.get(response["Location"])) == [
        "Saved rule 4 “Ads retries”. The draft is ready to publish."
    ]


def test_add_a_tag_map_with_explicit_rows_and_one_with_the_taxonomy_links(org, analyst):
    draft = rule_set_with_draft(org, {"rules": [], "true_up": FULL_COST})
    data = browser_data(analyst.get(url("rule_add", draft, kind="tag_map")))
    data.update(
        {
            "name": "Teams in production",
            "dimension": "team",
            "mapping_mode": "explicit",
            "mapping-0-value": "search",
            "mapping-0-owner": "CC-1101",
            "mapping-1-value": "research",
            "mapping-1-owner": "CC-1401",
            "conditions-0-field": "provider",
            "conditions-0-op": "glob",
            "conditions-0-value": "open*",
        }
    )
    assert analyst.post(url("rule_add", draft, kind="tag_map"), data).status_code == 302
    data = browser_data(analyst.get(url("rule_add", stored(draft), kind="tag_map")))
    data.update({"name": "Teams", "dimension": "team", "mapping_mode": "taxonomy"})
    assert analyst.post(url("rule_add", stored(draft), kind="tag_map"), data).status_code == 302
    assert stored(draft).document["rules"] == [
        {
            "kind": "tag_map",
            "name": "Teams in production",
            "conditions": [{"field": "provider", "op": "glob", "value": "open*"}],
            "dimension": "team",
            "mapping": {"research": "CC-1401", "search": "CC-1101"},
        },
        TEAMS,
    ]


def test_tag_map_rows_need_the_explicit_choice_and_an_owner(org, draft, analyst):
    data = browser_data(analyst.get(url("rule_add", draft, kind="tag_map")))
    data.update({"name": "Teams 2", "dimension": "team", "mapping_mode": "taxonomy", "mapping-0-value": "ads"})
    response = analyst.post(url("rule_add", draft, kind="tag_map"), data)
    assert response.status_code == 200
    editor = response.context["editor"]
    assert editor.mapping.forms[0].errors == {"owner": ["Choose the budget owner that pays for ads."]}
    data["mapping-0-owner"] = "CC-1201"
    response = analyst.post(url("rule_add", draft, kind="tag_map"), data)
    assert response.context["editor"].form.errors == {
        "mapping_mode": ["You filled in value → owner rows: choose “Use the value → owner rows below”, or clear them."]
    }
    assert stored(draft).document == DOCUMENT


def test_add_a_shared_pool_keeps_only_the_fields_of_its_method(org, draft, analyst):
    data = browser_data(analyst.get(url("rule_add", draft, kind="shared_pool")))
    data.update(
        {
            "name": "Gateway",
            "source": "conditions",
            "method": "fixed",
            "usage_basis": "tokens",  # left over from another choice: ignored for a fixed split
            "same_provider": "on",
            "conditions-0-field": "tag:feature",
            "conditions-0-op": "equals",
            "conditions-0-value": "gateway-healthcheck",
            "targets-0-owner": "CC-1101",
            "targets-0-weight_pct": "62.50",
            "targets-1-owner": "CC-1201",
            "targets-1-weight_pct": "37.5%",
        }
    )
    assert analyst.post(url("rule_add", draft, kind="shared_pool"), data).status_code == 302
    assert stored(draft).document["rules"][3] == {
        "kind": "shared_pool",
        "name": "Gateway",
        "conditions": [GATEWAY],
        "source": "conditions",
        "method": "fixed",
        "targets": [{"owner": "CC-1101", "weight_pct": "62.5"}, {"owner": "CC-1201", "weight_pct": "37.5"}],
        "usage_basis": None,
        "same_provider": False,
    }


def test_edit_a_pool_change_method_weights_and_remove_a_condition(org, analyst):
    pool = {**LEFTOVERS, "source": "conditions", "name": "Gateway", "conditions": [GATEWAY, SEARCH]}
    draft = rule_set_with_draft(org, {"rules": [pool], "true_up": FULL_COST})
    form = analyst.get(url("rule_edit", draft, position=1))
    assert form.status_code == 200
    data = browser_data(form)
    assert (data["name"], data["conditions-INITIAL_FORMS"], data["targets-0-owner"]) == ("Gateway", 2, "CC-1301")
    data.update(
        {
            "method": "usage",
            "usage_basis": "requests",
            "conditions-1-DELETE": "on",
            "targets-0-weight_pct": "2",
            "targets-1-owner": "CC-1401",
        }
    )
    assert analyst.post(url("rule_edit", draft, position=1), data).status_code == 302
    assert stored(draft).document["rules"] == [
        {
            "kind": "shared_pool",
            "name": "Gateway",
            "conditions": [GATEWAY],
            "source": "conditions",
            "method": "usage",
            "targets": [{"owner": "CC-1301", "weight_pct": "2"}, {"owner": "CC-1401", "weight_pct": None}],
            "usage_basis": "requests",
            "same_provider": False,
        }
    ]


def test_an_unchanged_edit_stores_the_same_document(org, draft, analyst):
    for position in (1, 2, 3):
        data = browser_data(analyst.get(url("rule_edit", stored(draft), position=position)))
        assert analyst.post(url("rule_edit", stored(draft), position=position), data).status_code == 302
    assert stored(draft).document == DOCUMENT
    assert stored(draft).sha256 == draft.sha256


def test_shape_errors_are_shown_on_their_fields_and_nothing_is_saved(org, draft, analyst):
    data = browser_data(analyst.get(url("rule_add", draft, kind="shared_pool")))
    data.update(
        {
            "name": "",
            "method": "fixed",
            "conditions-0-field": "tag:team",
            "conditions-0-op": "exists",
            "conditions-0-value": "search",
            "targets-0-owner": "CC-1101",
            "targets-0-weight_pct": "lots",
            "targets-1-weight_pct": "50",
        }
    )
    response = analyst.post(url("rule_add", draft, kind="shared_pool"), data)
    assert response.status_code == 200
    editor = response.context["editor"]
    assert editor.form.errors == {"name": ["Every rule needs a name."]}
    assert editor.conditions.forms[0].errors == {"value": ["'exists' takes no value."]}
    assert editor.targets.forms[0].errors == {
        "weight_pct": ["Give the percentage as a number such as 12.5; got 'lots'."]
    }
    assert editor.targets.forms[1].errors == {"__all__": ["Each target names a budget owner."]}
    page = response.content.decode()
    assert "Every rule needs a name." in page
    assert '<div class="error">Give the percentage as a number such as 12.5; got &#x27;lots&#x27;.</div>' in page
    assert '<div class="error">Each target names a budget owner.</div>' in page
    assert stored(draft).document == DOCUMENT


def test_a_duplicate_name_is_shown_on_the_name(org, draft, analyst):
    data = browser_data(analyst.get(url("rule_edit", draft, position=1)))
    data["name"] = "Leftovers"
    response = analyst.post(url("rule_edit", draft, position=1), data)
    assert response.context["editor"].form.errors == {"name": ["Another rule of this rule set already has this name."]}
    data = browser_data(analyst.get(url("rule_edit", draft, position=3)))
    data["name"] = "Teams"
    response = analyst.post(url("rule_edit", draft, position=3), data)
    assert response.context["editor"].form.errors == {"name": ["The name is already used by rules[1]."]}
    assert stored(draft).document == DOCUMENT


def test_a_saved_meaning_error_is_reported_and_shown_when_the_rule_is_opened(org, draft, analyst):
    with scope(organization=org):
        from apps.owners.models import BudgetOwner

        BudgetOwner.objects.filter(code="CC-1101").update(is_active=False)
    form = analyst.get(url("rule_edit", draft, position=1))
    assert [p.text for p in form.context["stored_problems"]] == [
        "Rule 1 “Search team”, owner: Budget owner CC-1101 (Search) is inactive; it cannot receive cost."
    ]
    # The inactive owner stays selectable, so opening and saving the rule does not silently drop it.
    assert ("CC-1101", "CC-1101 Search (inactive)") in form.context["editor"].form.fields["owner"].choices
    response = analyst.post(url("rule_edit", draft, position=1), browser_data(form), follow=True)
    assert messages_of(response) == ["Saved rule 1 “Search team”. The draft has 1 problem to fix before publishing."]


def test_move_rules_up_and_down(org, draft, analyst):
    response = analyst.post(url("rule_move", draft, position=3), {"direction": "up", "revision": draft.sha256})
    assert response["Location"] == url("version", draft) + "#rule-2"
    assert [r["name"] for r in stored(draft).document["rules"]] == ["Search team", "Leftovers", "Teams"]
    current = stored(draft)
    analyst.post(url("rule_move", current, position=1), {"direction": "down", "revision": current.sha256})
    assert stored(draft).document["rules"] == [LEFTOVERS, SEARCH_TEAM, TEAMS]


def test_moving_the_first_rule_up_changes_nothing(org, draft, analyst):
    response = analyst.post(
        url("rule_move", draft, position=1), {"direction": "up", "revision": draft.sha256}, follow=True
    )
    assert messages_of(response) == ["“Search team” is already the first rule."]
    assert stored(draft).document == DOCUMENT
    with scope(organization=org):
        assert AuditEvent.objects.filter(action="allocation.draft_updated").count() == 1  # the fixture's only


def test_delete_a_rule(org, draft, analyst):
    response = analyst.post(url("rule_delete", draft, position=2), {"revision": draft.sha256}, follow=True)
    assert messages_of(response) == ["Deleted rule “Teams”. The draft is ready to publish."]
    assert stored(draft).document == {"rules": [SEARCH_TEAM, LEFTOVERS], "true_up": FULL_COST}
    assert analyst.post(url("rule_delete", draft, position=3), {"revision": stored(draft).sha256}).status_code == 404


def test_change_the_true_up_policy(org, draft, analyst):
    data = browser_data(analyst.get(url("true_up", draft)))
    assert data["mode"] == "full_cost"
    data.update({"mode": "usage_only", "central_owner": "CC-1301"})
    response = analyst.post(url("true_up", draft), data)
    assert response["Location"] == url("version", draft) + "#true-up"
    assert stored(draft).document["true_up"] == {"mode": "usage_only", "central_owner": "CC-1301"}
    assert stored(draft).true_up_central_owner.code == "CC-1301"
    data = browser_data(analyst.get(url("true_up", stored(draft))))
    data["mode"] = "none"  # the central owner left selected means nothing without usage_only
    analyst.post(url("true_up", stored(draft)), data)
    assert stored(draft).document == {**DOCUMENT, "true_up": {"mode": "none", "central_owner": None}}


def test_usage_only_without_an_owner_is_saved_and_listed_as_a_problem(org, draft, analyst):
    data = browser_data(analyst.get(url("true_up", draft)))
    data.update({"mode": "usage_only", "central_owner": ""})
    response = analyst.post(url("true_up", draft), data, follow=True)
    assert messages_of(response) == [
        "Saved the invoice true-up policy. The draft has 1 problem to fix before publishing."
    ]
    assert "Invoice true-up, central owner: Booking the true-up to a central owner needs that owner." in (
        response.content.decode()
    )


def test_every_save_is_audited_once(org, draft, analyst):
    analyst.post(url("rule_move", draft, position=2), {"direction": "down", "revision": draft.sha256})
    current = stored(draft)
    analyst.post(url("rule_delete", current, position=1), {"revision": current.sha256})
    with scope(organization=org):
        events = AuditEvent.objects.filter(action="allocation.draft_updated").order_by("seq")
        assert events.count() == 3
        assert events.last().actor_label == "alpha-finance_analyst"


# --- edit as YAML -------------------------------------------------------------------------------


def test_yaml_editor_shows_the_drafts_file_and_saves_a_new_one(org, draft, analyst):
    response = analyst.get(url("yaml", draft))
    assert response.context["form"]["text"].value() == export_yaml(draft)
    text = export_yaml(draft).replace("owner: CC-1101", "owner: CC-1401").replace("mode: full_cost", "mode: none")
    response = analyst.post(url("yaml", draft), {"text": text, "revision": draft.sha256}, follow=True)
    assert messages_of(response) == ["Saved the rules from YAML. The draft is ready to publish."]
    assert stored(draft).document == {
        "rules": [{**SEARCH_TEAM, "owner": "CC-1401"}, TEAMS, LEFTOVERS],
        "true_up": {"mode": "none", "central_owner": None},
    }


def test_yaml_errors_are_listed_with_their_rule_and_field(org, draft, analyst):
    text = export_yaml(draft).replace("op: equals", "op: is").replace("kind: tag_map", "kind: map")
    response = analyst.post(url("yaml", draft), {"text": text, "revision": draft.sha256})
    assert response.status_code == 200
    assert [p.text for p in response.context["problems"]] == [
        "Rule 1 “Search team”, condition 1, operator: Use one of equals, in, exists, missing, glob; got 'is'.",
        "Rule 2 “Teams”, kind: Use one of direct, tag_map, shared_pool; got 'map'.",
    ]
    assert response.context["form"]["text"].value() == text  # what was typed stays for fixing
    broken = analyst.post(url("yaml", draft), {"text": "rules: [\n", "revision": draft.sha256})
    assert broken.context["problems"][0].text.startswith("The document: The file cannot be read: ")
    assert stored(draft).document == DOCUMENT


# --- publish ------------------------------------------------------------------------------------


def test_publish_confirms_the_version_number(org, draft, approver):
    response = approver.post(url("publish", draft), {"revision": draft.sha256}, follow=True)
    assert response.redirect_chain == [(url("version", draft), 302)]
    assert messages_of(response) == [
        "Published version 1 of Acme allocation. New allocations of the organisation's periods use it."
    ]
    published = stored(draft)
    assert (published.status, published.published_by.username) == ("published", "alpha-finance_admin")


def test_publish_is_refused_with_every_error(org, draft, approver):
    draft_update(draft=stored(draft), document={**DOCUMENT, "rules": [GHOST, *DOCUMENT["rules"]]}, actor=None)
    current = stored(draft)
    response = approver.post(url("publish", current), {"revision": current.sha256})
    assert response.status_code == 409
    assert [p.text for p in response.context["publish_problems"]] == [
        "Rule 1 “Ghost”, owner: There is no budget owner CC-0000."
    ]
    assert "Not published: fix 1 problem first" in response.content.decode()
    assert stored(draft).status == "draft"


def test_stale_revision_is_refused_and_changes_nothing(org, draft, analyst, approver):
    old = draft.sha256
    draft_update(draft=stored(draft), document={**DOCUMENT, "rules": [TEAMS, SEARCH_TEAM]}, actor=None)
    message = "The draft of version 1 changed after you opened this page (someone else saved it)."
    response = analyst.post(url("rule_delete", draft, position=1), {"revision": old})
    assert response.status_code == 409
    assert message in response.content.decode()
    response = approver.post(url("publish", draft), {"revision": old})
    assert response.status_code == 409
    assert message in response.content.decode()
    assert stored(draft).document["rules"] == [TEAMS, SEARCH_TEAM]
    assert stored(draft).status == "draft"


EDITOR_POSTS = [
    ("rule_add", {"kind": "direct"}, Role.FINANCE_ANALYST),
    ("rule_edit", {"position": 1}, Role.FINANCE_ANALYST),
    ("rule_move", {"position": 2}, Role.FINANCE_ANALYST),
    ("rule_delete", {"position": 1}, Role.FINANCE_ANALYST),
    ("true_up", {}, Role.FINANCE_ANALYST),
    ("yaml", {}, Role.FINANCE_ANALYST),
    ("publish", {}, Role.FINANCE_ADMIN),
]


@pytest.mark.parametrize(("name", "kwargs", "role"), EDITOR_POSTS, ids=[e[0] for e in EDITOR_POSTS])
def test_a_published_version_refuses_every_change(org, draft, world, name, kwargs, role):
    published = publish(draft)
    client = world.login("a", role)
    data = {"revision": published.sha256, "direction": "up", "name": "X", "text": "rules: []", "mode": "none"}
    response = client.post(url(name, published, **kwargs), data)
    assert response.status_code == 409
    assert (
        "Version 1 of Acme allocation is published and cannot be changed. Start a new draft from it to make changes."
        in response.content.decode()
    )
    if name not in ("rule_move", "rule_delete", "publish"):
        assert client.get(url(name, published, **kwargs)).status_code == 409
    assert stored(published).document == DOCUMENT


# --- compare and downloads ----------------------------------------------------------------------


def test_compare_two_versions_in_words(org, draft, analyst):
    v1 = publish(draft)
    v2 = draft_from_version(version=v1, actor=None)
    changed_pool = {**LEFTOVERS, "method": "proportional", "targets": [{"owner": "CC-1101", "weight_pct": None}]}
    document = {"rules": [TEAMS, changed_pool, GHOST], "true_up": {"mode": "usage_only", "central_owner": "CC-1301"}}
    draft_update(draft=v2, document=document, actor=None)
    response = analyst.get(url("compare", pk=draft.rule_set_id))  # default: the latest two
    assert response.status_code == 200
    diff = response.context["diff"]
    assert (response.context["version_a"].number, response.context["version_b"].number) == (1, 2)
    assert diff.added == [("Ghost", "Requests tagged feature=gateway-healthcheck go to CC-0000.")]
    assert diff.removed == [("Search team", "Requests tagged team=search go to CC-1101 Search.")]
    assert [(c.name, c.what, c.before, c.after) for c in diff.changed] == [
        (
            "Leftovers",
            ["method", "targets and shares"],
            "Cost that no earlier rule claims is shared evenly among CC-1301 Platform.",
            "Cost that no earlier rule claims is shared among CC-1101 Search in proportion to their direct spend.",
        )
    ]
    assert diff.moved == []
    assert diff.true_up[1] == (
        "Invoice true-up: each provider's difference between invoice and estimate is booked to CC-1301 Platform; "
        "the others pay their estimated usage only."
    )
    page = response.content.decode()
    assert "<strong>Ghost</strong>" in page and "Removed rules" in page
    assert "(changed: method, targets and shares)" in page
    same = analyst.get(url("compare", pk=draft.rule_set_id), {"a": 2, "b": 2})
    assert same.context["form"].errors == {"__all__": ["Choose two different versions."]}
    assert "diff" not in same.context


def test_compare_shows_a_reordering_and_identical_versions(org, draft, analyst):
    v1 = publish(draft)
    v2 = draft_from_version(version=v1, actor=None)
    response = analyst.get(url("compare", pk=draft.rule_set_id), {"a": 1, "b": 2})
    assert response.context["diff"].is_empty
    assert "The two versions have the same rules and the same true-up policy." in response.content.decode()
    draft_update(draft=v2, document={**DOCUMENT, "rules": [LEFTOVERS, SEARCH_TEAM, TEAMS]}, actor=None)
    response = analyst.get(url("compare", pk=draft.rule_set_id), {"a": 1, "b": 2})
    assert response.context["diff"].moved == [("Leftovers", 3, 1), ("Search team", 1, 2), ("Teams", 2, 3)]
    assert "<strong>Leftovers</strong> moved from position 3 to 1." in response.content.decode()


def test_compare_with_a_single_version_says_so(org, draft, analyst):
    response = analyst.get(url("compare", pk=draft.rule_set_id))
    assert response.status_code == 200
    assert "has only one version so far: nothing to compare yet." in response.content.decode()


def test_downloads_are_the_documented_model_and_the_rule_files(org, draft, analyst):
    published = publish(draft)
    markdown = analyst.get(url("download", published, fmt="md"))
    assert markdown["Content-Type"] == "text/markdown; charset=utf-8"
    assert markdown["Content-Disposition"] == 'attachment; filename="alpha-acme-allocation-v1.md"'
    assert markdown.content.decode() == describe_markdown(published)
    assert "1. Requests tagged team=search go to CC-1101 Search." in markdown.content.decode()
    as_yaml = analyst.get(url("download", published, fmt="yaml"))
    assert as_yaml["Content-Type"] == "application/yaml; charset=utf-8"
    assert as_yaml.content.decode() == export_yaml(published)
    assert yaml.safe_load(as_yaml.content)["rules"][0] == {
        "kind": "direct",
        "name": "Search team",
        "conditions": [SEARCH],
        "owner": "CC-1101",
    }
    as_json = analyst.get(url("download", published, fmt="json"))
    assert as_json["Content-Type"] == "application/json; charset=utf-8"
    assert as_json.content.decode() == export_json(published)
    assert json.loads(as_json.content)["version"] == 1
    assert analyst.get(url("download", published, fmt="csv")).status_code == 404


# --- who may do what ----------------------------------------------------------------------------


def test_budget_owners_see_no_rules(org, draft, world):
    owner = world.login("a", Role.BUDGET_OWNER)
    for target in (
        url("list"),
        url("detail", pk=draft.rule_set_id),
        url("version", draft),
        url("download", draft, fmt="md"),
        url("compare", pk=draft.rule_set_id),
    ):
        assert owner.get(target).status_code == 403, target
    nav = [i["label"] for i in owner.get("/o/alpha/").context["nav_items"]]
    assert "Allocation rules" not in nav


@pytest.mark.parametrize(
    ("role", "read", "edit", "approve"),
    [
        (Role.VIEWER, 200, 403, 403),
        (Role.ORG_ADMIN, 200, 403, 403),
        (Role.FINANCE_ANALYST, 200, 302, 403),
        (Role.FINANCE_ADMIN, 200, 302, 302),
    ],
)
def test_permissions_per_role(org, draft, world, role, read, edit, approve):
    client = world.login("a", role)
    assert client.get(url("version", draft)).status_code == read
    assert client.get(url("rule_add", draft, kind="direct")).status_code == (200 if edit == 302 else 403)
    assert client.post(url("create"), {"name": f"Set of {role}"}).status_code == edit
    moved = client.post(url("rule_move", draft, position=3), {"direction": "up", "revision": draft.sha256})
    assert moved.status_code == edit
    current = stored(draft)
    assert client.post(url("publish", current), {"revision": current.sha256}).status_code == approve
    assert client.post(url("make_primary", pk=draft.rule_set_id)).status_code == approve
    assert ("Allocation rules" in [i["label"] for i in client.get("/o/alpha/").context["nav_items"]]) is True


def test_another_organisations_rule_set_is_not_found(org, draft, world):
    allocation_catalog(world.org("b"))
    other = rule_set_with_draft(world.org("b"), DOCUMENT, name="Beta rules")
    client = world.login("a", Role.FINANCE_ADMIN)
    assert client.get(url("version", other)).status_code == 404
    assert client.post(url("publish", other), {"revision": other.sha256}).status_code == 404
    assert stored(other).status == "draft"


# --- words --------------------------------------------------------------------------------------


def test_problem_fields_in_words():
    assert [field_words(f) for f in ("conditions[0].value", "targets[2].weight_pct", "mapping.search", "rule")] == [
        "condition 1, value",
        "target 3, percentage",
        "mapping of search",
        "",
    ]
    problems = [
        ("rules[1] (Teams)", "dimension", "There is no active tag dimension 'teams'."),
        ("true_up", "mode", "Use one of full_cost, usage_only, none; got 'all'."),
        ("document", "document", "The file must be a mapping with rules and true_up."),
    ]
    assert [p.text for p in problems_in_words(problems)] == [
        "Rule 2 “Teams”, dimension: There is no active tag dimension 'teams'.",
        "Invoice true-up, true-up policy: Use one of full_cost, usage_only, none; got 'all'.",
        "The document: The file must be a mapping with rules and true_up.",
    ]
