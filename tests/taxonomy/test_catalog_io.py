import pytest
from django.db import transaction
from django_scopes import scope

from apps.audit.models import AuditEvent
from apps.owners import catalog_io as owners_io
from apps.taxonomy import catalog_io
from apps.taxonomy.models import TagAlias, TagDimension, TagValue
from tests.factories.owners import BudgetOwnerFactory

pytestmark = pytest.mark.django_db


def _state(organization):
    with scope(organization=organization):
        return (
            TagDimension.objects.count(),
            TagValue.objects.count(),
            TagAlias.objects.count(),
            AuditEvent.objects.count(),
        )


def _import(organization, rows, owner_rows=None, actor=None):
    """What import_catalog does: validate every section (owners first), then apply in one transaction."""
    context: dict = {}
    errors = []
    if owner_rows is not None:
        errors += owners_io.validate_section(organization=organization, rows=owner_rows, context=context)
    errors += catalog_io.validate_section(organization=organization, rows=rows, context=context)
    if errors:
        return errors, None
    with transaction.atomic():
        if owner_rows is not None:
            owners_io.apply_section(organization=organization, rows=owner_rows, actor=actor)
        result = catalog_io.apply_section(organization=organization, rows=rows, actor=actor)
    return [], result


def test_export_apply_into_the_other_org_and_export_again_gives_the_same_data(world, taxonomy):
    a, b = world.org("a"), world.org("b")
    with scope(organization=a):
        taxonomy["support"].is_active = False
        taxonomy["support"].description = "Retired: now support-automation"
        taxonomy["support"].save()
    rows = catalog_io.export_section(organization=a)
    assert rows[0] == {
        "key": "team",
        "label": "Team",
        "description": "",
        "required": True,
        "case_rule": "lower",
        "granularity": "cube",
        "position": 10,
        "is_active": True,
        "values": [
            {"value": "search", "description": "", "owner": "CC-1101", "is_active": True, "aliases": []},
            {
                "value": "support",
                "description": "Retired: now support-automation",
                "owner": None,
                "is_active": False,
                "aliases": [],
            },
        ],
    }
    assert rows[1]["values"][0]["aliases"] == ["prod"]
    assert rows[2]["values"] == []  # customer: no value list

    owner_rows = owners_io.export_section(organization=a)
    errors, result = _import(b, rows, owner_rows)
    assert errors == []
    assert result == {"created": 7, "updated": 0, "unchanged": 0}  # 3 dimensions + 4 values
    assert catalog_io.export_section(organization=b) == rows

    events = _state(b)[3]
    assert _import(b, rows)[1] == {"created": 0, "updated": 0, "unchanged": 7}
    assert _state(b)[3] == events  # re-importing the same file writes nothing


def test_csv_round_trips(world, taxonomy):
    rows = catalog_io.export_section(organization=world.org("a"))
    text = catalog_io.rows_to_csv(rows)
    assert text.splitlines()[0] == ",".join(f'"{column}"' for column in catalog_io.CSV_COLUMNS)
    # Text cells are quoted, the position is a bare number; a dimension without values leaves them empty.
    assert '"environment","Environment","","true","lower","cube",20,"true","production","","","true","prod"' in (
        text.splitlines()
    )
    assert '"customer","Customer","","false","preserve","cube",30,"true",,,,,' in text.splitlines()
    assert catalog_io.rows_from_csv(text) == rows


def test_an_invalid_row_is_reported_with_its_label_and_field_and_nothing_is_written(world, taxonomy):
    before = _state(world.org("a"))
    rows = [
        {"key": "team", "values": [{"value": "assistant", "owner": "CC-404"}, {"value": "Search", "owner": "CC-1101"}]},
        {"key": "Cost Center"},  # new dimension without a label
        {"key": "9bad", "label": "Bad"},
        {"key": "environment", "case_rule": "title", "values": [{"value": "qa", "aliases": ["stg", "QA"]}]},
        {"key": "region", "label": "Region", "required": "yes", "values": [{"value": "emea"}, {"value": "EMEA "}]},
        {"key": "team", "label": "Again"},
    ]
    errors, result = _import(world.org("a"), rows)
    assert result is None
    assert errors == [
        (
            "taxonomy[team]",
            "values[assistant].owner",
            "No cost centre has the code 'CC-404' (neither in this organisation nor in the file).",
        ),
        ("taxonomy[cost_center]", "label", "Give the dimension a label, e.g. Team."),
        (
            "taxonomy[9bad]",
            "key",
            "Use lower-case letters, digits and underscores, starting with a letter (e.g. cost_center).",
        ),
        ("taxonomy[environment]", "case_rule", "Choose one of: lower, preserve, upper."),
        ("taxonomy[environment]", "values[qa].aliases", "“stg” is already an alias of staging."),
        ("taxonomy[environment]", "values[qa].aliases", "“QA” already matches qa; drop it."),
        ("taxonomy[region]", "required", "Use true or false."),
        ("taxonomy[region]", "values[EMEA].value", "emea appears twice in region."),
        ("taxonomy[team]", "key", "team appears twice in the file."),
    ]
    assert _state(world.org("a")) == before


def test_owner_codes_may_come_from_the_same_file(world, taxonomy):
    owner_rows = [{"code": "CC-1202", "name": "Conversational Assistant"}]
    rows = [{"key": "team", "values": [{"value": "assistant", "owner": "CC-1202", "aliases": ["bot"]}]}]
    errors, result = _import(world.org("a"), rows, owner_rows)
    assert errors == []
    assert result == {"created": 1, "updated": 0, "unchanged": 1}
    with scope(organization=world.org("a")):
        assistant = TagValue.objects.get(value="assistant")
        assert (assistant.owner.code, list(assistant.aliases.values_list("alias", flat=True))) == ("CC-1202", ["bot"])


def test_inactive_owner_is_refused(world, taxonomy):
    with scope(organization=world.org("a")):
        BudgetOwnerFactory(organization=world.org("a"), code="CC-OLD", is_active=False)
    errors, _ = _import(world.org("a"), [{"key": "team", "values": [{"value": "x", "owner": "CC-OLD"}]}])
    assert errors == [
        ("taxonomy[team]", "values[x].owner", "CC-OLD is inactive: reactivate it or name another cost centre.")
    ]


def test_an_alias_moves_between_values_in_one_import(world, taxonomy):
    rows = [
        {
            "key": "environment",
            "values": [
                {"value": "staging", "aliases": ["stg", "prod"]},  # listed first on purpose
                {"value": "production", "aliases": ["prd"]},
                {"value": "Development", "aliases": ["dev"]},
            ],
        }
    ]
    errors, result = _import(world.org("a"), rows)
    assert errors == []
    assert result == {"created": 1, "updated": 2, "unchanged": 1}
    with scope(organization=world.org("a")):
        aliases = dict(TagAlias.objects.values_list("alias", "value__value"))
    assert aliases == {"stg": "staging", "prod": "staging", "prd": "production", "dev": "development"}


def test_an_alias_that_stays_with_a_value_outside_the_file_is_a_conflict(world, taxonomy):
    errors, _ = _import(world.org("a"), [{"key": "environment", "values": [{"value": "qa", "aliases": ["prod"]}]}])
    assert errors == [("taxonomy[environment]", "values[qa].aliases", "“prod” is already an alias of production.")]
    errors, _ = _import(world.org("a"), [{"key": "environment", "values": [{"value": "PROD"}]}])
    assert errors == [("taxonomy[environment]", "values[PROD].value", "prod is an alias of production.")]


def test_case_rule_change_conflicting_with_stored_values_is_reported(world, taxonomy):
    errors, _ = _import(world.org("a"), [{"key": "team", "case_rule": "upper"}])
    assert errors[0][:2] == ("taxonomy[team]", "case_rule")
    assert "search, support" in errors[0][2]
