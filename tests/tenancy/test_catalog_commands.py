"""import_catalog / export_catalog: every section in one file, validate-everything-then-apply, CSV, dry run,
and the tenant boundary."""

import copy
import dataclasses
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scope, scopes_disabled

from apps.audit.models import AuditEvent
from apps.owners import catalog_io as owners_io
from apps.owners.demo import owner_rows
from apps.owners.models import Budget, BudgetOwner
from apps.pricing.models import PriceOverride
from apps.taxonomy.models import TagAlias, TagDimension, TagValue
from apps.tenancy import catalog
from apps.tenancy.models import Membership, Organization
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

TAXONOMY_ROWS = [
    {
        "key": "team",
        "label": "Team",
        "description": "The team that made the request.",
        "required": True,
        "case_rule": "lower",
        "position": 10,
        "is_active": True,
        "values": [
            {"value": "search", "description": "", "owner": "CC-1101", "is_active": True, "aliases": ["srch"]},
            {"value": "platform", "description": "", "owner": "CC-9001", "is_active": True, "aliases": []},
        ],
    },
    {
        "key": "environment",
        "label": "Environment",
        "description": "",
        "required": True,
        "case_rule": "lower",
        "position": 20,
        "is_active": True,
        "values": [
            {"value": "production", "description": "", "owner": None, "is_active": True, "aliases": ["prd", "prod"]},
            {"value": "staging", "description": "", "owner": None, "is_active": False, "aliases": []},
        ],
    },
]


PRICE_OVERRIDE_ROWS = [
    {
        "provider": "anthropic",
        "model": "",
        "usage_type": "",
        "service_tier": "",
        "price": None,
        "unit": "",
        "discount_pct": "8",
        "effective_from": "2026-01-01",
        "effective_to": None,
        "note": "Enterprise agreement EA-2026-114",
        "is_active": True,
    },
    {
        "provider": "openai",
        "model": "gpt-4o",
        "usage_type": "input",
        "service_tier": "standard",
        "price": "2.25",
        "unit": "1m_tokens",
        "discount_pct": None,
        "effective_from": "2026-03-01",
        "effective_to": "2027-03-01",
        "note": "",
        "is_active": True,
    },
]


def _run(command: str, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _fails(command: str, *args) -> tuple[str, str, CommandError]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(command, *args, stdout=out, stderr=err)
    assert caught.value.returncode == 1
    return out.getvalue(), err.getvalue(), caught.value


def _state(organization: Organization) -> tuple[int, ...]:
    with scope(organization=organization):
        return (
            BudgetOwner.objects.count(),
            Budget.objects.count(),
            TagDimension.objects.count(),
            TagValue.objects.count(),
            TagAlias.objects.count(),
            PriceOverride.objects.count(),
            AuditEvent.objects.count(),
        )


def _sections(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in ("organization", "exported_at")}


# A month of budgets for the demo's twelve team-level cost centres.
JULY_BUDGETS = {
    "CC-1101": "18000.00",
    "CC-1102": "12000.00",
    "CC-1201": "9000.00",
    "CC-1202": "15000.00",
    "CC-1301": "7000.00",
    "CC-1302": "22000.00",
    "CC-2101": "4000.00",
    "CC-2102": "3000.00",
    "CC-2103": "1500.00",
    "CC-2104": "1200.00",
    "CC-9001": "10000.00",
    "CC-9002": "2500.00",
}


def _catalog_document(world) -> dict:
    """The demo cost centres and budgets, owned by org "a"'s budget owner, and a small taxonomy."""
    organization = world.org("a")
    owners = owner_rows(organization=organization)
    for row in owners:
        if row["owner_users"]:
            row["owner_users"] = [world.user("a", Role.BUDGET_OWNER).username]
    return {
        "budget_owners": owners,
        "budgets": [
            {"owner": code, "period": "2026-07", "amount": amount, "currency": "USD"}
            for code, amount in JULY_BUDGETS.items()
        ],
        "taxonomy": copy.deepcopy(TAXONOMY_ROWS),
        "price_overrides": copy.deepcopy(PRICE_OVERRIDE_ROWS),
    }


def _write(tmp_path, name: str, document) -> str:
    path = tmp_path / name
    if isinstance(document, str):
        path.write_text(document, encoding="utf-8")
    elif name.endswith(".json"):
        path.write_text(json.dumps(document), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture(autouse=True)
def _price_book(price_book):
    """Price overrides name providers and models of the shipped price book (global reference data)."""


@pytest.fixture
def catalog_file(world, tmp_path) -> str:
    return _write(tmp_path, "catalog.yaml", _catalog_document(world))


def test_sections_are_registered_by_their_apps_and_kept_in_dependency_order():
    assert catalog.SECTION_NAMES == ["budget_owners", "budgets", "taxonomy", "org_models", "price_overrides"]
    assert catalog.available_sections() == catalog.SECTION_NAMES
    budgets = catalog.catalog_section("budgets")
    assert budgets.csv_columns == ["owner", "period", "amount", "currency"]
    assert budgets.validate_section is owners_io.validate_budgets


def test_the_file_order_does_not_follow_the_order_apps_register_in(monkeypatch):
    registered = dict(catalog._sections)
    monkeypatch.setattr(catalog, "_sections", {})
    for name in reversed(list(registered)):
        catalog.register_catalog_section(registered[name])
    assert catalog.available_sections() == catalog.SECTION_NAMES


def test_a_section_the_file_format_does_not_know_cannot_register():
    section = dataclasses.replace(catalog.catalog_section("budgets"), name="forecasts")
    with pytest.raises(ValueError, match="no section 'forecasts'"):
        catalog.register_catalog_section(section)
    assert catalog.available_sections() == catalog.SECTION_NAMES


def test_import_creates_every_section_and_a_second_import_changes_nothing(world, catalog_file):
    a = world.org("a")
    before = _state(a)

    out, err = _run("import_catalog", catalog_file, "--org", a.slug)

    assert err == ""
    assert out.splitlines() == [
        "budget_owners: 18 created, 0 updated, 0 unchanged",
        "budgets: 12 created, 0 updated, 0 unchanged",
        "taxonomy: 6 created, 0 updated, 0 unchanged",  # 2 dimensions + 4 values
        "price_overrides: 2 created, 0 updated, 0 unchanged",
    ]
    after = _state(a)
    assert after[:6] == (18, 12, 2, 4, 3, 2)
    assert after[6] - before[6] >= 18 + 12 + 6 + 2  # at least one audit event per created row
    with scope(organization=a):
        search = BudgetOwner.objects.get(code="CC-1101")
        assert search.parent.code == "CC-1100"
        assert TagValue.objects.get(value="search").owner == search
        events = AuditEvent.objects.filter(seq__gt=before[6])
        assert {event.actor_label for event in events} == {"system"}

    out, _ = _run("import_catalog", catalog_file, "--org", a.slug)
    assert out.splitlines() == [
        "budget_owners: 0 created, 0 updated, 18 unchanged",
        "budgets: 0 created, 0 updated, 12 unchanged",
        "taxonomy: 0 created, 0 updated, 6 unchanged",
        "price_overrides: 0 created, 0 updated, 2 unchanged",
    ]
    assert _state(a) == after  # re-importing the same file writes no audit event either


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_import_into_the_other_org_and_export_again_gives_the_same_sections(world, catalog_file, tmp_path, fmt):
    a, b = world.org("a"), world.org("b")
    _run("import_catalog", catalog_file, "--org", a.slug)
    with scope(organization=b):
        MembershipFactory(organization=b, user=world.user("a", Role.BUDGET_OWNER), role=Role.BUDGET_OWNER)
    exported = tmp_path / f"alpha.{fmt}"

    _run("export_catalog", "--org", a.slug, "--format", fmt, "--output", str(exported))
    _run("import_catalog", str(exported), "--org", b.slug)
    again, _ = _run("export_catalog", "--org", b.slug, "--format", fmt)

    first = yaml.safe_load(exported.read_text()) if fmt == "yaml" else json.loads(exported.read_text())
    second = yaml.safe_load(again) if fmt == "yaml" else json.loads(again)
    assert first["organization"] == "alpha"
    assert second["organization"] == "beta"
    assert list(first) == ["organization", "exported_at", *catalog.available_sections()]
    assert _sections(second) == _sections(first)
    assert len(first["budget_owners"]) == 18
    assert first["budgets"][0] == {"owner": "CC-1101", "period": "2026-07", "amount": "18000.00", "currency": "USD"}
    assert first["taxonomy"][1]["values"][0]["aliases"] == ["prd", "prod"]


def test_the_demo_catalog_of_acme_round_trips_through_yaml(tmp_path):
    call_command("seed_demo", stdout=StringIO())
    acme = Organization.objects.get(slug="acme")
    fresh = Organization.objects.create(slug="initech", name="Initech", base_currency="USD")
    with scopes_disabled():
        owner = Membership.objects.get(organization=acme, user__username="acme-owner").user
    with scope(organization=fresh):
        Membership.objects.create(organization=fresh, user=owner, role=Role.BUDGET_OWNER)
    exported = tmp_path / "acme.yaml"

    _run("export_catalog", "--org", "acme", "--output", str(exported))
    out, _ = _run("import_catalog", str(exported), "--org", "initech")
    again, _ = _run("export_catalog", "--org", "initech")

    first, second = yaml.safe_load(exported.read_text()), yaml.safe_load(again)
    assert _sections(second) == _sections(first)
    assert len(first["budget_owners"]) == 18
    assert [row["key"] for row in first["taxonomy"]] == [
        "team",
        "feature",
        "workspace",
        "environment",
        "provider",
        "customer",
    ]
    assert "budget_owners: 18 created, 0 updated, 0 unchanged" in out.splitlines()


def test_every_error_in_every_section_is_listed_and_nothing_is_written(world, tmp_path):
    a = world.org("a")
    document = _catalog_document(world)
    document["budget_owners"][2]["parent"] = "CC-7777"  # CC-1101
    document["budget_owners"][3]["is_central"] = "sometimes"  # CC-1102
    document["budgets"][0]["amount"] = 18000.5  # a YAML float
    document["budgets"][1]["period"] = "October"
    document["taxonomy"][0]["values"][1]["owner"] = "CC-4040"
    document["price_overrides"][1]["model"] = "gpt-9"
    document["price_overrides"][1]["price"] = 2.25
    path = _write(tmp_path, "broken.yaml", document)
    before = _state(a)

    out, err, error = _fails("import_catalog", path, "--org", a.slug)

    assert out == ""
    assert err.splitlines() == [
        f"{path}: budget_owners[CC-1101]: parent: No cost centre has the code 'CC-7777', here or in the file.",
        f"{path}: budget_owners[CC-1102]: is_central: Use true or false.",
        f'{path}: budgets[CC-1101 2026-07]: amount: Write the amount as a string, e.g. "12500.00", so no cent is lost.',
        f"{path}: budgets[CC-1102 October]: period: Give the month as YYYY-MM, e.g. 2026-10.",
        f"{path}: taxonomy[team]: values[platform].owner: No cost centre has the code 'CC-4040' (neither in this "
        "organisation nor in the file).",
        f"{path}: price_overrides[openai/gpt-9 input standard 2026-03-01]: model: OpenAI has no model 'gpt-9'.",
        f"{path}: price_overrides[openai/gpt-9 input standard 2026-03-01]: price: Write the number as a string, "
        'e.g. "2.25", so no digit is lost.',
    ]
    assert str(error) == f"{path}: 7 error(s); nothing was imported."
    assert _state(a) == before  # no row and no audit event


def test_json_output_lists_the_errors_as_data(world, tmp_path):
    a = world.org("a")
    document = _catalog_document(world)
    document["budgets"][1]["period"] = "October"
    path = _write(tmp_path, "broken.json", document)

    out, _, _ = _fails("import_catalog", path, "--org", a.slug, "--json")

    payload = json.loads(out)
    assert payload["ok"] is False
    assert payload["written"] is False
    assert payload["errors"] == [
        {"row": "budgets[CC-1102 October]", "field": "period", "message": "Give the month as YYYY-MM, e.g. 2026-10."}
    ]
    assert payload["sections"] == {}


def test_an_unknown_section_is_an_error_and_blocks_the_valid_ones(world, tmp_path):
    a = world.org("a")
    document = {**_catalog_document(world), "cost_centres": [{"code": "CC-1"}]}
    path = _write(tmp_path, "catalog.yaml", document)
    before = _state(a)

    _, err, _ = _fails("import_catalog", path, "--org", a.slug)

    assert err.splitlines() == [
        f"{path}: cost_centres: Unknown section; the sections are budget_owners, budgets, taxonomy, org_models, "
        "price_overrides."
    ]
    assert _state(a) == before


def test_a_section_that_is_not_a_list_is_reported(world, tmp_path):
    path = _write(tmp_path, "catalog.yaml", "budget_owners:\n  code: CC-1\n")

    _, err, _ = _fails("import_catalog", path, "--org", world.org("a").slug)

    assert err.splitlines() == [f"{path}: budget_owners: Give the section as a list of rows."]


def test_malformed_yaml_names_the_line(world, tmp_path):
    path = _write(
        tmp_path,
        "catalog.yaml",
        "budget_owners:\n  - code: CC-1000\n    name: Engineering\n   parent: [unclosed\n",
    )
    before = _state(world.org("a"))

    _, _, error = _fails("import_catalog", path, "--org", world.org("a").slug)

    assert str(error).startswith(f"{path}: not valid YAML at line 4, column 4:")
    assert _state(world.org("a")) == before


def test_a_key_given_twice_is_refused_rather_than_silently_dropped(world, tmp_path):
    path = _write(
        tmp_path,
        "catalog.yaml",
        "budget_owners:\n  - code: CC-1000\n    name: Engineering\n    name: Product\n",
    )

    _, _, error = _fails("import_catalog", path, "--org", world.org("a").slug)

    assert (
        str(error) == f"{path}: not valid YAML at line 4, column 5: while reading a mapping: found the key 'name' twice"
    )


def test_malformed_json_names_the_line(world, tmp_path):
    path = _write(tmp_path, "catalog.json", '{\n  "budget_owners": [\n    {"code": "CC-1000",}\n  ]\n}\n')

    _, _, error = _fails("import_catalog", path, "--org", world.org("a").slug)

    assert str(error).startswith(f"{path}: not valid JSON at line 3, column")


def test_dry_run_counts_the_changes_and_writes_nothing(world, catalog_file):
    a = world.org("a")
    before = _state(a)

    out, _ = _run("import_catalog", catalog_file, "--org", a.slug, "--dry-run")

    assert out.splitlines() == [
        "budget_owners: 18 created, 0 updated, 0 unchanged",
        "budgets: 12 created, 0 updated, 0 unchanged",
        "taxonomy: 6 created, 0 updated, 0 unchanged",
        "price_overrides: 2 created, 0 updated, 0 unchanged",
        "Dry run: these are the changes an import would make; nothing was written.",
    ]
    assert _state(a) == before


def test_dry_run_with_json_reports_counts_and_not_written(world, catalog_file):
    out, _ = _run("import_catalog", catalog_file, "--org", world.org("a").slug, "--dry-run", "--json")

    payload = json.loads(out)
    assert payload["ok"] is True
    assert payload["written"] is False
    assert payload["sections"]["budgets"] == {"created": 12, "updated": 0, "unchanged": 0}


def test_csv_import_of_budget_owners(world, tmp_path):
    a = world.org("a")
    text = (
        "code,name,parent,gl_account,department,company_code,erp_class,location,owner_users,is_active,is_central\n"
        "CC-1000,Engineering,,6420-AI,ENG,US01,R&D,US-SFO,,true,false\n"
        f"CC-1100,Search,CC-1000,6420-AI,ENG-SEARCH,US01,R&D,US-SFO,{world.user('a', Role.BUDGET_OWNER)},,\n"
    )
    path = _write(tmp_path, "owners.csv", text)

    out, _ = _run("import_catalog", path, "--org", a.slug, "--section", "budget_owners")

    assert out.splitlines() == ["budget_owners: 2 created, 0 updated, 0 unchanged"]
    with scope(organization=a):
        search = BudgetOwner.objects.get(code="CC-1100")
        assert (search.parent.code, search.department, search.is_active) == ("CC-1000", "ENG-SEARCH", True)
        assert list(search.owner_users.values_list("username", flat=True)) == ["alpha-budget_owner"]
    exported, _ = _run("export_catalog", "--org", a.slug, "--section", "budget_owners", "--format", "csv")
    assert exported.splitlines()[2] == (
        '"CC-1100","Search","CC-1000","6420-AI","ENG-SEARCH","US01","R&D","US-SFO","alpha-budget_owner","true","false"'
    )


def test_csv_errors_carry_the_row_label(world, tmp_path):
    text = "owner,period,amount,currency\nCC-404,2026-10,100.00,USD\n"
    path = _write(tmp_path, "budgets.csv", text)

    _, err, _ = _fails("import_catalog", path, "--org", world.org("a").slug, "--section", "budgets")

    assert err.splitlines() == [
        f"{path}: budgets[CC-404 2026-10]: owner: No cost centre has the code 'CC-404', here or in the file."
    ]


def test_csv_needs_a_section(world, tmp_path):
    path = _write(tmp_path, "owners.csv", "code,name\nCC-1,One\n")

    _, _, error = _fails("import_catalog", path, "--org", world.org("a").slug)

    assert str(error) == f"{path}: a CSV file holds one section: name it with --section."


def test_section_option_imports_only_that_section_of_a_document(world, catalog_file):
    a = world.org("a")

    out, _ = _run("import_catalog", catalog_file, "--org", a.slug, "--section", "budget_owners")

    assert out.splitlines() == ["budget_owners: 18 created, 0 updated, 0 unchanged"]
    assert _state(a)[:6] == (18, 0, 0, 0, 0, 0)


def test_an_unknown_organisation_or_missing_file_is_a_clear_error(world, catalog_file, tmp_path):
    assert str(_fails("import_catalog", catalog_file, "--org", "nope")[2]) == "No organisation has the slug 'nope'."
    missing = str(tmp_path / "missing.yaml")
    error = _fails("import_catalog", missing, "--org", world.org("a").slug)[2]
    assert str(error).startswith(f"{missing}: cannot read the file:")
    assert str(_fails("export_catalog", "--org", "nope")[2]) == "No organisation has the slug 'nope'."
    assert str(_fails("export_catalog", "--org", world.org("a").slug, "--format", "csv")[2]) == (
        "CSV holds one section: add --section NAME."
    )


def test_importing_into_b_never_touches_a(world, catalog_file, tmp_path):
    a, b = world.org("a"), world.org("b")
    _run("import_catalog", catalog_file, "--org", a.slug)
    a_before = _state(a)
    a_export = _sections(yaml.safe_load(_run("export_catalog", "--org", a.slug)[0]))
    with scope(organization=b):
        MembershipFactory(organization=b, user=world.user("a", Role.BUDGET_OWNER), role=Role.BUDGET_OWNER)
    changed = _catalog_document(world)
    for row in changed["budget_owners"]:
        row["name"] = f"Beta {row['name']}"
    changed["taxonomy"][0]["values"][0]["aliases"] = ["find"]
    path = _write(tmp_path, "beta.yaml", changed)

    _run("import_catalog", path, "--org", b.slug)

    assert _state(a) == a_before
    assert _sections(yaml.safe_load(_run("export_catalog", "--org", a.slug)[0])) == a_export
    with scope(organization=b):
        assert BudgetOwner.objects.get(code="CC-1101").name == "Beta Search"
        assert list(TagAlias.objects.values_list("alias", flat=True).order_by("alias")) == ["find", "prd", "prod"]
    with scopes_disabled():
        assert not AuditEvent.objects.filter(organization=a, seq__gt=a_before[6]).exists()


def test_a_file_naming_a_cost_centre_of_the_other_org_is_refused(world, catalog_file, tmp_path):
    a, b = world.org("a"), world.org("b")
    _run("import_catalog", catalog_file, "--org", a.slug)
    path = _write(tmp_path, "budgets.yaml", {"budgets": [{"owner": "CC-1101", "period": "2026-10", "amount": "1"}]})
    before = _state(b)

    _, err, _ = _fails("import_catalog", path, "--org", b.slug)

    assert err.splitlines() == [
        f"{path}: budgets[CC-1101 2026-10]: owner: No cost centre has the code 'CC-1101', here or in the file."
    ]
    assert _state(b) == before


def test_the_example_file_in_the_readme_imports_cleanly(world):
    a = world.org("a")
    with scope(organization=a):
        MembershipFactory(organization=a, user=UserFactory(username="acme-owner"), role=Role.BUDGET_OWNER)
    example = str(Path(catalog.__file__).with_name("catalog_example.yaml"))

    out, _ = _run("import_catalog", example, "--org", a.slug)

    assert out.splitlines() == [
        "budget_owners: 3 created, 0 updated, 0 unchanged",
        "budgets: 2 created, 0 updated, 0 unchanged",
        "taxonomy: 6 created, 0 updated, 0 unchanged",
        "price_overrides: 2 created, 0 updated, 0 unchanged",
    ]
    with scope(organization=a):
        assert TagAlias.objects.get(alias="search-team").value.owner.code == "CC-1101"
        assert PriceOverride.objects.get(model__code="gpt-4o").price == Decimal("2.25")


def test_the_short_example_in_the_readme_imports_cleanly(world, tmp_path):
    a = world.org("a")
    with scope(organization=a):
        MembershipFactory(organization=a, user=UserFactory(username="acme-owner"), role=Role.BUDGET_OWNER)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Catalog: taxonomy, cost centres and prices as files", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = _write(tmp_path, "readme.yaml", example)

    out, _ = _run("import_catalog", path, "--org", a.slug)

    assert out.splitlines() == [
        "budget_owners: 2 created, 0 updated, 0 unchanged",
        "budgets: 1 created, 0 updated, 0 unchanged",
        "taxonomy: 3 created, 0 updated, 0 unchanged",
        "org_models: 2 created, 0 updated, 0 unchanged",
        "price_overrides: 3 created, 0 updated, 0 unchanged",
    ]


def test_a_section_no_installed_app_registers_fails_only_when_the_file_uses_it(world, tmp_path, monkeypatch):
    a = world.org("a")
    monkeypatch.delitem(catalog._sections, "price_overrides")
    path = _write(tmp_path, "prices.yaml", {**_catalog_document(world), "price_overrides": [{"provider": "openai"}]})
    before = _state(a)

    _, err, _ = _fails("import_catalog", path, "--org", a.slug)

    assert err.splitlines() == [
        f"{path}: price_overrides: The price_overrides section cannot be imported or exported here: "
        "no installed app provides it."
    ]
    assert _state(a) == before
    document = _catalog_document(world)
    del document["price_overrides"]
    out, _ = _run("import_catalog", _write(tmp_path, "no-prices.yaml", document), "--org", a.slug)
    assert out.splitlines()[0] == "budget_owners: 18 created, 0 updated, 0 unchanged"
    exported, warning = _run("export_catalog", "--org", a.slug)
    assert warning == "warning: the price_overrides section is not available here and is left out.\n"
    assert "price_overrides" not in yaml.safe_load(exported)
