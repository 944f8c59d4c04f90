"""A workload's cost in every mode: real-time, real-time + caching, batch, batch + caching.

Caching semantics, for N requests with a cacheable prefix of P tokens and a hit rate h:
h·N requests read the prefix from the cache (cache-read rate) and (1−h)·N write it (the chosen TTL's
write rate); the unique input and the output of every request are priced normally. A prefix shorter
than the model's minimum cacheable length is not cached at all: the cached modes then cost what the
uncached ones do, and a warning says by how many tokens the prefix falls short.

A tool-use system prompt (added by Anthropic when a request carries tools) sits at the start of the
prompt, so it is counted as part of the cacheable prefix.

Prompt-length tiers apply per request to input + cache reads + cache writes (that is, the whole prompt)
when it is strictly greater than the threshold; the whole request, output included, then pays the
tier's rates. US data residency multiplies every token rate by the table's multiplier, and so does a
partner channel's regional premium (`rules.channels`); a mode a channel publishes no price for is unpriced,
with the reason. Web search is billed per search at the same price in every mode.

Thinking is billed at the output rate and shown on its own line. Web fetch has no fee: the fetched content is
input after the cache breakpoint, priced as uncached input in every mode and counted in the prompt (rounded up
to whole tokens) for tiers and the context window. Code execution is billed per container-hour, the same in
every mode: each session at least the table's minimum, hours rounded to `HOURS_PLACES` (minutes are not always
a finite decimal of an hour), free when the requests carry the dated web tools; the organization's free monthly
hours are not subtracted, as every workload of the organization shares them.

Money is Decimal throughout and never rounded here: every product is exact (the arithmetic context
traps any rounding), so a figure can be compared with `==` to a hand computation.
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation, localcontext

from estimator.checks import workload_warnings
from estimator.errors import EstimatorError, InvalidWorkloadError
from estimator.overrides import NegotiatedRates, apply_overrides, negotiated_terms
from estimator.rates import (
    ChannelTerms,
    ModeRates,
    Unpriced,
    channel_gap,
    channel_terms,
    check_channel,
    check_option_periods,
    resolve_mode_rates,
    tier_for,
)
from estimator.results import (
    CATEGORIES,
    Category,
    CodeExecutionTerms,
    CostLine,
    Estimate,
    EstimateWarning,
    HitRateBand,
    ModeCost,
    PreparedWorkload,
    PricedQuantity,
)
from estimator.workload import MODES, Mode, Workload
from pricing import Model, PricePeriod, PriceTable, PromptTier, load_price_table

__all__ = [
    "CATEGORIES",
    "EXACT",
    "HOURS_PLACES",
    "Category",
    "CostLine",
    "Estimate",
    "EstimateWarning",
    "HitRateBand",
    "ModeCost",
    "PreparedWorkload",
    "container_hours",
    "estimate",
    "prepare",
    "price_lines",
    "priced_table",
]

MTOK = Decimal(1_000_000)
_ZERO = Decimal(0)

# Exact money arithmetic: enough digits for any accepted workload, and rounding is an error, not a habit.
EXACT = Context(prec=80, traps=[InvalidOperation, Inexact])
_RATIO = Context(prec=28)
HOURS_PLACES = Decimal("1e-12")
"""Container-hours are rounded to 12 places (about 4 nanoseconds): 5 minutes is 1/12 of an hour, not a finite
decimal. The only rounding before display; the price of the rounded hours is exact."""
_MINUTES_PER_HOUR = 60


def priced_table(table: PriceTable | None = None, overrides: NegotiatedRates | None = None) -> PriceTable:
    """The table to price with: the shipped one by default, with negotiated rates applied when given."""
    table = table or load_price_table()
    return table if overrides is None else apply_overrides(table, overrides)


def prepare(workload: Workload, table: PriceTable | None = None) -> PreparedWorkload:
    """Resolve the model, the price period, the tier and each mode's rates for a workload."""
    table = table or load_price_table()
    model = table.model(workload.model)
    day = workload.as_of or dt.date.today()
    period = model.period_as_of(day)
    before_release = period is None
    if period is None:
        period = model.launch_period_as_of(day)
    _check_options(workload, model, period, table, day)
    channel = channel_terms(table, model, workload.channel, workload.endpoint)
    tool_tokens = _tool_system_prompt_tokens(workload, model)
    prefix = workload.prefix_tokens + tool_tokens
    fetched = workload.web_fetch_tokens_per_request
    prompt = prefix + workload.unique_input_tokens + math.ceil(fetched)
    minimum = model.min_cacheable_prompt_tokens
    caching_possible = prefix > 0 and minimum is not None and prefix >= minimum
    tier = tier_for(period, prompt)
    rates = _rates_by_mode(table, model, period, tier, workload, day, channel)
    with localcontext(EXACT):
        search_usd = workload.web_searches_per_request * table.rules.web_search.usd_per_1000_searches / 1000
    return PreparedWorkload(
        workload=workload,
        model=model,
        as_of=day,
        period=period,
        tool_system_prompt_tokens=tool_tokens,
        cacheable_prefix_tokens=prefix,
        prompt_tokens=prompt,
        caching_possible=caching_possible,
        tier=tier,
        rates=rates,
        web_search_usd_per_request=search_usd,
        before_release=before_release,
        channel=channel,
        code_execution=_code_execution(workload, table),
        web_fetch_tokens_per_request=fetched,
        negotiated=negotiated_terms(table, model.id, day),
    )


def container_hours(table: PriceTable, sessions: Decimal, minutes_per_session: Decimal) -> Decimal:
    """Billed container-hours of `sessions` code-execution sessions of `minutes_per_session` each: every session
    at least the table's minimum, rounded to `HOURS_PLACES` (the one rounding; see there)."""
    billed_minutes = max(table.rules.code_execution.minimum_minutes_per_session, minutes_per_session)
    with localcontext(Context(prec=60)):
        return (sessions * billed_minutes / _MINUTES_PER_HOUR).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)


def _code_execution(workload: Workload, table: PriceTable) -> CodeExecutionTerms:
    """Container-hours per request (each session billed at least the minimum) and their price per request."""
    rules = table.rules.code_execution
    sessions = workload.code_execution_sessions_per_request
    billed_minutes = max(rules.minimum_minutes_per_session, workload.code_execution_minutes_per_session)
    hours = container_hours(table, sessions, workload.code_execution_minutes_per_session)
    free = workload.code_execution_with_web_tools
    with localcontext(EXACT):
        usd = Decimal(0) if free else hours * rules.usd_per_container_hour
    return CodeExecutionTerms(
        sessions_per_request=sessions,
        billed_minutes_per_session=billed_minutes,
        hours_per_request=hours,
        usd_per_container_hour=rules.usd_per_container_hour,
        minimum_minutes_per_session=rules.minimum_minutes_per_session,
        free_hours_per_month=rules.free_hours_per_month,
        free_with_web_tools=free,
        usd_per_request=usd,
    )


_RATES_CACHE: weakref.WeakKeyDictionary[PriceTable, dict[tuple[object, ...], dict[Mode, ModeRates | Unpriced]]] = (
    weakref.WeakKeyDictionary()
)
_RATES_CACHE_LIMIT = 4096


def _rates_by_mode(
    table: PriceTable,
    model: Model,
    period: PricePeriod,
    tier: PromptTier | None,
    workload: Workload,
    day: dt.date,
    channel: ChannelTerms,
) -> dict[Mode, ModeRates | Unpriced]:
    """Each mode's rates, resolved once per table, price row, tier, options, channel and day (sweeps and the app
    ask for the same ones thousands of times). Keyed by identity: the rows belong to the table, which the cache
    holds only weakly, so a reloaded table starts afresh."""
    cache = _RATES_CACHE.setdefault(table, {})
    searches, code = workload.web_searches_per_request > 0, workload.code_execution_sessions_per_request > 0
    key = (id(period), id(tier), workload.fast, workload.geo, day, channel.channel, channel.multiplier, searches, code)
    rates = cache.get(key)
    if rates is None:
        geo_multiplier = table.rules.data_residency.us_multiplier if workload.geo == "us" else Decimal(1)
        rates = {}
        for mode in MODES:
            resolved = resolve_mode_rates(
                period,
                mode,
                tier=tier,
                fast=workload.fast,
                geo_multiplier=geo_multiplier,
                model_name=model.name,
                channel_multiplier=channel.multiplier,
            )
            gap = channel_gap(
                table, channel.channel, mode, fast=workload.fast, web_search=searches, code_execution=code
            )
            rates[mode] = Unpriced(gap) if gap is not None and not isinstance(resolved, Unpriced) else resolved
        if len(cache) >= _RATES_CACHE_LIMIT:
            cache.clear()
        cache[key] = rates
    return rates


def _check_options(workload: Workload, model: Model, period: PricePeriod, table: PriceTable, day: dt.date) -> None:
    check_option_periods(workload, model, table)
    check_channel(workload, table)
    free_from = table.rules.code_execution.free_with_web_tools_from
    if workload.code_execution_with_web_tools and workload.code_execution_sessions_per_request and day < free_from:
        raise InvalidWorkloadError(
            f"code execution is free only alongside web_search / web_fetch tool versions dated {free_from} or "
            f"later, which did not exist on {day}; unset code_execution_with_web_tools",
            field="code_execution_with_web_tools",
        )
    if workload.geo == "us" and not model.data_residency_us:
        raise InvalidWorkloadError(
            f"US data residency (inference_geo 'us') is not available for {model.name}: only Claude 4.6 and "
            "later accept it; choose global routing",
            field="geo",
        )
    if workload.fast and period.fast is None:
        with_fast = [m.id for m in table.models if any(p.fast for p in m.periods_in_effect)]
        raise InvalidWorkloadError(
            f"fast mode is not available for {model.name}; it is for: {', '.join(with_fast) or 'no model'}",
            field="fast",
        )


def _tool_system_prompt_tokens(workload: Workload, model: Model) -> int:
    tools = model.tool_use_system_prompt_tokens
    if workload.tool_use == "off" or tools is None:
        return 0
    if workload.tool_use == "any":
        return tools.any_or_tool if tools.any_or_tool is not None else 0
    return tools.auto_or_none


def estimate(
    workload: Workload, *, table: PriceTable | None = None, overrides: NegotiatedRates | None = None
) -> Estimate:
    """The workload's cost in every mode, with savings against real-time, the ranking and the traps.
    `overrides` (from `estimator.overrides.load_overrides`) applies negotiated rates on top of the table."""
    table = priced_table(table, overrides)
    prepared = prepare(workload, table)
    modes = priced_modes(prepared)
    band = _batch_hit_band(prepared, modes[MODES.index("batch_cached")], table)
    return Estimate(
        workload=workload,
        model_id=prepared.model.id,
        model_name=prepared.model.name,
        as_of=prepared.as_of,
        prices_effective_from=prepared.period.effective_from,
        tool_system_prompt_tokens=prepared.tool_system_prompt_tokens,
        cacheable_prefix_tokens=prepared.cacheable_prefix_tokens,
        prompt_tokens=prepared.prompt_tokens,
        caching_possible=prepared.caching_possible,
        tier_threshold_tokens=prepared.tier.above_prompt_tokens if prepared.tier else None,
        modes=modes,
        prices=prepared.period,
        batch_cached_hit_band=band,
        warnings=workload_warnings(prepared, modes, band, table, price_realtime=_realtime_pricer(table)),
        channel=prepared.channel,
        code_execution=prepared.code_execution,
        negotiated=prepared.negotiated,
        web_fetch_tokens_per_request=prepared.web_fetch_tokens_per_request,
    )


def _realtime_pricer(table: PriceTable) -> Callable[[Workload], ModeCost]:
    """How the warnings price a variant of the workload (e.g. trimmed under a tier) without importing us."""
    return lambda variant: mode_cost(prepare(variant, table), "realtime")


def mode_cost(prepared: PreparedWorkload, mode: Mode, *, hit_rate: Decimal | None = None) -> ModeCost:
    """One mode's bill for the prepared workload (optionally at another hit rate), unranked."""
    with localcontext(EXACT):
        return _mode_cost(mode, _price_mode(prepared, mode, hit_rate), None, None)


def priced_modes(prepared: PreparedWorkload) -> tuple[ModeCost, ...]:
    """Every mode priced once, with its savings against real-time and its rank (1 = cheapest; ties share)."""
    with localcontext(EXACT):
        priced = {mode: _price_mode(prepared, mode) for mode in MODES}
        ranks = _ranks({mode: bill.total_usd for mode, bill in priced.items() if not isinstance(bill, Unpriced)})
        realtime = priced["realtime"]
        baseline = None if isinstance(realtime, Unpriced) else realtime.total_usd
        return tuple(_mode_cost(mode, bill, baseline, ranks.get(mode)) for mode, bill in priced.items())


@dataclass(frozen=True, slots=True)
class _Bill:
    """A mode's bill before ranking: built once per mode, turned into a ModeCost once."""

    per_request_lines: tuple[PricedQuantity, ...]
    per_request_usd: Decimal
    total_usd: Decimal
    caching: bool
    rates: ModeRates
    requests: int


def _price_mode(prepared: PreparedWorkload, mode: Mode, hit_rate: Decimal | None = None) -> _Bill | Unpriced:
    """Inside `localcontext(EXACT)`."""
    rates = prepared.rates[mode]
    if isinstance(rates, Unpriced):
        return rates
    caching = prepared.caching_possible and mode.endswith("cached")
    quantities = _per_request_quantities(prepared, caching, hit_rate)
    code_usd = prepared.code_execution.usd_per_request if prepared.code_execution else _ZERO
    lines = tuple(_priced_quantities(quantities, rates, prepared.web_search_usd_per_request, code_usd))
    per_request = sum((line[3] for line in lines), _ZERO)
    requests = prepared.workload.requests
    return _Bill(lines, per_request, per_request * requests, caching, rates, requests)


def _mode_cost(mode: Mode, bill: _Bill | Unpriced, baseline_usd: Decimal | None, rank: int | None) -> ModeCost:
    if isinstance(bill, Unpriced):
        return ModeCost(mode, _ZERO, _ZERO, False, None, unavailable_reason=bill.reason)
    savings = pct = None
    if baseline_usd is not None:
        savings = baseline_usd - bill.total_usd
        pct = _percent(savings, baseline_usd)
    return ModeCost(
        mode,
        bill.per_request_usd,
        bill.total_usd,
        bill.caching,
        bill.rates,
        savings,
        pct,
        rank,
        per_request_lines=bill.per_request_lines,
        requests=bill.requests,
    )


def _ranks(totals: dict[Mode, Decimal]) -> dict[Mode, int]:
    # Equal totals share a rank (1, 1, 3): a tie is not a preference.
    ordered = sorted(totals.items(), key=lambda item: item[1])
    ranks: dict[Mode, int] = {}
    for position, (mode, total) in enumerate(ordered, start=1):
        tied_with = ordered[position - 2] if position > 1 and ordered[position - 2][1] == total else None
        ranks[mode] = ranks[tied_with[0]] if tied_with is not None else position
    return ranks


def _per_request_quantities(
    prepared: PreparedWorkload, caching: bool, hit_rate: Decimal | None
) -> dict[Category, Decimal]:
    workload = prepared.workload
    prefix = Decimal(prepared.cacheable_prefix_tokens)
    fetched = prepared.web_fetch_tokens_per_request  # input after the last breakpoint, in every mode
    quantities: dict[Category, Decimal] = dict.fromkeys(CATEGORIES, Decimal(0))
    quantities["output"] = Decimal(workload.output_tokens)
    quantities["thinking"] = Decimal(workload.thinking_tokens)
    quantities["web_search"] = workload.web_searches_per_request
    if prepared.code_execution is not None:
        quantities["code_execution"] = prepared.code_execution.hours_per_request
    if not caching:
        quantities["uncached_input"] = prefix + workload.unique_input_tokens + fetched
        return quantities
    hits = workload.cache_hit_rate if hit_rate is None else hit_rate
    quantities["uncached_input"] = workload.unique_input_tokens + fetched
    quantities["cache_read"] = hits * prefix
    write_category: Category = "cache_write_5m" if workload.cache_ttl == "5m" else "cache_write_1h"
    quantities[write_category] = (1 - hits) * prefix
    return quantities


def price_lines(
    quantities: dict[Category, Decimal],
    rates: ModeRates,
    search_usd: Decimal,
    code_execution_usd: Decimal = _ZERO,
) -> tuple[CostLine, ...]:
    """Price token quantities per category at a mode's rates (call inside `localcontext(EXACT)`). Categories
    missing from `quantities` count as zero; web search and code execution come priced (USD per request)."""
    return tuple(CostLine(*priced) for priced in _priced_quantities(quantities, rates, search_usd, code_execution_usd))


def _priced_quantities(
    quantities: dict[Category, Decimal], rates: ModeRates, search_usd: Decimal, code_execution_usd: Decimal = _ZERO
) -> Iterator[tuple[Category, Decimal, Decimal | None, Decimal]]:
    """(category, quantity, rate per MTok, USD) in `CATEGORIES` order; inside `localcontext(EXACT)`."""
    token_rates: tuple[tuple[Category, Decimal | None], ...] = (
        ("uncached_input", rates.input_mtok),
        ("cache_write_5m", rates.cache_write_5m_mtok),
        ("cache_write_1h", rates.cache_write_1h_mtok),
        ("cache_read", rates.cache_read_mtok),
        ("output", rates.output_mtok),
    )
    for category, rate in token_rates:
        quantity = quantities.get(category, _ZERO)
        if rate is None:
            if quantity:
                raise EstimatorError(f"internal: no {category} rate for a mode that uses it")
            yield category, quantity, None, _ZERO
        else:
            yield category, quantity, rate, quantity * rate / MTOK
    yield "web_search", quantities.get("web_search", _ZERO), None, search_usd
    thinking = quantities.get("thinking", _ZERO)  # billed as output, shown apart
    yield "thinking", thinking, rates.output_mtok, thinking * rates.output_mtok / MTOK
    yield "code_execution", quantities.get("code_execution", _ZERO), None, code_execution_usd


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """A ratio, not money: computed at 28 significant digits (the only rounded figure here)."""
    if whole == 0:
        return None
    with localcontext(_RATIO):
        return part * 100 / whole


def _batch_hit_band(prepared: PreparedWorkload, bill: ModeCost, table: PriceTable) -> HitRateBand | None:
    """The batch + caching total at the ends of the best-effort band. Cost is linear in the hit rate, so it
    follows from the bill at the workload's own rate: each hit trades a write for a read of the prefix."""
    if not bill.caching_applied or bill.rates is None:
        return None
    rules = table.rules.batch
    low, high = rules.best_effort_hit_rate_low, rules.best_effort_hit_rate_high
    rates = bill.rates
    write = rates.cache_write_mtok(prepared.workload.cache_ttl)
    assert write is not None and rates.cache_read_mtok is not None  # a caching mode has cache rates
    with localcontext(EXACT):
        per_hit_usd = (
            prepared.cacheable_prefix_tokens * (rates.cache_read_mtok - write) / MTOK * prepared.workload.requests
        )
        hits = prepared.workload.cache_hit_rate
        return HitRateBand(
            low_hit_rate=low,
            high_hit_rate=high,
            total_at_low_hit_rate_usd=bill.total_usd + (low - hits) * per_hit_usd,
            total_at_high_hit_rate_usd=bill.total_usd + (high - hits) * per_hit_usd,
        )
