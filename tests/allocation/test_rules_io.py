"""Rule files: YAML/JSON import, export round trip, and the commands' output and exit codes."""

import json
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scope

from apps.allocation.models import RuleSetVersion
from apps.allocation.rules.io import export_yaml, import_rules, parse_text
from tests.factories.allocation import allocation_catalog

pytestmark = pytest.mark.django_db

RULES_YAML = """\
rule_set: Acme allocation
description: How AI spend is charged to cost centres.
true_up:
  mode: usage_only
  central_owner: CC-1301
rules:
  - name: Search team
    kind: direct
    conditions:
      - {field: "tag:team", op: equals, value: search}
    owner: CC-1101
  - name: Teams
    kind: tag_map
    dimension: team
    mapping: {ads: CC-1201}
  - name: Platform gateway
    kind: shared_pool
    conditions:
      - {field: "tag:feature", op: equals, value: gateway-healthcheck}
    method: proportional
    same_provider: true
    targets: [CC-1101, CC-1201]
  - name: Leftovers
    kind: shared_pool
    source: unallocated
    method: fixed
    targets:
      - {owner: CC-1101, weight_pct: 62.5}
      - {owner: CC-1201, weight_pct: 37.5}
"""

BAD_YAML = """\
true_up: {mode: usage_only}
rules:
  - name: Ghost
    kind: direct
    conditions: [{field: "tag:team", op: equals, value: ads}]
    owner: CC-0000
  - name: Split
    kind: shared_pool
    conditions: [{field: "tag:feature", op: equals, value: chat}]
    method: fixed
    targets: [{owner: CC-1101, weight_pct: 50}, {owner: CC-1201, weight_pct: 40}]
"""


@pytest.fixture
def org(world):
    organization = world.org("a")
    allocation_catalog(organization)
    allocation_catalog(world.org("b"))
    return organization


def _versions(org):
    with scope(organization=org):
        return list(RuleSetVersion.objects.order_by("number").values_list("number", "status"))


def test_yaml_round_trip_into_another_organisation_gives_the_same_file(org, world):
    v1 = import_rules(organization=org, raw=parse_text(RULES_YAML), actor=None, publish=True).version
    exported = export_yaml(v1)
    assert yaml.safe_load(exported)["rules"][3]["targets"] == [
        {"owner": "CC-1101", "weight_pct": "62.5"},
        {"owner": "CC-1201", "weight_pct": "37.5"},
    ]
    other = import_rules(organization=world.org("b"), raw=parse_text(exported), actor=None, publish=True).version
    assert export_yaml(other) == exported
    assert other.sha256 == v1.sha256
    assert (other.true_up_mode, other.true_up_central_owner.code) == ("usage_only", "CC-1301")


def test_json_files_import_too(org):
    raw = yaml.safe_load(RULES_YAML)
    result = import_rules(organization=org, raw=parse_text(json.dumps(raw), file_name="rules.json"), actor=None)
    assert (result.version.number, result.version.status, result.errors) == (1, "draft", [])
    assert [r["name"] for r in result.version.document["rules"]] == [
        "Search team",
        "Teams",
        "Platform gateway",
        "Leftovers",
    ]


def test_import_command_publishes_and_a_second_import_is_the_next_version(org, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES_YAML)
    out = StringIO()
    call_command("import_rules", str(path), "--org", "alpha", "--publish", stdout=out)
    assert out.getvalue().startswith("Acme allocation: published version 1 (")
    path.write_text(RULES_YAML.replace("62.5", "60").replace("37.5", "40"))
    out = StringIO()
    call_command("import_rules", str(path), "--org", "alpha", "--publish", stdout=out)
    assert out.getvalue().startswith("Acme allocation: published version 2 (")
    assert _versions(org) == [(1, "published"), (2, "published")]


def test_import_command_lists_every_error_and_exits_1_without_writing(org, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_YAML)
    err = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_rules", str(path), "--org", "alpha", "--publish", stderr=err)
    assert exc.value.returncode == 1
    assert str(exc.value) == f"{path}: 3 error(s); nothing was written."
    assert err.getvalue().splitlines() == [
        f"{path}: rules[0] (Ghost): owner: There is no budget owner CC-0000.",
        f"{path}: rules[1] (Split): targets: The fixed percentages add up to 90%, not 100%.",
        f"{path}: true_up: central_owner: Booking the true-up to a central owner needs that owner.",
    ]
    assert _versions(org) == []


def test_without_publish_a_draft_with_errors_is_saved_and_the_errors_listed(org, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_YAML)
    out = StringIO()
    call_command("import_rules", str(path), "--org", "alpha", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Allocation rules: draft version 1 saved."
    assert lines[-1] == "3 problem(s) to fix before this draft can be published."
    assert _versions(org) == [(1, "draft")]


def test_import_command_refuses_a_malformed_file(org, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("rules:\n  - name: X\n    kind: direct\n    owner: CC-1101\n    colour: blue\n")
    err = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_rules", str(path), "--org", "alpha", stderr=err)
    assert exc.value.returncode == 1
    assert err.getvalue() == f"{path}: rules[0] (X): rule: Keys not used by a direct rule: colour.\n"
    assert _versions(org) == []
    with pytest.raises(CommandError, match="No organisation with slug 'nope'"):
        call_command("import_rules", str(path), "--org", "nope")


def test_export_command_formats_and_versions(org, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES_YAML)
    call_command("import_rules", str(path), "--org", "alpha", "--publish", stdout=StringIO())
    out = StringIO()
    call_command("export_rules", "--org", "alpha", "--version", "1", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert (data["rule_set"], data["version"], data["true_up"]) == (
        "Acme allocation",
        1,
        {"mode": "usage_only", "central_owner": "CC-1301"},
    )
    out = StringIO()
    call_command("export_rules", "--org", "alpha", stdout=out)
    assert yaml.safe_load(out.getvalue())["rules"][0] == {
        "kind": "direct",
        "name": "Search team",
        "conditions": [{"field": "tag:team", "op": "equals", "value": "search"}],
        "owner": "CC-1101",
    }
    out = StringIO()
    call_command("export_rules", "--org", "alpha", "--format", "markdown", stdout=out)
    assert out.getvalue().startswith("# Allocation model: Acme allocation, version 1\n")
    with pytest.raises(CommandError, match="Acme allocation has no version 7 \\(latest is 1\\)"):
        call_command("export_rules", "--org", "alpha", "--version", "7")
    with pytest.raises(CommandError, match="has no allocation rule set yet"):
        call_command("export_rules", "--org", "beta")


def test_the_readme_example_imports_and_publishes_cleanly(org):
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    section = readme.split("## Allocation rules as files", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    result = import_rules(organization=org, raw=parse_text(example), actor=None, publish=True)
    assert (result.version.number, result.version.status, result.errors) == (1, "published", [])
    assert [r["kind"] for r in result.version.document["rules"]] == ["direct", "tag_map", "shared_pool"]


def test_import_command_prints_warnings_but_publishes(org, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES_YAML.replace("central_owner: CC-1301", "central_owner: CC-1401"))
    out, err = StringIO(), StringIO()
    call_command("import_rules", str(path), "--org", "alpha", "--publish", stdout=out, stderr=err)
    assert err.getvalue() == (
        f"{path}: warning: true_up: central_owner: CC-1401 (Finance) is not marked as a central cost centre.\n"
    )
    assert _versions(org) == [(1, "published")]
