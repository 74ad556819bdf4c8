"""Rule-set validation, versions, publish immutability (model and SQL) and compare."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django_scopes import scope

from apps.allocation.models import PublishedVersionError, RuleSetVersion
from apps.allocation.rules.checks import rule_set_check, rule_set_validate
from apps.allocation.rules.compare import versions_compare
from apps.allocation.rules.services import (
    RuleProblemsError,
    StaleDraftError,
    draft_from_version,
    draft_publish,
    draft_update,
    rule_set_create,
)
from apps.audit.models import AuditEvent
from tests.factories.allocation import allocation_catalog, rule_set_with_draft

pytestmark = pytest.mark.django_db

SEARCH = {"field": "tag:team", "op": "equals", "value": "search"}
GATEWAY = {"field": "tag:feature", "op": "equals", "value": "gateway-healthcheck"}


def direct(name, owner, *conditions):
    return {"kind": "direct", "name": name, "conditions": list(conditions), "owner": owner}


def pool(name, method, targets, *conditions, source="conditions", **extra):
    return {
        "kind": "shared_pool",
        "name": name,
        "conditions": list(conditions),
        "source": source,
        "method": method,
        "targets": targets,
        **extra,
    }


def doc(*rules, mode="full_cost", central=None):
    return {"rules": list(rules), "true_up": {"mode": mode, "central_owner": central}}


@pytest.fixture
def org(world):
    organization = world.org("a")
    allocation_catalog(organization)
    return organization


def errors(org, document):
    return rule_set_validate(organization=org, document=document)


def test_a_clean_rule_set_has_no_errors(org):
    document = doc(
        direct("Search team", "CC-1101", SEARCH),
        {"kind": "tag_map", "name": "Teams", "dimension": "team"},
        pool("Gateway", "proportional", [{"owner": "CC-1101"}, {"owner": "CC-1201"}], GATEWAY),
        pool(
            "Rest",
            "fixed",
            [{"owner": "CC-1101", "weight_pct": "60"}, {"owner": "CC-1201", "weight_pct": "40"}],
            source="unallocated",
        ),
    )
    assert errors(org, document) == []


def test_unknown_and_inactive_owners_are_named(org):
    document = doc(direct("Labs", "CC-1901", SEARCH), direct("Ghost", "CC-0000", GATEWAY))
    assert errors(org, document) == [
        ("rules[0] (Labs)", "owner", "Budget owner CC-1901 (Legacy labs) is inactive; it cannot receive cost."),
        ("rules[1] (Ghost)", "owner", "There is no budget owner CC-0000."),
    ]


def test_fixed_split_must_sum_to_exactly_100(org):
    targets = [{"owner": "CC-1101", "weight_pct": "33.33"}, {"owner": "CC-1201", "weight_pct": "66.66"}]
    assert errors(org, doc(pool("Gateway", "fixed", targets, GATEWAY))) == [
        ("rules[0] (Gateway)", "targets", "The fixed percentages add up to 99.99%, not 100%.")
    ]
    targets[1]["weight_pct"] = "66.67"
    assert errors(org, doc(pool("Gateway", "fixed", targets, GATEWAY))) == []


def test_pool_without_targets_or_with_an_owner_twice(org):
    assert errors(org, doc(pool("Gateway", "even", [], GATEWAY))) == [
        ("rules[0] (Gateway)", "targets", "A shared pool needs at least one budget owner to share the cost among.")
    ]
    twice = [{"owner": "CC-1101"}, {"owner": "CC-1101"}]
    assert errors(org, doc(pool("Gateway", "even", twice, GATEWAY))) == [
        ("rules[0] (Gateway)", "targets[1].owner", "CC-1101 is listed twice; list each owner once.")
    ]


def test_a_pool_that_shares_an_owners_own_cost_back_feeds_itself(org):
    # Team search belongs to CC-1101 (taxonomy link); pooling it back to CC-1101 is circular.
    document = doc(pool("Search pool", "even", [{"owner": "CC-1101"}, {"owner": "CC-1201"}], SEARCH))
    [(where, field, message)] = errors(org, document)
    assert (where, field) == ("rules[0] (Search pool)", "conditions")
    assert message.startswith("The pool selects CC-1101's own cost (team=search) and shares it back to CC-1101")


def test_remainder_pools_earlier_pools_come_first(org):
    targets = [{"owner": "CC-1301"}]
    openai = {"field": "provider", "op": "equals", "value": "openai"}
    document = doc(
        pool("Rest", "even", targets, source="unallocated"),
        pool("Rest again", "even", targets, source="unallocated"),
        pool("OpenAI true-up", "even", targets, openai, source="true_up"),
        pool("OpenAI true-up again", "even", targets, openai, source="true_up"),
        pool("Anthropic true-up", "even", targets, {"field": "tag:team", "op": "exists"}, source="true_up"),
    )
    check = rule_set_check(organization=org, document=document)
    assert check.errors == [
        (
            "rules[3] (OpenAI true-up again)",
            "source",
            "rules[2] (OpenAI true-up) takes this true-up first, so this pool never receives anything.",
        ),
        (
            "rules[4] (Anthropic true-up)",
            "conditions[0]",
            "The invoice true-up has no tags, model, tier or cost source; a true-up pool can only select by provider.",
        ),
    ]
    assert check.warnings == [
        (
            "rules[1] (Rest again)",
            "source",
            "rules[0] (Rest) takes this unallocated cost first; this pool only receives what that pool cannot "
            "share (when none of its targets has any spend or usage).",
        )
    ]


def test_a_true_up_pool_for_every_provider_leaves_the_policy_nothing(org):
    document = doc(pool("True-up", "even", [{"owner": "CC-1301"}], source="true_up"))
    check = rule_set_check(organization=org, document=document)
    assert check.errors == []
    assert check.warnings == [
        ("true_up", "mode", "rules[0] (True-up) takes every provider's true-up, so this true-up policy never applies.")
    ]
    document["true_up"]["mode"] = "none"
    assert rule_set_check(organization=org, document=document).warnings == []


def test_weights_on_a_proportional_pool_are_allowed(org):
    targets = [{"owner": "CC-1101", "weight_pct": "200"}, {"owner": "CC-1201", "weight_pct": 50}]
    assert errors(org, doc(pool("Gateway", "proportional", targets, GATEWAY))) == []
    fixed = [{"owner": "CC-1101", "weight_pct": "150"}, {"owner": "CC-1201"}]
    assert errors(org, doc(pool("Gateway", "fixed", fixed, GATEWAY))) == [
        ("rules[0] (Gateway)", "targets[0].weight_pct", "A fixed percentage must be more than 0 and at most 100."),
        ("rules[0] (Gateway)", "targets[1].weight_pct", "A fixed split needs a percentage for every target."),
    ]


@pytest.mark.parametrize(
    ("condition", "field", "message"),
    [
        (
            {"field": "tag:region", "op": "equals", "value": "eu"},
            "conditions[0]",
            "There is no active tag dimension 'region', so this rule never matches.",
        ),
        (
            {"field": "tag:team", "op": "equals", "value": "sales"},
            "conditions[0]",
            "sales is not a known tag team, so this rule never matches.",
        ),
        (
            {"field": "provider", "op": "equals", "value": "mistral"},
            "conditions[0]",
            "mistral is not a known provider, so this rule never matches.",
        ),
        (
            {"field": "model", "op": "in", "value": ["gpt-9", "gpt-10"]},
            "conditions[0]",
            "gpt-10, gpt-9 is not a known model, so this rule never matches.",
        ),
        (
            {"field": "cost_source", "op": "equals", "value": "storage"},
            "conditions[0]",
            "storage is not a known cost source, so this rule never matches.",
        ),
        (
            {"field": "provider", "op": "missing"},
            "conditions[0]",
            "Every request has a provider, so 'missing' never matches.",
        ),
        (
            {"field": "tag:team", "op": "glob", "value": "fin*"},
            "conditions[0]",
            "No known tag team matches the pattern fin*.",
        ),
    ],
)
def test_rules_that_can_never_match(org, condition, field, message):
    assert errors(org, doc(direct("R", "CC-1101", condition))) == [("rules[0] (R)", field, message)]


def test_a_model_of_another_provider_never_matches(org):
    openai = {"field": "provider", "op": "equals", "value": "openai"}
    claude = {"field": "model", "op": "equals", "value": "claude-sonnet-4-5"}
    assert errors(org, doc(direct("R", "CC-1101", openai, claude))) == [
        ("rules[0] (R)", "conditions", "claude-sonnet-4-5 is not a model of openai, so this rule never matches.")
    ]
    gpt = {"field": "model", "op": "in", "value": ["claude-sonnet-4-5", "gpt-4o"]}
    check = rule_set_check(organization=org, document=doc(direct("R", "CC-1101", openai, gpt)))
    assert check.errors == []
    partly = {"field": "tag:team", "op": "in", "value": ["search", "sales"]}
    check = rule_set_check(organization=org, document=doc(direct("R", "CC-1101", partly)))
    assert (check.errors, check.warnings) == ([], [("rules[0] (R)", "conditions[0]", "sales: not a known tag team.")])


def test_contradictory_conditions(org):
    missing = {"field": "tag:team", "op": "missing"}
    assert errors(org, doc(direct("R", "CC-1101", SEARCH, missing))) == [
        ("rules[0] (R)", "conditions", "tag team cannot be both missing and present.")
    ]
    ads = {"field": "tag:team", "op": "equals", "value": "ads"}
    assert errors(org, doc(direct("R", "CC-1101", SEARCH, ads))) == [
        ("rules[0] (R)", "conditions", "No tag team satisfies all the conditions at once.")
    ]


def test_shadowed_rules_are_reported_conservatively(org):
    openai = {"field": "provider", "op": "equals", "value": "openai"}
    shadow = "Every request this rule matches is already claimed by rules[0] (Search), so it never applies. "
    # identical conditions, and strictly more specific conditions, after a broader direct rule
    assert errors(
        org, doc(direct("Search", "CC-1101", SEARCH), direct("Search openai", "CC-1201", SEARCH, openai))
    ) == [("rules[1] (Search openai)", "conditions", shadow + "Move it above that rule or remove it.")]
    # the other order is fine: the specific rule first
    assert (
        errors(org, doc(direct("Search openai", "CC-1201", SEARCH, openai), direct("Search", "CC-1101", SEARCH))) == []
    )
    # a tag map that maps team=search shadows a later search rule; one on an unmapped value does not
    teams = {"kind": "tag_map", "name": "Teams", "dimension": "team"}
    later = errors(org, doc(teams, direct("Search", "CC-1101", SEARCH)))
    assert [(w, f) for w, f, _ in later] == [("rules[1] (Search)", "conditions")]
    research = {"field": "tag:team", "op": "equals", "value": "research"}
    assert errors(org, doc(teams, direct("Research", "CC-1401", research))) == []


def test_true_up_owner_rules(org):
    assert errors(org, doc(mode="usage_only")) == [
        ("true_up", "central_owner", "Booking the true-up to a central owner needs that owner.")
    ]
    check = rule_set_check(organization=org, document=doc(mode="usage_only", central="CC-1401"))
    assert check.errors == []
    assert check.warnings == [("true_up", "central_owner", "CC-1401 (Finance) is not marked as a central cost centre.")]
    assert rule_set_check(organization=org, document=doc(mode="usage_only", central="CC-1301")).warnings == []


def test_shape_errors_refuse_a_draft_but_meaning_errors_do_not(org):
    draft = rule_set_with_draft(org, doc())
    with pytest.raises(ValidationError) as exc:
        draft_update(draft=draft, document=doc({"kind": "split", "name": "X"}), actor=None)
    assert exc.value.messages == ["rules[0] (X): kind: Use one of direct, tag_map, shared_pool; got 'split'."]
    saved, check = draft_update(draft=draft, document=doc(direct("Ghost", "CC-0000")), actor=None)
    assert saved.document["rules"][0]["owner"] == "CC-0000"
    assert check.errors == [("rules[0] (Ghost)", "owner", "There is no budget owner CC-0000.")]
    with pytest.raises(ValidationError, match="There is no budget owner CC-0000"):
        draft_publish(draft=saved, actor=None)


def test_problems_keep_their_rule_and_field_for_forms(org):
    draft = rule_set_with_draft(org, doc())
    with pytest.raises(RuleProblemsError) as exc:
        draft_update(draft=draft, document=doc({"kind": "direct", "name": "X", "owner": None}), actor=None)
    assert exc.value.problems == [("rules[0] (X)", "owner", "A direct rule names one budget owner (cost-centre code).")]
    saved, _ = draft_update(draft=draft, document=doc(direct("Ghost", "CC-0000")), actor=None)
    with pytest.raises(RuleProblemsError) as exc:
        draft_publish(draft=saved, actor=None)
    assert exc.value.problems == [("rules[0] (Ghost)", "owner", "There is no budget owner CC-0000.")]


def test_an_empty_explicit_mapping_assigns_nothing(org):
    teams = {"kind": "tag_map", "name": "Teams", "dimension": "team", "mapping": {}}
    assert errors(org, doc(teams)) == [
        (
            "rules[0] (Teams)",
            "mapping",
            "The mapping is empty, so this rule never assigns anything. Map at least one value to a budget owner, "
            "or use the taxonomy's owner links.",
        )
    ]


def test_a_draft_changed_since_it_was_read_is_not_overwritten_or_published(org):
    draft = rule_set_with_draft(org, doc(direct("Search", "CC-1101", SEARCH)))
    read_sha = draft.sha256
    draft_update(draft=draft, document=doc(direct("Ads", "CC-1201", SEARCH)), actor=None, expected_sha256=read_sha)
    message = "The draft of version 1 changed after you opened it"
    with pytest.raises(StaleDraftError, match=message):
        draft_update(draft=draft, document=doc(), actor=None, expected_sha256=read_sha)
    with pytest.raises(StaleDraftError, match=message):
        draft_publish(draft=draft, actor=None, expected_sha256=read_sha)
    with scope(organization=org):
        current = RuleSetVersion.objects.get(pk=draft.pk)
    assert (current.status, current.document["rules"][0]["name"]) == ("draft", "Ads")
    assert draft_publish(draft=current, actor=None, expected_sha256=current.sha256).status == "published"


def test_versions_are_numbered_and_publishing_is_audited(org, world):
    user = world.user("a")
    draft = rule_set_with_draft(org, doc(direct("Search", "CC-1101", SEARCH)), actor=user)
    v1 = draft_publish(draft=draft, actor=user)
    assert (v1.number, v1.status, v1.published_by, len(v1.sha256)) == (1, "published", user, 64)
    d2 = draft_from_version(version=v1, actor=user)
    assert (d2.number, d2.status, d2.document) == (2, "draft", v1.document)
    with pytest.raises(IntegrityError), transaction.atomic(), scope(organization=org):
        RuleSetVersion.objects.create(
            organization=org, rule_set=v1.rule_set, number=3, document={}, sha256="x", status="draft"
        )
    d2, _ = draft_update(draft=d2, document=doc(direct("Ads", "CC-1201", SEARCH)), actor=user)
    v2 = draft_publish(draft=d2, actor=user)
    assert v2.number == 2 and v2.sha256 != v1.sha256
    # starting from version 1 again gives draft 3 with version 1's rules
    d3 = draft_from_version(version=v1, actor=user)
    assert (d3.number, d3.document) == (3, v1.document)
    with scope(organization=org):
        actions = list(
            AuditEvent.objects.filter(action__startswith="allocation.").order_by("seq").values_list("action", flat=True)
        )
    assert actions == [
        "allocation.rule_set_created",
        "allocation.draft_updated",
        "allocation.version_published",
        "allocation.draft_started",
        "allocation.draft_updated",
        "allocation.version_published",
        "allocation.draft_started",
    ]


def test_one_rule_set_name_per_organisation(org, world):
    rule_set_create(organization=org, actor=None, name="Main")
    with pytest.raises(ValidationError, match="already a rule set called Main"):
        rule_set_create(organization=org, actor=None, name="Main")
    rule_set_create(organization=world.org("b"), actor=None, name="Main")


def test_a_published_version_refuses_changes_in_the_model(org):
    version = draft_publish(draft=rule_set_with_draft(org, doc(direct("Search", "CC-1101", SEARCH))), actor=None)
    with scope(organization=org):
        version.document = {"rules": []}
        with pytest.raises(PublishedVersionError):
            version.save()
        with pytest.raises(PublishedVersionError):
            version.delete()
    with pytest.raises(ValidationError, match="is published and cannot be changed"):
        draft_update(draft=version, document=doc(), actor=None)


def _sql(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_published_version_refuses_update_and_delete_in_sql_but_a_draft_does_not(org):
    published = draft_publish(draft=rule_set_with_draft(org, doc(direct("Search", "CC-1101", SEARCH))), actor=None)
    for sql in (
        "UPDATE allocation_rulesetversion SET sha256 = %s WHERE id = %s",
        "DELETE FROM allocation_rulesetversion WHERE id = %s AND sha256 <> %s",
    ):
        params = ["tampered", published.pk] if sql.startswith("UPDATE") else [published.pk, "x"]
        with pytest.raises(IntegrityError), transaction.atomic():
            _sql(sql, params)
    draft = draft_from_version(version=published, actor=None)
    _sql("UPDATE allocation_rulesetversion SET sha256 = %s WHERE id = %s", ["edited", draft.pk])
    with scope(organization=org):
        assert RuleSetVersion.objects.get(pk=published.pk).sha256 == published.sha256
        assert RuleSetVersion.objects.get(pk=draft.pk).sha256 == "edited"
    _sql("DELETE FROM allocation_rulesetversion WHERE id = %s", [draft.pk])
    with scope(organization=org):
        assert not RuleSetVersion.objects.filter(pk=draft.pk).exists()


def test_compare_lists_added_removed_changed_and_moved_rules(org):
    first = doc(
        direct("Search", "CC-1101", SEARCH),
        direct("Gateway", "CC-1301", GATEWAY),
        direct("Old", "CC-1401", {"field": "provider", "op": "equals", "value": "anthropic"}),
    )
    v1 = draft_publish(draft=rule_set_with_draft(org, first), actor=None)
    second = doc(
        direct("Gateway", "CC-1301", GATEWAY),
        direct("Search", "CC-1201", SEARCH),
        direct("New", "CC-1401", {"field": "model", "op": "equals", "value": "gpt-4o"}),
        mode="usage_only",
        central="CC-1301",
    )
    d2, _ = draft_update(draft=draft_from_version(version=v1, actor=None), document=second, actor=None)
    diff = versions_compare(v1, d2)
    assert diff.added == ["New"] and diff.removed == ["Old"]
    assert diff.changed == {"Search": {"owner": ("CC-1101", "CC-1201")}}
    assert diff.lines() == [
        "+ added rule New",
        "- removed rule Old",
        "~ Search: owner changed from 'CC-1101' to 'CC-1201'",
        "↕ Gateway moved from position 2 to 1",
        "↕ Search moved from position 1 to 2",
        "~ true-up changed from full_cost to usage_only (central owner CC-1301)",
    ]
    assert versions_compare(v1, v1).is_empty
