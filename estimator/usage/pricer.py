"""Pricing usage exactly: token sums per rate key, each key's rates resolved once from the price table.

Cost is linear in tokens while the rates stay the same, so records are not priced one by one: each is
added to the integer sums of its key — (day, model, price period, service tier, data residency, speed,
prompt-length tier, whether it touched the cache) — and every key is priced once at the end, exactly
(`Decimal`, the `EXACT` context). A million records cost a million dictionary look-ups and integer
additions, and a few dozen `Decimal` operations per key.

The rules, per key (usage-and-billing.md §1.5, anthropic-pricing.md §2 and §7):

- `input_tokens` at the input rate; 5-minute and 1-hour cache writes at their rates; cache writes whose
  TTL the source does not give (only `cache_creation_input_tokens`) at the 5-minute rate, with the extra
  they would cost at the 1-hour rate kept as the upper bound; cache reads at the model's read rate;
  output (thinking included) at the output rate; web searches at the table's price per 1,000 (the same in
  every mode); web fetches are counted, not charged.
- `service_tier` "batch" → the batch rates; "standard" or absent → the standard rates; "priority" and
  any other tier → not priced (no public price), each record listed.
- `inference_geo` "us" → every token rate × the table's residency multiplier, for models that offer it
  (a "us" record of another model is refused); "global", "not_available" or absent → standard.
- `speed` "fast" → the model's fast rates for that date (refused when it had none, and in batches).
- A prompt-length tier (Haiku 5.5 over 100K, the former 200K tier) applies per request on input + cache
  writes + cache reads; an Admin report row uses its `context_window` bucket instead.
- A model the table does not know, or a date before its first price, is refused: listed with its lines,
  never priced at $0.

`UsageAccumulator` does the adding and `finish()` returns a `PricedUsage`; `price_usage` prices records or
usage objects, `price_columns` prices columns of integers (added up by `estimator.usage.columns`, a loop that
hands `add` only what needs it; the bulk engines check against it). Rates are resolved once per model, price
period, tier, geo, speed and service tier, not once per day: the days of a period share its rates (a day on
which a feature was missing has a view of its own).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Context, Decimal, localcontext
from operator import attrgetter
from typing import Any, Literal, cast

from estimator.costs import EXACT, MTOK
from estimator.planning import token_scale
from estimator.rates import ModeRates, Unpriced, resolve_mode_rates
from estimator.results import CATEGORIES, Category
from estimator.usage.columns import sum_columns
from estimator.usage.readers import add_value
from estimator.usage.records import (
    COUNT_FIELDS,
    RESULT_TYPES,
    CostReportRow,
    ResultType,
    UsageProblem,
    UsageRecord,
)
from estimator.workload import MODES, Mode
from pricing import Model, PricePeriod, PriceTable, PricingError, PromptTier, load_price_table

__all__ = [
    "MAX_LISTED",
    "ModelWhatIf",
    "NotBilled",
    "PricedLine",
    "PricedUsage",
    "TokenSums",
    "UsageAccumulator",
    "price_columns",
    "price_usage",
]

MAX_LISTED = 1_000
"""Problems and not-billed requests kept by name; beyond this they are counted, so memory stays bounded."""

_LINES_PER_REFUSAL = 10
_ESTIMATE = Context(prec=40)  # what-if on another model scales tokens by a ratio: an estimate, not money owed

# Positions in a key's integer sums.
_REQUESTS, _RECORDS, _INPUT, _W5M, _W1H, _WUNSPLIT, _READ, _OUTPUT, _THINKING, _SEARCH, _FETCH = range(11)
_WIDTH = 11


@dataclass(frozen=True)
class TokenSums:
    """Integer sums of the usage fields over some records."""

    requests: int = 0
    records: int = 0
    input_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_write_unsplit_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0
    web_search_requests: int = 0
    web_fetch_requests: int = 0

    @classmethod
    def of(cls, sums: Sequence[int]) -> TokenSums:
        return cls(*sums)

    def __add__(self, other: TokenSums) -> TokenSums:
        return TokenSums(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    @classmethod
    def total(cls, sums: Iterable[TokenSums]) -> TokenSums:
        """The field-by-field sum of many (thousands of lines: one pass per field, not a record per line)."""
        columns = tuple(zip(*map(_token_sum_values, sums), strict=True))
        return cls(*map(sum, columns)) if columns else cls()

    def values(self) -> tuple[int, ...]:
        return _token_sum_values(self)

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens + self.cache_write_unsplit_tokens

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    def quantity(self, category: Category) -> int:
        """Tokens (or searches) billed in a category; unsplit cache writes bill as 5-minute writes."""
        if category == "uncached_input":
            return self.input_tokens
        if category == "cache_write_5m":
            return self.cache_write_5m_tokens + self.cache_write_unsplit_tokens
        if category == "cache_write_1h":
            return self.cache_write_1h_tokens
        if category == "cache_read":
            return self.cache_read_tokens
        if category == "output":
            return self.output_tokens
        if category == "thinking":
            return self.thinking_tokens  # shown apart, billed (and priced here) inside output
        if category == "code_execution":
            return 0  # not in the usage object: billed by container time
        return self.web_search_requests


# Read once per sums added (summaries add thousands): the field names resolved once, not per call.
_token_sum_values = attrgetter(*(item.name for item in fields(TokenSums)))


@dataclass(frozen=True)
class PricedLine:
    """The usage of one rate key on one day, priced. `usd` has every category; `what_if_usd` is the same
    usage in each mode (None with a reason in `what_if_reasons` when the mode has no price)."""

    day: dt.date
    model_id: str
    model_name: str
    prices_effective_from: dt.date
    service_tier: Literal["standard", "batch"]
    inference_geo: Literal["global", "us"]
    speed: Literal["standard", "fast"]
    tier_above_tokens: int | None
    billed_mode: Mode
    tokens: TokenSums
    rates: ModeRates
    usd: Mapping[Category, Decimal]
    total_usd: Decimal
    unsplit_write_extra_usd: Decimal
    what_if_usd: Mapping[Mode, Decimal | None]
    what_if_reasons: Mapping[Mode, str]


@dataclass(frozen=True)
class NotBilled:
    """A batch request that was not billed (errored, canceled, expired), or an error response."""

    result_type: ResultType
    custom_id: str | None
    source: str
    line: int
    detail: str | None = None


@dataclass(frozen=True)
class ModelWhatIf:
    """The same usage on another model: tokens converted between tokenizer generations (expected, with the
    conversion's low and high), at the other model's rates on each record's date."""

    model_id: str
    model_name: str
    low_usd: Decimal | None
    expected_usd: Decimal | None
    high_usd: Decimal | None
    expected_by_category: Mapping[Category, Decimal]
    scale_note: str
    unavailable_reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None


@dataclass(frozen=True)
class PricedUsage:
    """Everything priced, and everything that could not be, with the reason and the lines."""

    lines: tuple[PricedLine, ...]
    total_usd: Decimal
    requests_by_result: Mapping[ResultType, int]
    not_billed: tuple[NotBilled, ...]
    cost_rows: tuple[CostReportRow, ...]
    problems: tuple[UsageProblem, ...]
    problems_not_listed: int
    unpriced_records: int
    what_if_model: ModelWhatIf | None
    default_day: dt.date
    undated_records: int = 0

    @property
    def priced_records(self) -> int:
        return sum(line.tokens.records for line in self.lines)

    @property
    def category_usd(self) -> dict[Category, Decimal]:
        with localcontext(EXACT):
            return {c: sum((line.usd[c] for line in self.lines), Decimal(0)) for c in CATEGORIES}

    @property
    def tokens(self) -> TokenSums:
        return TokenSums.total(line.tokens for line in self.lines)


# --- resolving rates --------------------------------------------------------------------------------


class _Refusal:
    """Records that cannot be priced for one reason: counted, with their first lines."""

    __slots__ = ("code", "lines", "message", "records")

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        self.records = 0
        self.lines: list[tuple[str, int, str | None]] = []

    def add(self, source: str, line: int, custom_id: str | None, records: int = 1) -> None:
        self.records += records
        if len(self.lines) < _LINES_PER_REFUSAL:
            self.lines.append((source, line, custom_id))

    def problem(self) -> UsageProblem:
        source, line, custom_id = self.lines[0] if self.lines else ("", 0, None)
        others = [f"{s}:{n}" if s != source else str(n) for s, n, _ in self.lines[1:]]
        more = f"; also line{'s' if len(others) > 1 else ''} {', '.join(others)}" if others else ""
        if self.records > len(self.lines) and others:
            more += ", ..."
        return UsageProblem(source, line, "error", self.code, self.message + more, custom_id, self.records)


@dataclass(frozen=True, slots=True)
class _PeriodInfo:
    """A model's prices as they could be bought on one day (a dated view: features that did not exist that
    day have no rates, and the view says why)."""

    model: Model
    day: dt.date
    period: PricePeriod
    thresholds: tuple[int, ...]
    retired_warning: str | None


@dataclass(frozen=True, slots=True)
class _Resolved:
    """A key's rates in the billed mode, with the normalised dimensions."""

    rates: ModeRates
    service_tier: Literal["standard", "batch"]
    geo: Literal["global", "us"]
    speed: Literal["standard", "fast"]
    tier: PromptTier | None
    geo_multiplier: Decimal
    billed_mode: Mode


class UsagePricer:
    """Rates from the price table, resolved once per key and kept."""

    def __init__(self, table: PriceTable) -> None:
        self.table = table
        self._periods: dict[tuple[str, dt.date], _PeriodInfo | _Refusal] = {}
        self._refusals: dict[tuple[str, str], _Refusal] = {}
        self._rates: dict[tuple[Any, ...], tuple[PricePeriod, _Resolved | _Refusal]] = {}
        self._mode_rates: dict[tuple[Any, ...], tuple[PricePeriod, ModeRates | Unpriced]] = {}

    def refusal(self, code: str, message: str) -> _Refusal:
        """One shared refusal per (code, message): the same unknown model on many lines is one problem."""
        found = self._refusals.get((code, message))
        if found is None:
            found = self._refusals[(code, message)] = _Refusal(code, message)
        return found

    @property
    def periods(self) -> dict[tuple[str, dt.date], _PeriodInfo | _Refusal]:
        """The (model, day) → prices cache, filled by `period`."""
        return self._periods

    @property
    def refusals(self) -> list[_Refusal]:
        return [r for r in self._refusals.values() if r.records]

    def period(self, model_name: str, day: dt.date) -> _PeriodInfo | _Refusal:
        key = (model_name, day)
        found = self._periods.get(key)
        if found is None:
            found = self._periods[key] = self._period(model_name, day)
        return found

    def _period(self, model_name: str, day: dt.date) -> _PeriodInfo | _Refusal:
        try:
            model = self.table.model(model_name)
        except PricingError as error:
            return self.refusal("unknown_model", str(error))
        period = model.period_as_of(day)
        if period is None:
            first = model.periods_in_effect[0].effective_from
            return self.refusal(
                "before_release",
                f"{model.name} ({model.id}) has no price before {first} (released {model.lifecycle.released}); "
                f"a record dated {day} cannot be priced — is its date right? (pass --as-of for undated files)",
            )
        retired = model.lifecycle.retired
        warning = None
        if retired is not None and day >= retired:
            warning = (
                f"{model.name} retired on {retired}; usage dated {day} is priced at its last prices, but the API "
                "refused calls after retirement, so the date may be wrong (undated files take --as-of)"
            )
        thresholds = tuple(tier.above_prompt_tokens for tier in period.tiers)
        return _PeriodInfo(model, day, period, thresholds, warning)

    def resolve(
        self,
        info: _PeriodInfo,
        service_tier: str | None,
        geo: str | None,
        speed: str | None,
        tier_threshold: int | None,
        cached: int,
    ) -> _Resolved | _Refusal:
        # Per period view, not per day (nothing here depends on the day): see `mode_rates`.
        key = (info.model.id, id(info.period), service_tier, geo, speed, tier_threshold, cached)
        found = self._rates.get(key)
        if found is None:
            resolved = self._resolve(info, service_tier, geo, speed, tier_threshold, cached)
            found = self._rates[key] = (info.period, resolved)
        return found[1]

    def _resolve(
        self,
        info: _PeriodInfo,
        service_tier: str | None,
        geo: str | None,
        speed: str | None,
        tier_threshold: int | None,
        cached: int,
    ) -> _Resolved | _Refusal:
        """`cached`: 0 no cache tokens, 1 cache tokens, 2 cache tokens including 1-hour writes."""
        model, period = info.model, info.period
        tier_name = _service_tier(service_tier)
        if tier_name is None:
            return self._tier_refusal(service_tier)
        speed_name = _speed(speed)
        if speed_name is None:
            return self.refusal("unknown_speed", f"speed {speed!r} is not one the API reports (standard, fast)")
        if speed_name == "fast" and tier_name == "batch":
            return self.refusal("fast_in_batch", "speed 'fast' cannot be billed in Message Batches (not available)")
        geo_name = _geo(geo)
        if geo_name is None:
            return self.refusal(
                "unknown_inference_geo", f"inference_geo {geo!r} has no price rule (known: global, us, not_available)"
            )
        if geo_name == "us" and not model.data_residency_us:
            return self.refusal(
                "inference_geo_unavailable",
                f"inference_geo 'us' is not offered for {model.name} (Claude 4.6 and later only), so this record "
                "cannot be priced",
            )
        multiplier = self.table.rules.data_residency.us_multiplier if geo_name == "us" else Decimal(1)
        tier = next((t for t in period.tiers if t.above_prompt_tokens == tier_threshold), None)
        mode: Mode = ("batch" if tier_name == "batch" else "realtime") + ("_cached" if cached else "")  # type: ignore[assignment]
        rates = self.mode_rates(info, mode, tier, speed_name == "fast", multiplier)
        if isinstance(rates, Unpriced):
            return self.refusal(
                "not_priced", f"{rates.reason} (prices in effect from {period.effective_from}), so not priced"
            )
        if cached == 2 and rates.cache_write_1h_mtok is None:
            reason = period.unavailable("cache_ttl_1h") or f"no 1-hour cache-write price for {model.name}"
            return self.refusal("not_priced", f"1-hour cache writes: {reason}, so not priced")
        return _Resolved(rates, tier_name, geo_name, speed_name, tier, multiplier, mode)

    def mode_rates(
        self, info: _PeriodInfo, mode: Mode, tier: PromptTier | None, fast: bool, multiplier: Decimal
    ) -> ModeRates | Unpriced:
        # Keyed by the period view, not the day: every day of a period without feature gaps shares one view,
        # so a month of records resolves each mode's rates once rather than once a day. The view is kept in
        # the entry, so its id cannot be reused by another object while the entry lives.
        period = info.period
        key = (info.model.id, id(period), mode, tier.above_prompt_tokens if tier else None, fast, multiplier)
        found = self._mode_rates.get(key)
        if found is None:
            rates = resolve_mode_rates(
                period, mode, tier=tier, fast=fast, geo_multiplier=multiplier, model_name=info.model.name
            )
            found = self._mode_rates[key] = (period, rates)
        return found[1]

    def _tier_refusal(self, service_tier: object) -> _Refusal:
        if service_tier == "priority":
            return self.refusal(
                "priority_tier",
                "service_tier 'priority': Priority Tier is billed against the organization's capacity commitment; "
                "Anthropic publishes no price for it (and the cost report leaves it out), so it is not priced",
            )
        return self.refusal(
            "unknown_service_tier",
            f"service_tier {service_tier!r} has no public price (priced: standard, batch), so it is not priced",
        )


def _service_tier(value: object) -> Literal["standard", "batch"] | None:
    if value is None or value == "standard":
        return "standard"
    if value == "batch":
        return "batch"
    return None


def _speed(value: object) -> Literal["standard", "fast"] | None:
    if value is None or value == "standard":
        return "standard"
    if value == "fast":
        return "fast"
    return None


def _geo(value: object) -> Literal["global", "us"] | None:
    # "not_available" is reported for models that predate the parameter: they run (and bill) as global.
    if value is None or value in ("global", "not_available"):
        return "global"
    if value == "us":
        return "us"
    return None


def category_usd(sums: Sequence[int], rates: ModeRates, search_usd: Decimal) -> dict[Category, Decimal]:
    """Each category's cost of some integer sums at a mode's rates (exact; call inside `localcontext(EXACT)`).

    A mode without cache rates takes cache tokens as plain input: that is what the what-if "without
    caching" modes mean, and a billed key that read or wrote the cache always has cache rates (1-hour
    writes included, when it has any: see `UsagePricer.resolve`)."""
    return dict(zip(CATEGORIES, _category_values(sums, rates, search_usd), strict=True))


def _category_values(sums: Sequence[int], rates: ModeRates, search_usd: Decimal) -> tuple[Decimal, ...]:
    """`category_usd`'s values in `CATEGORIES` order, without the dict: a total is their sum from Decimal(0)
    in this order (the order fixes the exponent of an exact Decimal sum, so totals stay digit for digit)."""
    # Thinking is billed inside output (usage.output_tokens includes it), code execution by container time
    # (which the usage object does not carry): both are 0 here.
    zero = Decimal(0)
    cache_writes_5m = sums[_W5M] + sums[_WUNSPLIT]
    if rates.cache_read_mtok is None or rates.cache_write_5m_mtok is None:
        uncached = sums[_INPUT] + cache_writes_5m + sums[_W1H] + sums[_READ]
        output = sums[_OUTPUT] * rates.output_mtok / MTOK
        return (uncached * rates.input_mtok / MTOK, zero, zero, zero, output, sums[_SEARCH] * search_usd, zero, zero)
    hour = rates.cache_write_1h_mtok
    return (
        sums[_INPUT] * rates.input_mtok / MTOK,
        cache_writes_5m * rates.cache_write_5m_mtok / MTOK,
        sums[_W1H] * hour / MTOK if sums[_W1H] and hour is not None else zero,
        sums[_READ] * rates.cache_read_mtok / MTOK,
        sums[_OUTPUT] * rates.output_mtok / MTOK,
        sums[_SEARCH] * search_usd,
        zero,
        zero,
    )


# --- adding up ----------------------------------------------------------------------------------------

_WhatIfPlan = tuple[tuple[Mode, ModeRates | Unpriced], ...]
"""Each mode with the rates a line of one key is priced at in it (or why it has none)."""


@dataclass
class _Target:
    """What-if on another model: sums per (scale, day, key) in the source tokens; scaled when priced."""

    model: Model
    sums: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    scales: dict[str, tuple[Decimal, Decimal, Decimal]] = field(default_factory=dict)
    thresholds: dict[dt.date, tuple[int, ...]] = field(default_factory=dict)
    notes: set[str] = field(default_factory=set)


class UsageAccumulator:
    """Adds usage to integer sums per key. Feed it with `add` (the readers call it once per record),
    `add_record`, `not_billed`, `cost_row` and `problem`; `finish()` prices every key."""

    def __init__(
        self,
        table: PriceTable | None = None,
        *,
        default_day: dt.date | None = None,
        what_if_model: str | None = None,
    ) -> None:
        self.table = table or load_price_table()
        self.pricer = UsagePricer(self.table)
        self._periods = self.pricer.periods  # the pricer's cache, read directly on the hot path
        self.default_day = default_day or dt.date.today()
        self._sums: dict[tuple[Any, ...], list[int] | _Refusal] = {}
        self._keys: dict[tuple[Any, ...], tuple[_PeriodInfo, _Resolved]] = {}
        self._warnings: dict[tuple[str, str], UsageProblem] = {}
        self._problems: list[UsageProblem] = []
        self.problems_not_listed = 0
        self.unpriced_records = 0
        self.undated_records = 0
        self.requests_by_result: dict[ResultType, int] = dict.fromkeys(RESULT_TYPES, 0)
        self._not_billed: list[NotBilled] = []
        self._cost_rows: list[CostReportRow] = []
        self._target = _Target(self.table.model(what_if_model)) if what_if_model else None
        self._search_usd = self.table.rules.web_search.usd_per_1000_searches / 1000
        self._what_if_plans: dict[tuple[int, int, bool], tuple[_Resolved, PricePeriod, _WhatIfPlan]] = {}

    # The hot path: one call per record, positional for speed.
    def add(
        self,
        model: str,
        day: dt.date,
        service_tier: str | None,
        geo: str | None,
        speed: str | None,
        input_tokens: int,
        cache_write_5m_tokens: int,
        cache_write_1h_tokens: int,
        cache_write_unsplit_tokens: int,
        cache_read_tokens: int,
        output_tokens: int,
        thinking_tokens: int,
        web_search_requests: int,
        web_fetch_requests: int,
        requests: int,
        source: str,
        line: int,
        custom_id: str | None = None,
        report_bucket: str | None = None,
    ) -> None:
        """Add one request's usage (or one iteration's, or one report row's: then `report_bucket` is its
        `context_window`, or "" when the report was not grouped by it)."""
        info = self._periods.get((model, day)) or self.pricer.period(model, day)
        if isinstance(info, _Refusal):
            info.add(source, line, custom_id)
            self.unpriced_records += 1
            return
        cached = (
            2
            if cache_write_1h_tokens
            else int(bool(cache_write_5m_tokens or cache_write_unsplit_tokens or cache_read_tokens))
        )
        tier = None
        if info.thresholds:
            if report_bucket is not None:
                tier = self._report_tier(info, report_bucket, source, line)
            else:
                prompt = input_tokens + cache_write_5m_tokens + cache_write_1h_tokens + cache_write_unsplit_tokens
                tier = _crossed(info.thresholds, prompt + cache_read_tokens)
        key = (day, model, service_tier, geo, speed, tier, cached)
        sums = self._sums.get(key)
        if sums is None:
            sums = self._new_key(key, info, source, line)
        if isinstance(sums, _Refusal):
            sums.add(source, line, custom_id)
            self.unpriced_records += 1
            return
        sums[_REQUESTS] += requests
        sums[_RECORDS] += 1
        sums[_INPUT] += input_tokens
        sums[_W5M] += cache_write_5m_tokens
        sums[_W1H] += cache_write_1h_tokens
        sums[_WUNSPLIT] += cache_write_unsplit_tokens
        sums[_READ] += cache_read_tokens
        sums[_OUTPUT] += output_tokens
        sums[_THINKING] += thinking_tokens
        sums[_SEARCH] += web_search_requests
        sums[_FETCH] += web_fetch_requests
        if self._target is not None:
            values: tuple[int, ...] = (requests, 1, input_tokens, cache_write_5m_tokens, cache_write_1h_tokens)
            values += (cache_write_unsplit_tokens, cache_read_tokens, output_tokens, thinking_tokens)
            values += (web_search_requests, web_fetch_requests)
            self._add_target(info, (day, service_tier, geo, speed), values, report_bucket)

    def add_record(self, record: UsageRecord) -> None:
        """Add one `UsageRecord` (records without a model or date take the problem or the default day)."""
        if record.result_type != "succeeded":
            self.not_billed(record.result_type, record.custom_id, record.source, record.line)
            return
        self.requests_by_result["succeeded"] += record.requests
        if record.model is None:
            self.problem(
                UsageProblem(
                    record.source, record.line, "error", "missing_model", "the record names no model; pass model=..."
                ),
                unpriced=True,
            )
            return
        self.add(
            record.model,
            record.day or self.default_day,
            record.service_tier,
            record.inference_geo,
            record.speed,
            record.input_tokens,
            record.cache_write_5m_tokens,
            record.cache_write_1h_tokens,
            record.cache_write_unsplit_tokens,
            record.cache_read_tokens,
            record.output_tokens,
            record.thinking_tokens,
            record.web_search_requests,
            record.web_fetch_requests,
            record.requests,
            record.source,
            record.line,
            record.custom_id,
            (record.context_window or "") if record.kind in ("usage_report", "analytics_usage") else None,
        )

    def sums_for(
        self, model: Any, day: Any, service_tier: Any, geo: Any, speed: Any, tier: int | None, cached: int
    ) -> list[int] | None:
        """The live sums of a key once `add` has made it, for a caller that adds the key's next records
        itself (`estimator.usage.columns`); None when the key was refused, or when a what-if model needs
        every record to pass through `add`."""
        if self._target is not None:
            return None
        sums = self._sums.get((day, model, service_tier, geo, speed, tier, cached))
        return sums if isinstance(sums, list) else None

    def prompt_tiers(self, model: Any, day: Any) -> tuple[int, ...]:
        """The prompt-length thresholds of the model's prices on `day`, once `add` has looked them up."""
        info = self._periods.get((model, day))
        return info.thresholds if isinstance(info, _PeriodInfo) else ()

    def count_request(self, result_type: ResultType, requests: int = 1) -> None:
        self.requests_by_result[result_type] += requests

    def not_billed(
        self, result_type: ResultType, custom_id: str | None, source: str, line: int, detail: str | None = None
    ) -> None:
        self.requests_by_result[result_type] += 1
        if len(self._not_billed) < MAX_LISTED:
            self._not_billed.append(NotBilled(result_type, custom_id, source, line, detail))

    def cost_row(self, row: CostReportRow) -> None:
        self._cost_rows.append(row)

    def problem(self, problem: UsageProblem, *, unpriced: bool = False) -> None:
        if unpriced:
            self.unpriced_records += problem.records
        if len(self._problems) < MAX_LISTED:
            self._problems.append(problem)
        else:
            self.problems_not_listed += 1

    def warn_once(self, code: str, subject: str, message: str, source: str, line: int, records: int = 1) -> None:
        """A warning said once per (code, subject), counting the records it concerns."""
        found = self._warnings.get((code, subject))
        if found is None:
            self._warnings[(code, subject)] = UsageProblem(source, line, "warning", code, message, None, records)
        else:
            self._warnings[(code, subject)] = UsageProblem(
                found.source, found.line, "warning", code, found.message, None, found.records + records
            )

    def _report_tier(self, info: _PeriodInfo, bucket: str, source: str, line: int) -> int | None:
        """An Admin report row sums many requests: its `context_window` bucket says whether they were over
        200K; a tier with a lower threshold (Haiku 5.5's 100K) cannot be told apart inside "0-200k"."""
        tier = _bucket_tier(info.thresholds, bucket)
        if tier is None and (bucket == "" or any(t < 200_000 for t in info.thresholds)):
            self.warn_once(
                "tier_unknown_in_report",
                info.model.id,
                f"{info.model.name}: a usage report row cannot say which requests were over the "
                f"{min(info.thresholds):,}-token prompt tier"
                + (" (not grouped by context_window)" if bucket == "" else "")
                + "; priced at the base rates, so the total may be low (the cost report has the billed amount)",
                source,
                line,
            )
        return tier

    def _new_key(self, key: tuple[Any, ...], info: _PeriodInfo, source: str, line: int) -> list[int] | _Refusal:
        _day, _model, service_tier, geo, speed, tier, cached = key
        resolved = self.pricer.resolve(info, service_tier, geo, speed, tier, cached)
        if isinstance(resolved, _Refusal):
            self._sums[key] = resolved
            return resolved
        if info.retired_warning:
            self.warn_once("after_retirement", info.model.id, info.retired_warning, source, line)
        if resolved.rates.derived_note:
            self.warn_once(
                "derived_rates", info.model.id, f"{info.model.name}: {resolved.rates.derived_note}", source, line
            )
        sums = [0] * _WIDTH
        self._sums[key] = sums
        self._keys[key] = (info, resolved)
        return sums

    def _add_target(
        self, info: _PeriodInfo, dims: tuple[Any, ...], values: tuple[int, ...], report_bucket: str | None
    ) -> None:
        target = self._target
        assert target is not None
        scales = target.scales.get(info.model.tokenizer)
        if scales is None:
            scale = token_scale(info.model.tokenizer, target.model.tokenizer, self.table)
            scales = target.scales[info.model.tokenizer] = (scale.low, scale.expected, scale.high)
        day = dims[0]
        thresholds = target.thresholds.get(day)
        if thresholds is None:
            period = target.model.launch_period_as_of(day)
            thresholds = target.thresholds[day] = tuple(t.above_prompt_tokens for t in period.tiers)
        cached = 2 if values[_W1H] else int(any(values[_W5M : _READ + 1]))
        prompt = sum(values[_INPUT : _READ + 1])
        for index, factor in enumerate(scales):
            if report_bucket is not None:
                tier = _bucket_tier(thresholds, report_bucket)
            else:
                with localcontext(_ESTIMATE):
                    tier = _crossed(thresholds, prompt * factor)
            key = (index, info.model.tokenizer, *dims, tier, cached)
            sums = target.sums.get(key)
            if sums is None:
                sums = target.sums[key] = [0] * _WIDTH
            for position, value in enumerate(values):
                sums[position] += value

    # --- pricing every key ---------------------------------------------------------------------------

    def finish(self) -> PricedUsage:
        merged: dict[tuple[Any, ...], tuple[_PeriodInfo, _Resolved, list[int]]] = {}
        for key, sums in self._sums.items():
            if isinstance(sums, _Refusal):
                continue
            info, resolved = self._keys[key]
            # Raw dimensions that mean the same ("global" and absent) make one line.
            line_key: tuple[Any, ...] = (key[0], info.model.id, info.period.effective_from)
            line_key += (resolved.service_tier, resolved.geo, resolved.speed, key[5], key[6])
            found = merged.get(line_key)
            if found is None:
                merged[line_key] = (info, resolved, list(sums))
            else:
                for position, value in enumerate(sums):
                    found[2][position] += value
        with localcontext(EXACT):  # once for all the lines, not once per line
            lines = [self._priced_line(key[0], info, resolved, sums) for key, (info, resolved, sums) in merged.items()]
        lines.sort(key=lambda line: (line.day, line.model_id, line.service_tier, line.billed_mode))
        problems = list(self._problems)
        problems += [refusal.problem() for refusal in self.pricer.refusals]
        problems += list(self._warnings.values())
        problems.sort(key=lambda p: (p.severity != "error", p.source, p.line))
        with localcontext(EXACT):
            total = sum((line.total_usd for line in lines), Decimal(0))
        return PricedUsage(
            lines=tuple(lines),
            total_usd=total,
            requests_by_result=dict(self.requests_by_result),
            not_billed=tuple(self._not_billed),
            cost_rows=tuple(self._cost_rows),
            problems=tuple(problems),
            problems_not_listed=self.problems_not_listed,
            unpriced_records=self.unpriced_records,
            what_if_model=self._model_what_if(),
            default_day=self.default_day,
            undated_records=self.undated_records,
        )

    def _priced_line(self, day: dt.date, info: _PeriodInfo, resolved: _Resolved, sums: list[int]) -> PricedLine:
        """One line priced (exact: call inside `localcontext(EXACT)`)."""
        rates = resolved.rates
        usd = category_usd(sums, rates, self._search_usd)
        total = sum(usd.values(), Decimal(0))
        extra = Decimal(0)
        if sums[_WUNSPLIT] and rates.cache_write_1h_mtok is not None and rates.cache_write_5m_mtok is not None:
            extra = sums[_WUNSPLIT] * (rates.cache_write_1h_mtok - rates.cache_write_5m_mtok) / MTOK
        what_if, reasons = self._what_if_modes(info, resolved, sums, total)
        return PricedLine(
            day=day,
            model_id=info.model.id,
            model_name=info.model.name,
            prices_effective_from=info.period.effective_from,
            service_tier=resolved.service_tier,
            inference_geo=resolved.geo,
            speed=resolved.speed,
            tier_above_tokens=resolved.tier.above_prompt_tokens if resolved.tier else None,
            billed_mode=resolved.billed_mode,
            tokens=TokenSums.of(sums),
            rates=rates,
            usd=usd,
            total_usd=total,
            unsplit_write_extra_usd=extra,
            what_if_usd=what_if,
            what_if_reasons=reasons,
        )

    def _what_if_modes(
        self, info: _PeriodInfo, resolved: _Resolved, sums: list[int], total: Decimal
    ) -> tuple[dict[Mode, Decimal | None], dict[Mode, str]]:
        """The same tokens in each mode: the uncached modes take every cache token as input; batch modes run at
        standard speed (fast mode does not exist in batches). `total` is the line's cost at its billed rates.

        Modes priced at the same rates (the billed mode's, or "cached" and plain for a line that never touched
        the cache) cost the same: computed once per rates object, which gives the very same Decimal."""
        costs: dict[Mode, Decimal | None] = {}
        reasons: dict[Mode, str] = {}
        known = {id(resolved.rates): total}
        for mode, rates in self._what_if_rates(info, resolved, any(sums[_W5M : _READ + 1])):
            if isinstance(rates, Unpriced):
                costs[mode] = None
                reasons[mode] = rates.reason
                continue
            if sums[_W1H] and rates.cache_read_mtok is not None and rates.cache_write_1h_mtok is None:
                costs[mode] = None
                reasons[mode] = info.period.unavailable("cache_ttl_1h") or "no 1-hour cache-write price"
                continue
            cost = known.get(id(rates))
            if cost is None:
                cost = known[id(rates)] = sum(_category_values(sums, rates, self._search_usd), Decimal(0))
            costs[mode] = cost
        return costs, reasons

    def _what_if_rates(self, info: _PeriodInfo, resolved: _Resolved, touched_cache: bool) -> _WhatIfPlan:
        """Each mode's rates for a line of this key: the same for every line of the key's period, so found once."""
        plan_key = (id(resolved), id(info.period), touched_cache)
        found = self._what_if_plans.get(plan_key)
        if found is None:
            plan: list[tuple[Mode, ModeRates | Unpriced]] = []
            for mode in MODES:
                fast = resolved.speed == "fast" and not mode.startswith("batch")
                plain = mode if touched_cache or not mode.endswith("cached") else mode.removesuffix("_cached")
                rates = self.pricer.mode_rates(info, cast(Mode, plain), resolved.tier, fast, resolved.geo_multiplier)
                plan.append((mode, rates))
            # The key's objects are kept in the entry, so their ids cannot be reused while it lives.
            found = self._what_if_plans[plan_key] = (resolved, info.period, tuple(plan))
        return found[2]

    def _model_what_if(self) -> ModelWhatIf | None:
        target = self._target
        if target is None:
            return None
        model = target.model
        totals = [Decimal(0)] * 3
        by_category: dict[Category, Decimal] = dict.fromkeys(CATEGORIES, Decimal(0))
        reasons: set[str] = set()
        notes = set(target.notes)
        for key, sums in target.sums.items():
            index, tokenizer, day, service_tier, geo, speed, tier, cached = key
            if model.period_as_of(day) is None:
                notes.add(f"{model.name} was not released on every record's date: its launch prices are used")
            period = model.launch_period_as_of(day)
            info = _PeriodInfo(model, day, period, tuple(t.above_prompt_tokens for t in period.tiers), None)
            resolved = self.pricer.resolve(info, service_tier, geo, speed, tier, cached)
            if isinstance(resolved, _Refusal):
                reasons.add(resolved.message)
                continue
            factor = target.scales[tokenizer][index]
            with localcontext(_ESTIMATE):
                usd = category_usd(sums, resolved.rates, self._search_usd)
                token_usd = sum((v for c, v in usd.items() if c != "web_search"), Decimal(0))
                totals[index] += token_usd * factor + usd["web_search"]
                if index == 1:
                    for category, value in usd.items():
                        by_category[category] += value if category == "web_search" else value * factor
        scale_notes = sorted(
            f"{source} → {model.tokenizer} tokenizer: × {low:.2f}–{high:.2f} (expected {expected:.2f})"
            for source, (low, expected, high) in target.scales.items()
            if source != model.tokenizer
        )
        scale_note = "; ".join(scale_notes) or "same tokenizer generation: token counts carried over as measured"
        if reasons:
            return ModelWhatIf(
                model.id, model.name, None, None, None, {}, scale_note, "; ".join(sorted(reasons)), tuple(sorted(notes))
            )
        low, expected, high = totals
        return ModelWhatIf(
            model.id, model.name, low, expected, high, by_category, scale_note, None, tuple(sorted(notes))
        )


class RecordPricer:
    """Prices one request at a time with the same rates and arithmetic as the accumulator (for per-request
    reports such as `reconcile`). Token figures may be Decimals (an estimate's scaled counts)."""

    def __init__(self, table: PriceTable, default_day: dt.date) -> None:
        self.pricer = UsagePricer(table)
        self.default_day = default_day
        self._search_usd = table.rules.web_search.usd_per_1000_searches / 1000

    def cost(self, records: Iterable[UsageRecord]) -> Decimal | str:
        """The exact cost of the records (one request and its iterations), or why it has none."""
        total = Decimal(0)
        for record in records:
            if record.result_type != "succeeded":
                continue
            if record.model is None:
                return "the record names no model"
            sums: tuple[int, ...] = (record.requests, 1, record.input_tokens, record.cache_write_5m_tokens)
            sums += (record.cache_write_1h_tokens, record.cache_write_unsplit_tokens, record.cache_read_tokens)
            sums += (record.output_tokens, record.thinking_tokens, record.web_search_requests)
            sums += (record.web_fetch_requests,)
            cost = self.cost_of(
                record.model,
                record.day or self.default_day,
                record.service_tier,
                record.inference_geo,
                record.speed,
                sums,
            )
            if isinstance(cost, str):
                return cost
            total += cost
        return total

    def cost_of(
        self,
        model: str,
        day: dt.date,
        service_tier: str | None,
        geo: str | None,
        speed: str | None,
        sums: Sequence[int | Decimal],
    ) -> Decimal | str:
        """Sums in the accumulator's order: requests, records, input, 5m, 1h, unsplit, reads, output, thinking,
        searches, fetches."""
        info = self.pricer.period(model, day)
        if isinstance(info, _Refusal):
            return info.message
        prompt = sum(sums[_INPUT : _READ + 1], Decimal(0))
        tier = _crossed(info.thresholds, prompt)
        cached = 2 if sums[_W1H] else int(any(sums[_W5M : _READ + 1]))
        resolved = self.pricer.resolve(info, service_tier, geo, speed, tier, cached)
        if isinstance(resolved, _Refusal):
            return resolved.message
        with localcontext(_ESTIMATE if any(isinstance(v, Decimal) for v in sums) else EXACT):
            return sum(category_usd(sums, resolved.rates, self._search_usd).values(), Decimal(0))  # type: ignore[arg-type]


def _crossed(thresholds: tuple[int, ...], prompt: int | Decimal) -> int | None:
    """The highest threshold the prompt strictly exceeds (the table's tiers are in increasing order)."""
    tier = None
    for threshold in thresholds:
        if prompt > threshold:
            tier = threshold
    return tier


def _bucket_tier(thresholds: tuple[int, ...], bucket: str) -> int | None:
    """A report's "200k-1M" bucket holds prompts over 200,000 tokens: every tier up to 200K is crossed."""
    return _crossed(thresholds, 200_001) if bucket == "200k-1M" else None


# --- entry points ---------------------------------------------------------------------------------


def price_usage(
    usage: UsageRecord | Mapping[str, Any] | Iterable[UsageRecord | Mapping[str, Any]] | Any,
    *,
    model: str | None = None,
    as_of: dt.date | None = None,
    table: PriceTable | None = None,
    what_if_model: str | None = None,
) -> PricedUsage:
    """Price usage exactly: a `UsageRecord`, a Messages response or `usage` object (a dict, or the SDK's own
    object), a batch result line, or an iterable of those. `model` names the model of bare usage objects;
    `as_of` dates undated records (default today).

        >>> price_usage({"input_tokens": 1000, "output_tokens": 200}, model="claude-sonnet-4-6").total_usd
        Decimal('0.006')
    """
    accumulator = UsageAccumulator(table, default_day=as_of, what_if_model=what_if_model)
    items: Iterable[Any] = [usage] if _is_single(usage) else cast(Iterable[Any], usage)
    for position, item in enumerate(items, start=1):
        if isinstance(item, UsageRecord):
            accumulator.add_record(item)
        else:
            add_value(accumulator, _plain(item), source="<usage>", line=position, model=model)
    return accumulator.finish()


def _is_single(value: object) -> bool:
    return isinstance(value, UsageRecord | Mapping) or hasattr(value, "model_dump") or isinstance(value, str | bytes)


def _plain(value: object) -> object:
    """An SDK object (pydantic) as the plain dict its JSON would give."""
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


def _python_values(values: Sequence[Any]) -> Sequence[Any]:
    """A NumPy integer array or an Arrow array as Python values (at C speed; exact ints, dates, None), so that
    its rows are priced as the list they hold; anything else as given. (A NumPy float array stays: its
    floats are refused row by row, never truncated.)"""
    kind = getattr(getattr(values, "dtype", None), "kind", None)
    if kind in ("i", "u", "U", "O") or (kind == "M" and str(getattr(values, "dtype", "")) == "datetime64[D]"):
        return values.tolist()  # type: ignore[attr-defined,no-any-return]
    if kind is None and callable(getattr(values, "to_pylist", None)):
        return values.to_pylist()  # type: ignore[attr-defined,no-any-return]
    return values


def price_columns(
    models: Sequence[str],
    days: Sequence[dt.date],
    *,
    input_tokens: Sequence[int],
    output_tokens: Sequence[int],
    cache_write_5m_tokens: Sequence[int] | None = None,
    cache_write_1h_tokens: Sequence[int] | None = None,
    cache_write_unsplit_tokens: Sequence[int] | None = None,
    cache_read_tokens: Sequence[int] | None = None,
    thinking_tokens: Sequence[int] | None = None,
    web_search_requests: Sequence[int] | None = None,
    web_fetch_requests: Sequence[int] | None = None,
    requests: Sequence[int] | None = None,
    service_tiers: Sequence[str | None] | None = None,
    inference_geos: Sequence[str | None] | None = None,
    speeds: Sequence[str | None] | None = None,
    table: PriceTable | None = None,
    source: str = "<columns>",
) -> PricedUsage:
    """Price usage given as columns (one list per field, equal lengths; row i is one request; a NumPy integer,
    text or `datetime64[D]` array, or an Arrow array, is read as the Python values it holds). Counts must be
    ints ≥ 0, models text, days `datetime.date`; a row that is not is refused with its index (the `line` of
    its problem is the row number, from 1). The totals and per-line sums equal pricing the same rows as
    records, exactly. For ten million rows and more, `estimator.price_columns_bulk` (DuckDB) takes the same.

    Fast: `estimator.usage.columns` checks the counts at C speed and adds the rows to their keys' sums in a
    compiled loop; only a key's first row and the rows of refused keys go through `UsageAccumulator.add`."""
    models = _python_values(models)
    rows = len(models)

    def checked(values: Sequence[Any], name: str) -> Sequence[Any]:
        if len(values) != rows:
            raise ValueError(f"column {name} has {len(values):,} rows, models has {rows:,}")
        return _python_values(values)

    given: list[Sequence[int] | None] = [input_tokens, cache_write_5m_tokens, cache_write_1h_tokens]
    given += [cache_write_unsplit_tokens, cache_read_tokens, output_tokens, thinking_tokens, web_search_requests]
    given += [web_fetch_requests, requests]
    counts = {name: checked(v, name) for name, v in zip(COUNT_FIELDS, given, strict=True) if v is not None}
    keys: list[Sequence[Any] | None] = [models, checked(days, "days")]
    for values, name in ((service_tiers, "service_tiers"), (inference_geos, "inference_geos"), (speeds, "speeds")):
        keys.append(None if values is None else checked(values, name))
    accumulator = UsageAccumulator(table)
    sum_columns(accumulator, keys, counts, rows, source)
    return accumulator.finish()
