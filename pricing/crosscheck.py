"""Compare the table with another price map, at the same date, and list every disagreement with our source.

Peers (optional dependencies, never needed at run time):

- `genai-prices` (pydantic/genai-prices), read from its installed package, with its own dates
  (`StartDateConstraint`s) evaluated on the day asked;
- `litellm`, whose `model_prices_and_context_window_backup.json` is read from the installed package
  without importing it (the map is undated: it is compared as of the day asked);
- a FILE: a JSON price map in either of two documented shapes:
  * the output of `python -m pricing export --format json` (`{"format": "claude-rates", "rows": [...]}`),
    e.g. an older export or a colleague's table: dated, compared row by row;
  * LiteLLM's shape: `{"<model id>": {"input_cost_per_token": 3e-06, "output_cost_per_token": ...,
    "cache_creation_input_token_cost": ..., "cache_creation_input_token_cost_above_1hr": ...,
    "cache_read_input_token_cost": ..., "input_cost_per_token_batches": ..., "output_cost_per_token_batches":
    ..., "input_cost_per_token_above_200k_tokens": ..., "litellm_provider": "anthropic"}, ...}` (USD per token).

Each disagreement carries a verdict: `theirs` when the peer is known to be wrong or stale there (a known peer
bug such as LiteLLM's missing 1-hour batch write rate, a rate the peer lacks, or a change our table documents
with a source, such as a fast mode removed on a date), `check` when a maintainer must look (values differ, or
the peer has a rate our table does not explain). `python -m pricing crosscheck` exits 1 when any needs a check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import importlib.metadata
import importlib.util
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, Protocol

from pricing.errors import PricingError
from pricing.export import CATEGORIES, Category, RateRow, rate_rows
from pricing.features import describe_gap
from pricing.loader import decode_text, read_regular_file
from pricing.schema import Model
from pricing.table import PriceTable

__all__ = [
    "KNOWN_PEER_ISSUES",
    "CrossCheck",
    "CrosscheckError",
    "Disagreement",
    "KnownPeerIssue",
    "PeerRates",
    "PriceMap",
    "crosscheck",
    "file_price_map",
    "genai_prices_map",
    "litellm_price_map",
    "load_peer",
]

Mode = Literal["standard", "batch", "fast"]
Kind = Literal["differs", "missing_in_peer", "missing_in_ours", "model_missing_in_peer"]
Verdict = Literal["theirs", "check"]
Key = tuple[Mode, int | None, Category]
MAX_PEER_FILE_BYTES = 64_000_000
MTOK = Decimal(1_000_000)
MODES: tuple[Mode, ...] = ("standard", "batch", "fast")


class CrosscheckError(PricingError):
    """A peer price map cannot be read (not installed, not found, or not a known shape)."""


@dataclass(frozen=True)
class PeerRates:
    """What a peer prices for one of our models on one day: rates keyed (mode, tier threshold, category)."""

    peer_model_id: str
    rates: Mapping[Key, Decimal]
    modes: frozenset[Mode]


class PriceMap(Protocol):
    """A peer price map: a label for reports, the modes its format can express, and a lookup."""

    @property
    def label(self) -> str: ...

    @property
    def compared_modes(self) -> frozenset[Mode]: ...

    def lookup(self, model: Model, day: dt.date) -> PeerRates | None: ...


@dataclass(frozen=True)
class KnownPeerIssue:
    """A documented fault or gap of a peer map: disagreements it explains are reported as theirs."""

    peer: str
    note: str
    model_id: str | None = None
    mode: Mode | None = None
    tier: int | None = None
    category: Category | None = None
    before: dt.date | None = None
    kinds: tuple[Kind, ...] = ("differs", "missing_in_peer", "model_missing_in_peer")

    def explains(self, peer: str, item: Disagreement, day: dt.date) -> bool:
        return (
            self.peer in peer
            and item.kind in self.kinds
            and (self.model_id is None or item.model_id == self.model_id)
            and (self.mode is None or item.mode == self.mode)
            and (self.tier is None or item.tier_above_prompt_tokens == self.tier)
            and (self.category is None or item.category == self.category)
            and (self.before is None or day < self.before)
        )


KNOWN_PEER_ISSUES: tuple[KnownPeerIssue, ...] = (
    KnownPeerIssue(
        "litellm",
        "LiteLLM has no 1-hour batch cache-write rate: its code falls back to the 5-minute batch rate, a bug "
        "not to copy (reference, section 7)",
        mode="batch",
        category="cache_write_1h",
    ),
    KnownPeerIssue(
        "genai-prices",
        "genai-prices has no Sonnet 5.5 read-price history: 0.10 throughout, though it was 0.20 until "
        "2026-10-06 (reference, section 7)",
        model_id="claude-sonnet-5-5",
        category="cache_read",
        before=dt.date(2026, 10, 7),
    ),
    KnownPeerIssue(
        "genai-prices",
        "genai-prices has no Sonnet 4 >200K tier (reference, section 7)",
        model_id="claude-sonnet-4-20250514",
        tier=200_000,
    ),
    KnownPeerIssue(
        "genai-prices",
        "genai-prices models batch prices only from 2026-10-14 (its price_comments: earlier batch history is "
        "not modelled)",
        mode="batch",
        before=dt.date(2026, 10, 14),
    ),
    KnownPeerIssue(
        "genai-prices",
        "genai-prices skips limited-availability models (its price_comments: the importer skips those rows)",
        model_id="claude-mythos-5",
        kinds=("model_missing_in_peer",),
    ),
    KnownPeerIssue(
        "genai-prices",
        "genai-prices skips limited-availability models (its price_comments: the importer skips those rows)",
        model_id="claude-mythos-5-1",
        kinds=("model_missing_in_peer",),
    ),
)


@dataclass(frozen=True)
class Disagreement:
    """One rate (or a whole mode, `category` None) on which the two maps differ on the day compared."""

    model_id: str
    peer_model_id: str | None
    mode: Mode | None
    tier_above_prompt_tokens: int | None
    category: Category | None
    ours_mtok: Decimal | None
    theirs_mtok: Decimal | None
    kind: Kind
    verdict: Verdict
    note: str
    our_sources: tuple[str, ...] = ()
    our_provenance: str | None = None


@dataclass(frozen=True)
class CrossCheck:
    peer: str
    as_of: dt.date
    rates_compared: int
    models_compared: tuple[str, ...]
    models_skipped: tuple[tuple[str, str], ...]
    disagreements: tuple[Disagreement, ...]
    not_compared: tuple[str, ...] = field(default=())

    @property
    def to_check(self) -> tuple[Disagreement, ...]:
        return tuple(item for item in self.disagreements if item.verdict == "check")


# --- the comparison --------------------------------------------------------------------------------


def crosscheck(table: PriceTable, peer: PriceMap, day: dt.date) -> CrossCheck:
    """Every disagreement between our rates in force on `day` (global region) and the peer's on that day."""
    rows = rate_rows(table)
    found: list[Disagreement] = []
    compared, skipped, rates_compared = [], [], 0
    for model in table.models:
        status = model.status_as_of(day)
        if status in ("unreleased", "retired"):
            skipped.append((model.id, status))
            continue
        ours = {
            (row.mode, row.tier_above_prompt_tokens, row.category): row
            for row in rows
            if row.model_id == model.id
            and row.inference_geo == "global"
            and row.in_force_on(day)
            and row.mode in peer.compared_modes
        }
        theirs = peer.lookup(model, day)
        compared.append(model.id)
        if theirs is None:
            found.append(_model_missing(model, ours))
            continue
        rates_compared += len(set(ours) & set(theirs.rates))
        found += _compare_model(table, model, day, ours, theirs, peer.compared_modes)
    explained = [_with_known_issue(item, peer.label, day) for item in found]
    not_compared = tuple(mode for mode in MODES if mode not in peer.compared_modes)
    return CrossCheck(peer.label, day, rates_compared, tuple(compared), tuple(skipped), tuple(explained), not_compared)


def _model_missing(model: Model, ours: Mapping[Key, RateRow]) -> Disagreement:
    sources = tuple(dict.fromkeys(source for row in ours.values() for source in row.sources))
    return _item(
        model.id, None, kind="model_missing_in_peer", note=f"the peer has no entry for {model.name}", sources=sources
    )


def _compare_model(
    table: PriceTable,
    model: Model,
    day: dt.date,
    ours: Mapping[Key, RateRow],
    theirs: PeerRates,
    modes: frozenset[Mode],
) -> list[Disagreement]:
    found: list[Disagreement] = []
    for mode in MODES:
        if mode not in modes:
            continue
        our_keys = [key for key in ours if key[0] == mode]
        their_keys = [key for key in theirs.rates if key[0] == mode]
        if our_keys and mode not in theirs.modes:
            sources = tuple(dict.fromkeys(s for key in our_keys for s in ours[key].sources))
            note = f"the peer has no {mode} prices for {model.name} on {day}"
            found.append(
                _item(model.id, theirs.peer_model_id, mode=mode, kind="missing_in_peer", note=note, sources=sources)
            )
            continue
        if their_keys and not our_keys:
            reason = _our_reason_for_mode(table, model, mode, day)
            note = reason or f"the peer prices {mode} for {model.name} on {day}; our table has no such rate"
            found.append(
                _item(
                    model.id,
                    theirs.peer_model_id,
                    mode=mode,
                    kind="missing_in_ours",
                    note=note,
                    verdict="theirs" if reason else "check",
                    sources=_feature_sources(model, mode),
                )
            )
            continue
        for key in sorted(set(our_keys) | set(their_keys), key=_key_order):
            item = _compare_key(table, model, day, key, ours.get(key), theirs)
            if item is not None:
                found.append(item)
    return found


def _item(
    model_id: str,
    peer_model_id: str | None,
    *,
    kind: Kind,
    note: str,
    mode: Mode | None = None,
    tier: int | None = None,
    category: Category | None = None,
    ours: Decimal | None = None,
    theirs: Decimal | None = None,
    verdict: Verdict = "theirs",
    sources: tuple[str, ...] = (),
    provenance: str | None = None,
) -> Disagreement:
    return Disagreement(
        model_id=model_id,
        peer_model_id=peer_model_id,
        mode=mode,
        tier_above_prompt_tokens=tier,
        category=category,
        ours_mtok=ours,
        theirs_mtok=theirs,
        kind=kind,
        verdict=verdict,
        note=note,
        our_sources=sources,
        our_provenance=provenance,
    )


def _key_order(key: Key) -> tuple[int, int, int]:
    mode, tier, category = key
    return (MODES.index(mode), tier or 0, CATEGORIES.index(category))


def _compare_key(
    table: PriceTable, model: Model, day: dt.date, key: Key, our_row: RateRow | None, theirs: PeerRates
) -> Disagreement | None:
    mode, tier, category = key
    their_value = theirs.rates.get(key)
    if our_row is not None and their_value is not None:
        if our_row.usd_per_mtok == their_value:
            return None
        return _item(
            model.id,
            theirs.peer_model_id,
            mode=mode,
            tier=tier,
            category=category,
            ours=our_row.usd_per_mtok,
            theirs=their_value,
            kind="differs",
            verdict="check",
            note="the rates differ",
            sources=our_row.sources,
            provenance=our_row.provenance,
        )
    if our_row is not None:
        return _item(
            model.id,
            theirs.peer_model_id,
            mode=mode,
            tier=tier,
            category=category,
            ours=our_row.usd_per_mtok,
            kind="missing_in_peer",
            note="the peer has no such rate",
            sources=our_row.sources,
            provenance=our_row.provenance,
        )
    reason = _our_reason_for_key(table, model, day, tier, category)
    return _item(
        model.id,
        theirs.peer_model_id,
        mode=mode,
        tier=tier,
        category=category,
        theirs=their_value,
        kind="missing_in_ours",
        verdict="theirs" if reason else "check",
        note=reason or "our table has no such rate on this day",
        sources=_key_sources(table, model, tier, category),
    )


def _our_reason_for_mode(table: PriceTable, model: Model, mode: Mode, day: dt.date) -> str | None:
    if mode == "fast":
        if model.fast_mode is None:
            return None
        return describe_gap("fast_mode", model.fast_mode, day, model_name=model.name)
    if mode == "batch":
        return table.unavailable_reason(model, "message_batches", day)
    return None


def _our_reason_for_key(
    table: PriceTable, model: Model, day: dt.date, tier: int | None, category: Category
) -> str | None:
    if tier is not None and tier >= model.context_window_tokens:
        beta = table.features.context_1m_beta
        gap = describe_gap("context_1m_beta", beta, day, model_name=model.name)
        if gap:
            return f"{gap}: the >{tier:,} tier lies beyond {model.name}'s {model.context_window_tokens:,} window"
    if category == "cache_write_1h":
        return table.unavailable_reason(model, "cache_ttl_1h", day)
    return None


def _feature_sources(model: Model, mode: Mode) -> tuple[str, ...]:
    period = model.feature_period("fast_mode" if mode == "fast" else "message_batches")
    return period.sources if period is not None else model.sources


def _key_sources(table: PriceTable, model: Model, tier: int | None, category: Category) -> tuple[str, ...]:
    if tier is not None:
        return table.features.context_1m_beta.sources
    if category == "cache_write_1h":
        return table.features.cache_ttl_1h.sources
    return model.sources


def _with_known_issue(item: Disagreement, peer: str, day: dt.date) -> Disagreement:
    issue = next((issue for issue in KNOWN_PEER_ISSUES if issue.explains(peer, item, day)), None)
    if issue is None:
        return item
    return dataclasses.replace(item, verdict="theirs", note=f"known peer issue: {issue.note}")


# --- peers -----------------------------------------------------------------------------------------


def load_peer(name: str) -> PriceMap:
    """`genai-prices`, `litellm`, or the path of a JSON price map."""
    if name == "genai-prices":
        return genai_prices_map()
    if name == "litellm":
        return litellm_price_map()
    return file_price_map(Path(name))


@dataclass(frozen=True)
class _GenaiPrices:
    label: str
    provider: Any
    compared_modes: frozenset[Mode] = frozenset({"standard", "batch", "fast"})

    def lookup(self, model: Model, day: dt.date) -> PeerRates | None:
        info = next((found for name in (model.id, *model.aliases) if (found := self._find(name))), None)
        if info is None:
            return None
        moment = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
        rates: dict[Key, Decimal] = {}
        modes: set[Mode] = {"standard"}
        _add_genai(rates, "standard", info.get_prices(moment))
        variant_modes: tuple[tuple[Mode, dict[str, str]], ...] = (
            ("batch", {"processing": "batch"}),
            ("fast", {"speed": "fast"}),
        )
        for mode, when in variant_modes:
            variants = [
                v
                for v in (info.price_variants or ())
                if v.when == when and (v.constraint is None or v.constraint.active(moment))
            ]
            if variants:
                modes.add(mode)
                _add_genai(rates, mode, info.get_prices(moment, when))
        return PeerRates(str(info.id), rates, frozenset(modes))

    def _find(self, name: str) -> Any:
        try:
            return self.provider.find_model(name)
        except Exception:  # a peer's lookup failing means "not found", never a crash
            return None


_GENAI_FIELDS: dict[str, Category] = {
    "input_mtok": "input",
    "cache_write_mtok": "cache_write_5m",
    "cache_write_1h_mtok": "cache_write_1h",
    "cache_read_mtok": "cache_read",
    "output_mtok": "output",
}


def _add_genai(rates: dict[Key, Decimal], mode: Mode, price: Any) -> None:
    for attribute, category in _GENAI_FIELDS.items():
        value = getattr(price, attribute, None)
        if value is None:
            continue
        if hasattr(value, "tiers") and hasattr(value, "base"):
            rates[(mode, None, category)] = Decimal(value.base)
            for tier in value.tiers:
                rates[(mode, int(tier.start), category)] = Decimal(tier.price)
        else:
            rates[(mode, None, category)] = Decimal(value)


def genai_prices_map() -> PriceMap:
    """genai-prices' bundled data (no network: its auto-update is never started)."""
    try:
        data = importlib.import_module("genai_prices.data")
        version = importlib.metadata.version("genai-prices")
    except ImportError:
        raise CrosscheckError(
            "genai-prices is not installed: `pip install genai-prices` (a development dependency, see "
            "requirements-dev.txt), or pass a JSON price map as FILE"
        ) from None
    provider = next((p for p in data.providers if p.id == "anthropic"), None)
    if provider is None:
        raise CrosscheckError(f"genai-prices {version} has no 'anthropic' provider")
    return _GenaiPrices(f"genai-prices {version}", provider)


@dataclass(frozen=True)
class _LiteLLM:
    label: str
    entries: Mapping[str, Mapping[str, Any]]
    compared_modes: frozenset[Mode] = frozenset({"standard", "batch"})

    def lookup(self, model: Model, day: dt.date) -> PeerRates | None:
        for name in (model.id, *model.aliases):
            for key in (name, f"anthropic/{name}"):
                entry = self.entries.get(key)
                if isinstance(entry, Mapping) and entry.get("litellm_provider", "anthropic") == "anthropic":
                    return _litellm_rates(key, entry)
        return None


_LITELLM_FIELDS: dict[str, tuple[Mode, Category]] = {
    "input_cost_per_token": ("standard", "input"),
    "output_cost_per_token": ("standard", "output"),
    "cache_creation_input_token_cost": ("standard", "cache_write_5m"),
    "cache_creation_input_token_cost_above_1hr": ("standard", "cache_write_1h"),
    "cache_read_input_token_cost": ("standard", "cache_read"),
    "input_cost_per_token_batches": ("batch", "input"),
    "output_cost_per_token_batches": ("batch", "output"),
}
_LITELLM_TIER = re.compile(
    r"^(?P<field>input_cost_per_token|output_cost_per_token|cache_creation_input_token_cost|"
    r"cache_read_input_token_cost)_above_(?P<k>\d{1,7})k_tokens$"
)


def _litellm_rates(key: str, entry: Mapping[str, Any]) -> PeerRates:
    rates: dict[Key, Decimal] = {}
    for name, value in entry.items():
        per_token = _per_token(value)
        if per_token is None:
            continue
        if name in _LITELLM_FIELDS:
            mode, category = _LITELLM_FIELDS[name]
            rates[(mode, None, category)] = per_token * MTOK
        elif match := _LITELLM_TIER.match(name):
            category = _LITELLM_FIELDS[match["field"]][1]
            rates[("standard", int(match["k"]) * 1000, category)] = per_token * MTOK
    modes: set[Mode] = {mode for mode, _, _ in rates}
    return PeerRates(key, rates, frozenset(modes))


def _per_token(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or abs(number.adjusted()) > 15:
        return None
    return number


def litellm_price_map() -> PriceMap:
    """LiteLLM's bundled cost map, read from the installed package's files without importing LiteLLM."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise CrosscheckError(
            "litellm is not installed: `pip install litellm`, or pass its cost map "
            "(model_prices_and_context_window.json) as FILE"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "model_prices_and_context_window_backup.json"
    if not path.exists():
        raise CrosscheckError(f"{path}: LiteLLM's bundled cost map is not where it used to be; pass it as FILE")
    try:
        version = importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        version = "(unknown version)"
    document = _read_json(path)
    if not isinstance(document, dict):
        raise CrosscheckError(f"{path}: expected a JSON object of models")
    return _LiteLLM(f"litellm {version}", document)


@dataclass(frozen=True)
class _Rows:
    label: str
    rows: Sequence[RateRow]
    aliases: Mapping[str, str]
    compared_modes: frozenset[Mode] = frozenset({"standard", "batch", "fast"})

    def lookup(self, model: Model, day: dt.date) -> PeerRates | None:
        names = {model.id, *model.aliases}
        names |= {alias for alias, target in self.aliases.items() if target in names}
        mine = [r for r in self.rows if r.model_id in names and r.inference_geo == "global" and r.in_force_on(day)]
        if not mine and not any(r.model_id in names for r in self.rows):
            return None
        rates = {(r.mode, r.tier_above_prompt_tokens, r.category): r.usd_per_mtok for r in mine}
        return PeerRates(mine[0].model_id if mine else model.id, rates, frozenset(r.mode for r in mine))


def file_price_map(path: Path) -> PriceMap:
    """A JSON price map from a file: our export's shape, or LiteLLM's (see the module docstring)."""
    document = _read_json(path)
    if isinstance(document, dict) and document.get("format") == "claude-rates":
        return _Rows(f"{path.name} (rates export)", _rows_from(document, path), _aliases_from(document))
    if isinstance(document, dict) and any(
        isinstance(v, dict) and "input_cost_per_token" in v for v in document.values()
    ):
        return _LiteLLM(f"{path.name} (litellm shape)", document)
    raise CrosscheckError(
        f"{path}: not a known price map: expected `python -m pricing export --format json` output or "
        "LiteLLM's model_prices_and_context_window.json shape"
    )


def _read_json(path: Path) -> Any:
    data = read_regular_file(path, limit=MAX_PEER_FILE_BYTES, what="price map")
    text = decode_text(data, str(path), what="price map")
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise CrosscheckError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    except RecursionError:
        raise CrosscheckError(f"{path}: the JSON is nested too deeply to be a price map") from None


def _rows_from(document: Mapping[str, Any], path: Path) -> list[RateRow]:
    rows = document.get("rows")
    if not isinstance(rows, list):
        raise CrosscheckError(f"{path}: 'rows' must be a list")
    return [_row_from(item, index, path) for index, item in enumerate(rows)]


def _row_from(item: Any, index: int, path: Path) -> RateRow:
    try:
        if not isinstance(item, dict):
            raise TypeError("not an object")
        return RateRow(
            model_id=str(item["model_id"]),
            model_name=str(item.get("model_name", item["model_id"])),
            valid_from=dt.date.fromisoformat(item["valid_from"]),
            valid_to=dt.date.fromisoformat(item["valid_to"]) if item.get("valid_to") else None,
            mode=_choice(item["mode"], ("standard", "batch", "fast")),
            inference_geo=_choice(item.get("inference_geo", "global"), ("global", "us")),
            tier_above_prompt_tokens=_tier(item.get("tier_above_prompt_tokens")),
            category=_choice(item["category"], CATEGORIES),
            usd_per_mtok=_rate(item["usd_per_mtok"]),
            provenance=_choice(item.get("provenance", "published"), ("published", "third_party", "derived")),
            date_precision=_choice(item.get("date_precision", "day"), ("day", "month", "year", "approximate")),
            sources=tuple(str(s) for s in item.get("sources", ()) if isinstance(s, str)),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        raise CrosscheckError(f"{path}: rows[{index}]: not a rate row ({type(error).__name__}: {error})") from None


def _choice(value: Any, allowed: Iterable[str]) -> Any:
    if value not in tuple(allowed):
        raise ValueError(f"{value!r} is not one of {tuple(allowed)}")
    return value


def _tier(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**9:
        raise ValueError(f"tier_above_prompt_tokens {value!r} is not a token count")
    return value


def _rate(value: Any) -> Decimal:
    number = _per_token(value)
    if number is None:
        raise ValueError(f"usd_per_mtok {value!r} is not a rate")
    return number


def _aliases_from(document: Mapping[str, Any]) -> dict[str, str]:
    aliases = document.get("model_aliases")
    if not isinstance(aliases, dict):
        return {}
    return {str(k): str(v) for k, v in aliases.items() if isinstance(k, str) and isinstance(v, str)}
