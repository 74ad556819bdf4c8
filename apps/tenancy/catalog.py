"""The organisation catalog as files: one YAML or JSON document holding every section, or one section as
CSV. ``import_catalog`` and ``export_catalog`` are thin wrappers over this module.

Each section is provided by the app that owns the data: its ``catalog_io`` module builds a
``CatalogSection`` (``export_section``, ``validate_section``, ``apply_section``, the CSV columns,
``rows_from_csv`` and ``rows_to_csv``) and the app registers it with ``register_catalog_section`` from its
``AppConfig.ready()`` (owners registers ``budget_owners`` and ``budgets``, taxonomy ``taxonomy``, pricing
``price_overrides``). Tenancy imports none of them.

The file format itself is this module's: ``SECTION_NAMES`` lists its sections in dependency order, so the
order of a file and of an import does not depend on the order in which apps happen to register.

An import validates every section first, in dependency order with one shared ``context`` (so the
taxonomy may name a cost centre created by the same file), and writes nothing when any row is
invalid. Only then are all sections applied, in one transaction.
"""

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction
from django.utils import timezone

from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped

# Dependency order: budgets name cost centres, taxonomy values name cost centres, price overrides
# name providers and models of the price book. Import validates and applies in this order.
SECTION_NAMES: list[str] = ["budget_owners", "budgets", "taxonomy", "org_models", "price_overrides"]
DOCUMENT_KEYS = {"organization", "exported_at"}  # informational; ignored on import
FORMATS = ("yaml", "json", "csv")

Error = tuple[str, str, str]  # (row label such as "budgets[CC-1101 2026-10]" or a section name, field, message)


class CatalogFileError(Exception):
    """The file cannot be read as a catalog at all (bad syntax, wrong shape, unknown format)."""


class SectionUnavailable(Exception):
    """A section is named that this installation cannot read or write (no installed app provides it)."""


@dataclass(frozen=True)
class CatalogSection:
    name: str
    csv_columns: list[str]
    export_section: Callable[..., list[dict]]
    validate_section: Callable[..., list[Error]]
    apply_section: Callable[..., dict]
    rows_from_csv: Callable[[str], list[dict]]
    rows_to_csv: Callable[[list[dict]], str]


_sections: dict[str, CatalogSection] = {}


def register_catalog_section(section: CatalogSection) -> None:
    """Provide one section of the catalog file (from the owning app's ``AppConfig.ready()``).
    Registering the same section again replaces it; a name the file format does not know is a
    programming error."""
    if section.name not in SECTION_NAMES:
        raise ValueError(
            f"The catalog file has no section {section.name!r}: add it to SECTION_NAMES in its dependency order."
        )
    _sections[section.name] = section


def catalog_section(name: str) -> CatalogSection:
    """The functions of one section. Raises ``SectionUnavailable`` for an unknown section or one that no
    installed app provides."""
    if name not in SECTION_NAMES:
        raise SectionUnavailable(f"Unknown section {name!r}; the sections are {', '.join(SECTION_NAMES)}.")
    section = _sections.get(name)
    if section is None:
        raise SectionUnavailable(
            f"The {name} section cannot be imported or exported here: no installed app provides it."
        )
    return section


def available_sections() -> list[str]:
    """The sections this installation can read and write, in dependency order."""
    return [name for name in SECTION_NAMES if name in _sections]


# --- export -------------------------------------------------------------------------------------------


@tenant_scoped
def catalog_export(*, organization: Organization, sections: list[str] | None = None) -> dict:
    """The catalog document of one organisation: ``organization``, ``exported_at`` and one list of rows per
    section (every available section unless ``sections`` names some)."""
    names = sections if sections is not None else available_sections()
    document: dict = {
        "organization": organization.slug,
        "exported_at": timezone.now().replace(microsecond=0).isoformat(),
    }
    for name in names:
        document[name] = catalog_section(name).export_section(organization=organization)
    return document


def document_dump(document: dict, *, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
    raise CatalogFileError(f"Unknown format {fmt!r}: use yaml or json (csv needs one section).")


# --- reading files ------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping: YAML would silently keep the last one,
    and a section or a field that silently disappears is the worst kind of import error."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str | int | bool | float) or key is None:
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice",
                    key_node.start_mark,
                )
            seen[key] = True
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def format_of(path: str) -> str:
    suffix = Path(path).suffix.casefold()
    if suffix == ".json":
        return "json"
    if suffix == ".csv":
        return "csv"
    return "yaml"  # .yaml, .yml and anything else: YAML also reads JSON


def _load_yaml(text: str):
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
        detail = f"{context}: {problem}" if context else problem
        raise CatalogFileError(f"not valid YAML at {where}: {detail}") from exc


def _load_json(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogFileError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc


@dataclass
class CatalogFile:
    """The sections read from a file (name -> rows, in dependency order) and the problems of its shape."""

    sections: dict[str, list] = field(default_factory=dict)
    errors: list[Error] = field(default_factory=list)


def catalog_file_read(*, text: str, fmt: str, section: str | None = None) -> CatalogFile:
    """Parse a catalog file. A CSV holds the one ``section``; a YAML/JSON document holds every section it
    names (only ``section`` is kept when one is given). Raises ``CatalogFileError`` when the text cannot be
    parsed; reports unknown or badly shaped sections as errors, so they are listed with the rows' errors."""
    result = CatalogFile()
    if fmt == "csv":
        if section is None:
            raise CatalogFileError("a CSV file holds one section: name it with --section.")
        try:
            rows = catalog_section(section).rows_from_csv(text)
        except SectionUnavailable as exc:
            result.errors.append((section, "", str(exc)))
            return result
        except csv.Error as exc:
            raise CatalogFileError(f"not valid CSV: {exc}") from exc
        result.sections[section] = rows
        return result

    document = _load_json(text) if fmt == "json" else _load_yaml(text)
    if document is None:
        raise CatalogFileError("the file is empty.")
    if not isinstance(document, dict):
        raise CatalogFileError(
            f"the file must be a mapping of section names ({', '.join(SECTION_NAMES)}) to lists of rows."
        )
    for key in document:
        if key in DOCUMENT_KEYS or key in SECTION_NAMES:
            continue
        result.errors.append((str(key), "", f"Unknown section; the sections are {', '.join(SECTION_NAMES)}."))
    if section is not None and section not in document:
        result.errors.append((section, "", "This section is not in the file."))
    for name in SECTION_NAMES:
        if name not in document or (section is not None and name != section):
            continue
        rows = document[name]
        if rows is None:
            rows = []
        if not isinstance(rows, list):
            result.errors.append((name, "", "Give the section as a list of rows."))
            continue
        try:
            catalog_section(name)
        except SectionUnavailable as exc:
            result.errors.append((name, "", str(exc)))
            continue
        result.sections[name] = rows
    return result


# --- validate and apply -------------------------------------------------------------------------------


@dataclass
class CatalogImport:
    errors: list[Error]
    counts: dict[str, dict[str, int]]  # section -> {"created", "updated", "unchanged"}; empty when errors
    written: bool  # False for a dry run and whenever there are errors


class _DryRunRollback(Exception):
    pass


@tenant_scoped
def catalog_validate(*, organization: Organization, sections: dict[str, list]) -> list[Error]:
    """Every error of every section, in dependency order. Writes nothing."""
    context: dict = {}
    errors: list[Error] = []
    for name in SECTION_NAMES:
        if name in sections:
            errors.extend(
                catalog_section(name).validate_section(organization=organization, rows=sections[name], context=context)
            )
    return errors


@tenant_scoped
def catalog_import(
    *, organization: Organization, sections: dict[str, list], actor=None, dry_run: bool = False
) -> CatalogImport:
    """Validate every section; when all are valid, apply them in one transaction (rolled back again for a
    dry run, so its counts are exactly what a real import would do). Nothing is written when any row is
    invalid."""
    errors = catalog_validate(organization=organization, sections=sections)
    if errors:
        return CatalogImport(errors=errors, counts={}, written=False)
    counts: dict[str, dict[str, int]] = {}
    try:
        with transaction.atomic():
            for name in SECTION_NAMES:
                if name in sections:
                    counts[name] = catalog_section(name).apply_section(
                        organization=organization, rows=sections[name], actor=actor
                    )
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        return CatalogImport(errors=[], counts=counts, written=False)
    return CatalogImport(errors=[], counts=counts, written=True)


def error_line(path: str, error: Error) -> str:
    label, field_name, message = error
    return f"{path}: {label}: {field_name}: {message}" if field_name else f"{path}: {label}: {message}"
