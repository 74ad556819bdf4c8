"""The upstream list prices: an importer from the pinned ``genai-prices`` package into the committed
snapshot ``data/upstream/genai-prices.yaml``.

Only the ``import_genai_prices`` command calls ``build_snapshot``; it imports ``genai_prices`` (and so
pydantic and httpx2) lazily, inside the function: the running portal reads the committed YAML file and
never imports the package. Everything else here is plain data handling.

What is taken (the mapping is ``data/models.yaml``):

- providers ``openai``, ``anthropic``, ``google`` (``gemini-*`` models only), ``aws`` → ``aws-bedrock``
  (``global.…`` ids → rows with ``region_scope: global``, ``regional.…`` ids → ``regional``; Anthropic,
  Amazon and OpenAI models), ``azure-openai`` (the models listed there, priced from OpenAI's entries as
  genai-prices' own Azure fallback does; standard and batch only);
- an upstream id is mapped onto our code by ``code_map`` (existing codes are never renamed), else the id
  itself (Bedrock: the id without region, vendor, version and date);
- ``TieredPrices`` → a base row and one ``above_context_tokens`` row per tier (the same cliff rule as ours:
  the whole request at the tier's rate when the prompt exceeds ``start``);
- a list of ``ConditionalPrice`` → dated rows, each until the next one starts; a price without a start
  date starts on ``UNDATED_FROM``;
- ``price_variants``: ``processing: batch`` → tier batch, ``service_tier`` priority/flex → those tiers,
  ``default`` → nothing; other variants (``fast``, ``ultrafast``, ``speed``) are skipped and reported.
  Variants are partial: a key the variant does not give keeps the base price in force.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
SNAPSHOT_PATH = DATA_DIR / "upstream" / "genai-prices.yaml"
MODELS_PATH = DATA_DIR / "models.yaml"
PACKAGE = "genai-prices"
UNDATED_FROM = date(2020, 1, 1)
# genai-prices price key -> (our usage type, unit)
PRICE_KEYS = {
    "input_mtok": ("input", "1m_tokens"),
    "output_mtok": ("output", "1m_tokens"),
    "cache_read_mtok": ("cache_read", "1m_tokens"),
    "cache_write_mtok": ("cache_write_5m", "1m_tokens"),
    "cache_write_1h_mtok": ("cache_write_1h", "1m_tokens"),
    "input_audio_mtok": ("input_audio", "1m_tokens"),
    "cache_audio_read_mtok": ("cache_read_audio", "1m_tokens"),
    "output_audio_mtok": ("output_audio", "1m_tokens"),
    "input_image_mtok": ("input_image", "1m_tokens"),
    "output_image_mtok": ("output_image", "1m_tokens"),
    "web_searches_kcount": ("web_search", "1k_calls"),
    "storage_searches_kcount": ("file_search", "1k_calls"),
}
TOKEN_PRICE_KEYS = {key for key, (_, unit) in PRICE_KEYS.items() if unit.endswith("tokens")}
VARIANT_TIERS = {
    ("processing", "batch"): "batch",
    ("service_tier", "priority"): "priority",
    ("service_tier", "flex"): "flex",
    ("service_tier", "default"): None,  # the base price itself
}
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_BEDROCK_REGION = re.compile(r"^(global|regional)\.")
_BEDROCK_VENDOR = re.compile(r"^(anthropic|amazon|openai)\.")
_BEDROCK_SUFFIXES = (re.compile(r"-v\d+(:\d+)?$"), re.compile(r"-\d{8}$"))


@dataclass(frozen=True, order=True)
class UpstreamRow:
    provider: str
    model: str
    region_scope: str
    service_tier: str
    usage_type: str
    min_context_tokens: int | None
    effective_from: date
    effective_to: date | None
    unit: str
    price: Decimal

    @property
    def key(self) -> tuple:
        return (
            self.provider,
            self.model,
            self.region_scope,
            self.service_tier,
            self.usage_type,
            self.min_context_tokens or 0,
            self.effective_from,
        )


@dataclass
class Snapshot:
    version: str
    data_sha256: str
    providers: dict[str, dict] = field(default_factory=dict)  # our code -> {name, source}
    models: dict[tuple[str, str], dict] = field(default_factory=dict)  # (provider, code) -> {name, upstream_ids}
    rows: list[UpstreamRow] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def read_mapping(path: Path | str | None = None) -> dict:
    with open(path or MODELS_PATH, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


# --- from the package (command only) ----------------------------------------------------------------


def installed_version() -> str:
    from importlib.metadata import version

    return version(PACKAGE)


def _data_sha256() -> str:
    """sha256 of the package's generated data module, as its RECORD lists it."""
    from importlib.metadata import files

    for entry in files(PACKAGE) or []:
        if str(entry).replace("\\", "/").endswith("genai_prices/data.py"):
            return hashlib.sha256(entry.read_binary()).hexdigest()
    return ""


def build_snapshot(mapping: dict | None = None) -> Snapshot:
    """Read the installed genai-prices data into a ``Snapshot`` of our providers and codes."""
    from genai_prices import data as upstream_data  # lazily: dev/CI only, never at runtime

    mapping = mapping or read_mapping()
    by_id = {provider.id: provider for provider in upstream_data.providers}
    snapshot = Snapshot(version=installed_version(), data_sha256=_data_sha256())
    for code, spec in mapping["providers"].items():
        upstream = by_id[spec["upstream"]]
        snapshot.providers[code] = {"name": spec["name"], "source": spec.get("source") or _first_url(upstream)}
        code_map = (mapping.get("code_map") or {}).get(code) or {}
        only = spec.get("only")
        tiers = spec.get("tiers")
        for model in upstream.models:
            if only is not None and model.id not in only:
                continue
            if spec.get("id_prefix") and not model.id.startswith(spec["id_prefix"]):
                continue
            our_code, scope = _our_code(code, spec, model.id, code_map)
            if our_code is None:
                snapshot.skipped.append(f"{code}: {model.id} (no usable code)")
                continue
            rows = list(_model_rows(code, our_code, scope, model, snapshot.skipped))
            if tiers is not None:
                rows = [row for row in rows if row.service_tier in tiers]
            if spec.get("tokens_only"):
                rows = [row for row in rows if row.unit.endswith("tokens")]
            if not any(row.unit.endswith("tokens") for row in rows):
                snapshot.skipped.append(f"{code}: {model.id} (no token prices)")
                continue
            entry = snapshot.models.setdefault((code, our_code), {"name": model.name or our_code, "ids": []})
            entry["ids"].append(model.id)
            snapshot.rows.extend(rows)
    snapshot.rows = _dedupe(snapshot.rows, snapshot.skipped)
    return snapshot


def _first_url(provider) -> str:
    return (provider.pricing_urls or [""])[0]


def _our_code(provider: str, spec: dict, upstream_id: str, code_map: dict) -> tuple[str | None, str]:
    scope = ""
    name = upstream_id
    if spec.get("bedrock"):
        match = _BEDROCK_REGION.match(name)
        scope = match.group(1) if match else "regional"
        name = _BEDROCK_REGION.sub("", name)
        if not _BEDROCK_VENDOR.match(name):
            return None, scope
        name = _BEDROCK_VENDOR.sub("", name)
        for pattern in _BEDROCK_SUFFIXES:
            name = pattern.sub("", name)
    code = code_map.get(upstream_id) or code_map.get(name) or name
    if not CODE_PATTERN.match(code) or code.endswith("-"):
        return None, scope
    return code, scope


def _segments(prices) -> list[tuple[date, date | None, object]]:
    """(from, to, ModelPrice) segments of a model's base prices."""
    if not isinstance(prices, list):
        return [(UNDATED_FROM, None, prices)]
    starts = []
    for conditional in prices:
        constraint = conditional.constraint
        start = getattr(constraint, "start_date", None) if constraint is not None else UNDATED_FROM
        if start is None:  # a time-of-day constraint: not a list price we can date
            continue
        starts.append((start, conditional.prices))
    starts.sort(key=lambda item: item[0])
    return [
        (start, starts[index + 1][0] if index + 1 < len(starts) else None, prices)
        for index, (start, prices) in enumerate(starts)
    ]


def _values(model_price) -> dict:
    return {key: value for key, value in vars(model_price).items() if value is not None and not key.startswith("_")}


def _model_rows(provider: str, code: str, scope: str, model, skipped: list[str]) -> Iterable[UpstreamRow]:
    base = _segments(model.prices)
    for start, end, prices in base:
        yield from _price_rows(provider, code, scope, "standard", start, end, _values(prices), model.id, skipped)
    variants: dict[str, list[tuple[date, dict]]] = {}
    for variant in model.price_variants or []:
        when = tuple(sorted(variant.when.items()))
        if len(when) != 1 or when[0] not in VARIANT_TIERS:
            skipped.append(f"{provider}: {model.id} variant {variant.when} (not a tier we price)")
            continue
        tier = VARIANT_TIERS[when[0]]
        if tier is None:
            continue
        start = getattr(variant.constraint, "start_date", None) if variant.constraint is not None else UNDATED_FROM
        if start is None:
            skipped.append(f"{provider}: {model.id} variant {variant.when} (time-of-day constraint)")
            continue
        variants.setdefault(tier, []).append((start, _values(variant.prices)))
    for tier, starts in variants.items():
        starts.sort(key=lambda item: item[0])
        for index, (v_start, v_prices) in enumerate(starts):
            v_end = starts[index + 1][0] if index + 1 < len(starts) else None
            # the variant over each base segment it overlaps, base keys filling what the variant lacks
            for b_start, b_end, b_prices in base:
                start = max(v_start, b_start)
                ends = [e for e in (v_end, b_end) if e is not None]
                end = min(ends) if ends else None
                if end is not None and end <= start:
                    continue
                merged = {**_values(b_prices), **v_prices}
                yield from _price_rows(provider, code, scope, tier, start, end, merged, model.id, skipped)


def _price_rows(provider, code, scope, tier, start, end, prices: dict, upstream_id, skipped) -> Iterable[UpstreamRow]:
    for key, value in sorted(prices.items()):
        if key not in PRICE_KEYS:
            skipped.append(f"{provider}: {upstream_id} {tier} price {key} (no usage type)")
            continue
        usage_type, unit = PRICE_KEYS[key]
        if hasattr(value, "tiers"):
            yield UpstreamRow(provider, code, scope, tier, usage_type, None, start, end, unit, Decimal(value.base))
            for step in value.tiers:
                yield UpstreamRow(
                    provider, code, scope, tier, usage_type, int(step.start), start, end, unit, Decimal(step.price)
                )
        else:
            yield UpstreamRow(provider, code, scope, tier, usage_type, None, start, end, unit, Decimal(value))


def _value(row) -> tuple:
    return (row.price, row.unit, row.effective_to)


def _dedupe(rows: list[UpstreamRow], skipped: list[str]) -> list[UpstreamRow]:
    """Two upstream ids mapped onto one code (e.g. a ``-latest`` and a dated id): the first one listed
    keeps a key; a different price for the same key is reported."""
    kept: dict[tuple, UpstreamRow] = {}
    for row in rows:
        first = kept.setdefault(row.key, row)
        if first is not row and _value(first) != _value(row):
            skipped.append(
                f"{row.provider}: {row.model} {row.service_tier} {row.usage_type} from {row.effective_from}: "
                f"{row.price} (another upstream id gives {first.price})"
            )
    return sorted(kept.values(), key=lambda row: tuple(str(part) for part in row.key))


# --- the committed snapshot file --------------------------------------------------------------------


def _price_text(price: Decimal) -> str:
    text = format(price.normalize(), "f")
    if "." not in text:
        text += ".00"
    elif len(text.split(".")[1]) == 1:
        text += "0"
    return text


def snapshot_yaml(snapshot: Snapshot, *, generated_on: date) -> str:
    """The snapshot in the price-book block layout (providers → models → price blocks), stable order."""
    lines = [
        f"# GENERATED by `python manage.py import_genai_prices --write` from {PACKAGE} {snapshot.version}.",
        "# Do not edit: corrections go in ../corrections.yaml, id mapping in ../models.yaml.",
        f"# Undated upstream prices start on {UNDATED_FROM.isoformat()}; `to` is exclusive.",
        f"package: {PACKAGE}",
        f'package_version: "{snapshot.version}"',
        f"data_sha256: {snapshot.data_sha256}",
        f"generated_on: {generated_on.isoformat()}",
        "currency: USD",
        "providers:",
    ]
    for provider, info in snapshot.providers.items():
        lines += [
            f"  - code: {provider}",
            f"    name: {_quote(info['name'])}",
            f"    source: {info['source']}",
            f"    source_date: {generated_on.isoformat()}",
            "    models:",
        ]
        for (p_code, m_code), model in sorted(snapshot.models.items()):
            if p_code != provider:
                continue
            lines += [
                f"      - code: {m_code}",
                f"        name: {_quote(model['name'])}",
                f"        upstream_ids: [{', '.join(_quote(i) for i in model['ids'])}]",
                "        prices:",
            ]
            blocks: dict[tuple, dict[str, str]] = {}
            for row in snapshot.rows:
                if (row.provider, row.model) != (p_code, m_code):
                    continue
                block = (
                    row.region_scope,
                    row.service_tier,
                    row.unit,
                    row.min_context_tokens or 0,
                    row.effective_from,
                    row.effective_to or date.max,
                )
                blocks.setdefault(block, {})[row.usage_type] = _price_text(row.price)
            for (scope, tier, unit, threshold, start, end), rates in sorted(blocks.items()):
                parts = [f"tier: {tier}", f"unit: {unit}", f"from: {start.isoformat()}"]
                if end != date.max:
                    parts.append(f"to: {end.isoformat()}")
                if threshold:
                    parts.append(f"above_context_tokens: {threshold}")
                if scope:
                    parts.append(f"region_scope: {scope}")
                rate_text = ", ".join(f'{k}: "{v}"' for k, v in sorted(rates.items()))
                lines.append(f"          - {{{', '.join(parts)}, rates: {{{rate_text}}}}}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the diff printed when the pin moves --------------------------------------------------------------


def _row_key(row) -> tuple:
    return (
        row.provider,
        row.model,
        getattr(row, "region_scope", ""),
        row.service_tier,
        row.usage_type,
        row.min_context_tokens or 0,
        row.effective_from,
    )


def _describe(row) -> str:
    scope = f" [{row.region_scope}]" if getattr(row, "region_scope", "") else ""
    context = f" >{row.min_context_tokens}" if row.min_context_tokens else ""
    until = f" to {row.effective_to}" if row.effective_to else ""
    return (
        f"{row.provider}/{row.model}{scope} {row.service_tier} {row.usage_type}{context}"
        f" {_price_text(row.price)} per {row.unit} from {row.effective_from}{until}"
    )


def _value_text(row) -> str:
    until = f" to {row.effective_to}" if row.effective_to else ""
    return f"{_price_text(row.price)} per {row.unit}{until}"


def row_diff(old_rows: Iterable, new_rows: Iterable) -> list[str]:
    """``+`` added, ``-`` removed, ``~`` changed (price, unit or end), one line each, stable order."""
    old = {_row_key(row): row for row in old_rows}
    new = {_row_key(row): row for row in new_rows}
    lines = []
    for key in sorted(old.keys() | new.keys(), key=lambda k: tuple(str(part) for part in k)):
        before, after = old.get(key), new.get(key)
        if before is None:
            lines.append(f"+ {_describe(after)}")
        elif after is None:
            lines.append(f"- {_describe(before)}")
        elif (before.price, before.unit, before.effective_to) != (after.price, after.unit, after.effective_to):
            what = _describe(before).split(" from ")[0].rsplit(" ", 3)[0]
            lines.append(f"~ {what}: {_value_text(before)} → {_value_text(after)} from {after.effective_from}")
    return lines
