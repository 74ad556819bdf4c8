"""Reading the price book into plain records. No database here: the loader in
``services.price_book_load`` upserts what this returns.

The shipped book is two files in one layout (described at the top of ``data/corrections.yaml``):
``data/upstream/genai-prices.yaml``, generated from the pinned genai-prices package by
``import_genai_prices`` (never edited by hand), and ``data/corrections.yaml``, this project's reviewed
rows, each with a reason and a source. ``read_price_book()`` merges them: a correction replaces the
upstream row with the same key. A single file (``read_price_book(path)``) is read as it is."""

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from .constants import SERVICE_TIERS, TOKEN_USAGE_TYPES, UNIT_DIVISORS
from .estimator import PriceBook, PriceRule
from .upstream import UNDATED_FROM

DATA_DIR = Path(__file__).resolve().parent / "data"
CORRECTIONS_PATH = DATA_DIR / "corrections.yaml"
UPSTREAM_PATH = DATA_DIR / "upstream" / "genai-prices.yaml"
DEFAULT_PATH = CORRECTIONS_PATH  # kept for callers that name "the shipped file"
REGION_SCOPES = ("", "global", "regional")
ORIGINS = ("upstream", "correction")
# Audio and image tokens are priced per token like text (the modality usage types of the vocabulary).
MODALITY_TOKEN_TYPES = ("input_audio", "output_audio", "cache_read_audio", "input_image", "output_image")
BOOK_TOKEN_TYPES = frozenset(TOKEN_USAGE_TYPES) | frozenset(MODALITY_TOKEN_TYPES)
USAGE_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
PRICE_PLACES = 10


class PriceBookFileError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("the price book file is invalid:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class ProviderRecord:
    code: str
    name: str
    pricing_url: str


@dataclass(frozen=True)
class ModelRecord:
    provider: str
    code: str
    display_name: str
    is_active: bool


@dataclass(frozen=True)
class AliasRecord:
    provider: str
    alias: str
    model: str


@dataclass(frozen=True)
class RowRecord:
    provider: str
    model: str
    service_tier: str
    usage_type: str
    unit: str
    price: Decimal
    currency: str
    effective_from: date
    effective_to: date | None
    min_context_tokens: int | None
    source: str
    source_date: date
    region_scope: str = ""
    origin: str = "correction"
    reason: str = ""

    @property
    def natural_key(self) -> tuple:
        return (
            self.provider,
            self.model,
            self.region_scope,
            self.service_tier,
            self.usage_type,
            self.min_context_tokens,
            self.effective_from,
        )


@dataclass(frozen=True)
class PriceBookFile:
    providers: list[ProviderRecord]
    models: list[ModelRecord]
    aliases: list[AliasRecord]
    rows: list[RowRecord]


def _date(value, where: str, problems: list[str]) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(f"{where}: {value!r} is not a date (YYYY-MM-DD)")
    return None


def _price(value, where: str, problems: list[str]) -> Decimal | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        problems.append(f'{where}: write the price as a quoted string such as "2.50" (got {value!r})')
        return None
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        problems.append(f"{where}: {value!r} is not a price")
        return None
    if not price.is_finite() or price < 0:
        problems.append(f"{where}: a price must be zero or more")
        return None
    if price != price.quantize(Decimal(1).scaleb(-PRICE_PLACES)) or price >= Decimal(10) ** 10:
        problems.append(f"{where}: a price has at most 10 digits before and 10 after the decimal point")
        return None
    return price


def parse_price_book(data, *, origin: str = "correction", require_reason: bool = False) -> PriceBookFile:
    """Check and flatten a loaded YAML document. Raises PriceBookFileError listing every problem.
    ``require_reason``: every block needs a ``reason`` (its own, its model's or its provider's)."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("providers"), list):
        raise PriceBookFileError(["the file needs a top-level `providers:` list"])
    currency = str(data.get("currency", "USD"))
    providers, models, aliases, rows = [], [], [], []
    seen_rows: set[tuple] = set()
    for p_index, provider in enumerate(data["providers"]):
        where = f"providers[{p_index}]"
        code = str(provider.get("code", "")) if isinstance(provider, dict) else ""
        if not CODE_PATTERN.match(code):
            problems.append(f"{where}: needs a lower-case `code`")
            continue
        where = f"providers[{code}]"
        source = str(provider.get("source", ""))
        provider_reason = str(provider.get("reason") or "")
        source_date = _date(provider.get("source_date"), f"{where}.source_date", problems)
        providers.append(ProviderRecord(code=code, name=str(provider.get("name") or code), pricing_url=source))
        model_codes: list[str] = []
        for m_index, model in enumerate(provider.get("models") or []):
            m_code = str(model.get("code", "")) if isinstance(model, dict) else ""
            if not CODE_PATTERN.match(m_code):
                problems.append(f"{where}.models[{m_index}]: needs a lower-case `code`")
                continue
            m_where = f"{code}/{m_code}"
            if m_code in model_codes:
                problems.append(f"{m_where}: listed twice")
                continue
            model_codes.append(m_code)
            models.append(
                ModelRecord(
                    provider=code,
                    code=m_code,
                    display_name=str(model.get("name") or m_code),
                    is_active=bool(model.get("active", True)),
                )
            )
            for alias in model.get("aliases") or []:
                aliases.append(AliasRecord(provider=code, alias=str(alias).strip().lower(), model=m_code))
            model_reason = str(model.get("reason") or provider_reason)
            for b_index, block in enumerate(model.get("prices") or []):
                rows.extend(
                    _block_rows(
                        block,
                        where=f"{m_where}.prices[{b_index}]",
                        provider=code,
                        models=[m_code],
                        currency=currency,
                        source=str(model.get("source") or source),
                        source_date=source_date,
                        problems=problems,
                        origin=origin,
                        reason=model_reason,
                        require_reason=require_reason,
                    )
                )
        for t_index, tool in enumerate(provider.get("tools") or []):
            t_where = f"{where}.tools[{t_index}]"
            targets = tool.get("models", "all") if isinstance(tool, dict) else None
            if targets == "all":
                targets = model_codes
            unknown = [t for t in targets or [] if t not in model_codes]
            if not isinstance(targets, list) or unknown:
                problems.append(f"{t_where}: `models` must be `all` or codes of this provider's models {unknown}")
                continue
            block = {**tool, "rates": {tool.get("usage_type"): tool.get("price")}}
            rows.extend(
                _block_rows(
                    block,
                    where=t_where,
                    provider=code,
                    models=targets,
                    currency=currency,
                    source=source,
                    source_date=source_date,
                    problems=problems,
                    origin=origin,
                    reason=provider_reason,
                    require_reason=require_reason,
                )
            )
    alias_keys: dict[tuple[str, str], str] = {}
    model_keys = {(m.provider, m.code) for m in models}
    for alias in aliases:
        key = (alias.provider, alias.alias)
        if key in model_keys:
            problems.append(f"{alias.provider}: alias {alias.alias} is also a model code")
        elif alias_keys.setdefault(key, alias.model) != alias.model:
            problems.append(f"{alias.provider}: alias {alias.alias} points at two models")
    for row in rows:
        if row.natural_key in seen_rows:
            problems.append(
                f"{row.provider}/{row.model}{' ' + row.region_scope if row.region_scope else ''}: two "
                f"{row.service_tier} {row.usage_type} rows start on "
                f"{row.effective_from}"
            )
        seen_rows.add(row.natural_key)
    if problems:
        raise PriceBookFileError(problems)
    unique_aliases = list({(a.provider, a.alias): a for a in aliases}.values())
    return PriceBookFile(providers=providers, models=models, aliases=unique_aliases, rows=rows)


def _block_rows(
    block,
    *,
    where,
    provider,
    models,
    currency,
    source,
    source_date,
    problems,
    origin="correction",
    reason="",
    require_reason=False,
) -> list[RowRecord]:
    if not isinstance(block, dict):
        problems.append(f"{where}: a price block is a mapping")
        return []
    reason = str(block.get("reason") or reason)
    if require_reason and not reason:
        problems.append(f"{where}: a correction needs a `reason` (on the block, its model or its provider)")
    if require_reason and not str(block.get("source", source)).startswith("https://"):
        problems.append(f"{where}: a correction needs a `source` (https URL of the page the figure was checked on)")
    region_scope = str(block.get("region_scope") or "")
    if region_scope not in REGION_SCOPES:
        problems.append(f"{where}: region_scope must be global or regional")
    tier = block.get("tier", "standard")
    unit = block.get("unit")
    if tier not in SERVICE_TIERS:
        problems.append(f"{where}: tier must be one of {', '.join(SERVICE_TIERS)}")
    if unit not in UNIT_DIVISORS:
        problems.append(f"{where}: unit must be one of {', '.join(UNIT_DIVISORS)}")
    start = _date(block.get("from"), f"{where}.from", problems)
    end = _date(block["to"], f"{where}.to", problems) if block.get("to") is not None else None
    if start and end and end <= start:
        problems.append(f"{where}: `to` must be after `from`")
    threshold = block.get("above_context_tokens")
    if threshold is not None and (not isinstance(threshold, int) or isinstance(threshold, bool) or threshold <= 0):
        problems.append(f"{where}: above_context_tokens must be a positive whole number")
    rates = block.get("rates")
    if not isinstance(rates, dict) or not rates:
        problems.append(f"{where}: needs `rates` (usage type: price)")
        return []
    out = []
    for usage_type, value in rates.items():
        usage_type = str(usage_type)
        if not USAGE_TYPE_PATTERN.match(usage_type):
            problems.append(f"{where}: {usage_type!r} is not a usage type")
            continue
        is_token_type = usage_type in BOOK_TOKEN_TYPES
        if unit in UNIT_DIVISORS and is_token_type != unit.endswith("tokens"):
            problems.append(f"{where}: {usage_type} cannot be priced {unit}")
            continue
        price = _price(value, f"{where}.{usage_type}", problems)
        if price is None or start is None or source_date is None:
            continue
        for model in models:
            out.append(
                RowRecord(
                    provider=provider,
                    model=model,
                    service_tier=tier,
                    usage_type=usage_type,
                    unit=unit,
                    price=price,
                    currency=str(block.get("currency", currency)),
                    effective_from=start,
                    effective_to=end,
                    min_context_tokens=threshold,
                    source=str(block.get("source", source)),
                    source_date=_date(block["source_date"], f"{where}.source_date", problems)
                    if block.get("source_date")
                    else source_date,
                    region_scope=region_scope,
                    origin=origin,
                    reason=reason,
                )
            )
    return out


def _load_yaml(path: Path | str) -> object:
    with open(path, encoding="utf-8") as stream:
        try:
            return yaml.safe_load(stream)
        except (yaml.YAMLError, ValueError) as exc:  # PyYAML raises ValueError for dates like 2025-13-01
            raise PriceBookFileError([f"{Path(path).name} is not readable YAML: {exc}"]) from exc


def read_price_book(path: Path | str | None = None) -> PriceBookFile:
    """One price-book file as it is, or (no path) the shipped book: the upstream snapshot with the
    corrections on top."""
    if path is not None:
        return parse_price_book(_load_yaml(path))
    return merge_books(
        parse_price_book(_load_yaml(UPSTREAM_PATH), origin="upstream"),
        parse_price_book(_load_yaml(CORRECTIONS_PATH), origin="correction", require_reason=True),
    )


def read_upstream_snapshot(path: Path | str | None = None) -> tuple[dict, PriceBookFile]:
    """The committed snapshot's header (package, version, data sha256) and its rows."""
    data = _load_yaml(path or UPSTREAM_PATH)
    header = {key: data.get(key) for key in ("package", "package_version", "data_sha256", "generated_on")}
    return header, parse_price_book(data, origin="upstream")


def merge_books(upstream: PriceBookFile, corrections: PriceBookFile) -> PriceBookFile:
    """Corrections over upstream: a provider or model of the corrections keeps its name and flags,
    aliases of the corrections win, and a correction row wins over its whole period: upstream rows of
    the same slot (provider, model, region scope, tier, usage type, context threshold) keep only the
    days no correction of that slot covers."""
    providers = {p.code: p for p in upstream.providers} | {p.code: p for p in corrections.providers}
    models = {(m.provider, m.code): m for m in upstream.models} | {(m.provider, m.code): m for m in corrections.models}
    rows = {r.natural_key: r for r in _uncovered(upstream.rows, corrections.rows)}
    rows |= {r.natural_key: r for r in corrections.rows}
    aliases = {(a.provider, a.alias): a for a in upstream.aliases}
    aliases |= {(a.provider, a.alias): a for a in corrections.aliases}
    # an alias that is also a model code (an upstream model we alias) stays a model code
    aliases = {key: alias for key, alias in aliases.items() if key not in models}
    return PriceBookFile(
        providers=list(providers.values()),
        models=list(models.values()),
        aliases=list(aliases.values()),
        rows=list(rows.values()),
    )


def _slot(row) -> tuple:
    return (row.provider, row.model, row.region_scope, row.service_tier, row.usage_type, row.min_context_tokens)


def _uncovered(upstream_rows, correction_rows) -> list[RowRecord]:
    covered: dict[tuple, list[tuple[date, date]]] = {}
    for row in correction_rows:
        covered.setdefault(_slot(row), []).append((row.effective_from, row.effective_to or date.max))
    launch: dict[tuple[str, str], date] = {}
    for row in correction_rows:
        key = (row.provider, row.model)
        launch[key] = min(launch.get(key, row.effective_from), row.effective_from)
    out = []
    for row in upstream_rows:
        start = row.effective_from
        if start == UNDATED_FROM and (row.provider, row.model) in launch:
            # upstream gives no start: a model the corrections list starts where its reviewed history does
            start = launch[(row.provider, row.model)]
        pieces = [(start, row.effective_to or date.max)]
        for c_start, c_end in sorted(covered.get(_slot(row), ())):
            pieces = [
                part
                for start, end in pieces
                for part in ((start, min(end, c_start)), (max(start, c_end), end))
                if part[0] < part[1]
            ]
        for start, end in pieces:
            out.append(replace(row, effective_from=start, effective_to=None if end == date.max else end))
    return out


def content_sha256(rows) -> str:
    """A fingerprint of what prices: every row's key and value (not its source or reading date)."""
    digest = hashlib.sha256()
    lines = sorted(
        "|".join(
            str(part)
            for part in (
                row.provider,
                row.model,
                getattr(row, "region_scope", ""),
                row.service_tier,
                row.usage_type,
                row.min_context_tokens or "",
                row.effective_from,
                row.effective_to or "",
                row.unit,
                Decimal(row.price).normalize(),
                row.currency,
            )
        )
        for row in rows
    )
    for line in lines:
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def file_sha256(path: Path | str | None = None) -> str:
    return hashlib.sha256(Path(path or CORRECTIONS_PATH).read_bytes()).hexdigest()


def price_rule(record, **extra) -> PriceRule | None:
    """The estimator's rule for a row. A row limited to a region scope is left out while the estimator
    does not know scopes (it would otherwise compete with the scope-less list row)."""
    fields = {
        "provider": record.provider,
        "model": record.model,
        "service_tier": record.service_tier,
        "usage_type": record.usage_type,
        "unit": record.unit,
        "price": record.price,
        "currency": record.currency,
        "effective_from": record.effective_from,
        "effective_to": record.effective_to,
        "min_context_tokens": record.min_context_tokens,
    }
    scope = getattr(record, "region_scope", "")
    if "region_scope" in PriceRule.__dataclass_fields__:
        fields["region_scope"] = scope
    elif scope:
        return None
    return PriceRule(**fields, **extra)


def price_book_from_file(path: Path | str | None = None, overrides=()):
    """A ``PriceBook`` straight from the file(s), without the database (tests, quick checks)."""
    book = read_price_book(path)
    rows = [rule for rule in (price_rule(r) for r in book.rows) if rule is not None]
    aliases = {(a.provider, a.alias): a.model for a in book.aliases}
    return PriceBook(rows, aliases, list(overrides), models=[(m.provider, m.code) for m in book.models])
