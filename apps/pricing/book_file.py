"""Reading the price-book file (``data/price_book.yaml``) into plain records. No database here: the
loader in ``services.price_book_load`` upserts what this returns. The layout is described at the top
of the YAML file."""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from .constants import SERVICE_TIERS, TOKEN_USAGE_TYPES, UNIT_DIVISORS
from .estimator import PriceBook, PriceRule

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "price_book.yaml"
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

    @property
    def natural_key(self) -> tuple:
        return (
            self.provider,
            self.model,
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


def parse_price_book(data) -> PriceBookFile:
    """Check and flatten a loaded YAML document. Raises PriceBookFileError listing every problem."""
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
            for b_index, block in enumerate(model.get("prices") or []):
                rows.extend(
                    _block_rows(
                        block,
                        where=f"{m_where}.prices[{b_index}]",
                        provider=code,
                        models=[m_code],
                        currency=currency,
                        source=source,
                        source_date=source_date,
                        problems=problems,
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
                f"{row.provider}/{row.model}: two {row.service_tier} {row.usage_type} rows start on "
                f"{row.effective_from}"
            )
        seen_rows.add(row.natural_key)
    if problems:
        raise PriceBookFileError(problems)
    unique_aliases = list({(a.provider, a.alias): a for a in aliases}.values())
    return PriceBookFile(providers=providers, models=models, aliases=unique_aliases, rows=rows)


def _block_rows(block, *, where, provider, models, currency, source, source_date, problems) -> list[RowRecord]:
    if not isinstance(block, dict):
        problems.append(f"{where}: a price block is a mapping")
        return []
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
        is_token_type = usage_type in TOKEN_USAGE_TYPES
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
                )
            )
    return out


def read_price_book(path: Path | str | None = None) -> PriceBookFile:
    with open(path or DEFAULT_PATH, encoding="utf-8") as stream:
        try:
            data = yaml.safe_load(stream)
        except (yaml.YAMLError, ValueError) as exc:  # PyYAML raises ValueError for dates like 2025-13-01
            raise PriceBookFileError([f"the file is not readable YAML: {exc}"]) from exc
    return parse_price_book(data)


def price_book_from_file(path: Path | str | None = None, overrides=()):
    """A ``PriceBook`` straight from the file, without the database (tests, quick checks)."""
    book = read_price_book(path)
    rows = [
        PriceRule(
            provider=r.provider,
            model=r.model,
            service_tier=r.service_tier,
            usage_type=r.usage_type,
            unit=r.unit,
            price=r.price,
            currency=r.currency,
            effective_from=r.effective_from,
            effective_to=r.effective_to,
            min_context_tokens=r.min_context_tokens,
        )
        for r in book.rows
    ]
    aliases = {(a.provider, a.alias): a.model for a in book.aliases}
    return PriceBook(rows, aliases, list(overrides), models=[(m.provider, m.code) for m in book.models])
