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

Speed: an estimate takes microseconds. What depends only on the price row (the model and period on the day, the
options checked, the channel, each mode's rates for the tier, the warnings they imply) is resolved once per table
and kept on it (`_TableCache`); each workload then pays only its own Decimal arithmetic, summed in the order and
with the operations of the per-category lines, so totals equal the lines' sums digit for digit.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import time
import weakref
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation, getcontext, localcontext, setcontext

from estimator.checks import RowWarnings, row_warnings, workload_warnings
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
    MTOK,
    Category,
    CodeExecutionTerms,
    CostLine,
    Estimate,
    EstimateWarning,
    HitRateBand,
    ModeCost,
    NegotiatedTerms,
    PreparedWorkload,
    priced_quantities,
)
from estimator.workload import MODES, CacheTTL, Mode, Workload
from pricing import Model, PricePeriod, PriceTable, PromptTier, load_price_table

__all__ = [
    "CATEGORIES",
    "EXACT",
    "HOURS_PLACES",
    "MTOK",
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

_ZERO = Decimal(0)

# Exact money arithmetic: enough digits for any accepted workload, and rounding is an error, not a habit.
EXACT = Context(prec=80, traps=[InvalidOperation, Inexact])
_EXACT_IN_PLACE = EXACT.copy()
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
    return _prepared(workload, table or load_price_table())[0]


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


# --- what a workload's prices depend on, resolved once per table ------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _ModePrices:
    """One mode's rates, laid out for the arithmetic. `zeros` are the lines a workload leaves empty in this mode,
    already priced: 0 × rate ÷ 1M is zero, but it carries the rate's decimal places into the sum exactly as the line
    does. Six sums: without caching (0), caching with a 5-minute (2) or a 1-hour TTL (4) (the other TTL's writes
    stay empty); plus 1 when the thinking line is empty too."""

    mode: Mode
    rates: ModeRates | None
    unavailable_reason: str | None
    cached: bool
    zeros: tuple[Decimal, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class _Row:
    """Everything about one tier of a `_Terms` (None: below every tier): each mode's rates, compiled, and the
    warnings that depend on nothing else (`checks.row_warnings`)."""

    tier: PromptTier | None
    rates: dict[Mode, ModeRates | Unpriced]
    modes: tuple[_ModePrices, ...]
    warnings: RowWarnings
    hit_rate_band: tuple[Decimal, Decimal]
    """The table's best-effort hit rates for batches, low and high."""


@dataclass(frozen=True, slots=True, eq=False)
class _Terms:
    """What a workload's prices depend on besides its token counts, with its options checked: the model and the
    period on the day, the channel, the tool-use prompt, negotiated terms. One per table, model name, day and
    options; every workload that asks for the same shares it (and its rows, one per tier, filled on first use)."""

    model: Model
    day: dt.date
    period: PricePeriod
    before_release: bool
    channel: ChannelTerms
    tool_system_prompt_tokens: int
    negotiated: NegotiatedTerms | None
    search_usd: Decimal | None
    """USD per request of web search when the workloads of these terms search nothing (None when they do)."""
    code_execution: CodeExecutionTerms | None
    """Code execution when the workloads of these terms run none (None when they do)."""
    rows: dict[int | None, _Row] = field(default_factory=dict)


_TableCache = dict[tuple[object, ...], _Terms]
"""The resolved terms of one table, kept while the table lives (a WeakKeyDictionary holds the table weakly), so a
reloaded table, negotiated overrides or a user's table each start afresh. Bounded: cleared when full."""
_TABLE_CACHE_LIMIT = 4096
_TABLE_CACHES: weakref.WeakKeyDictionary[PriceTable, _TableCache] = weakref.WeakKeyDictionary()
_LAST_CACHE: tuple[weakref.ref[PriceTable], _TableCache] | None = None


def _table_cache(table: PriceTable) -> _TableCache:
    # Nearly every call prices with the table of the call before: a weak reference to it skips the
    # WeakKeyDictionary lookup (which builds a weak reference of its own each time).
    global _LAST_CACHE
    last = _LAST_CACHE
    if last is not None and last[0]() is table:
        return last[1]
    cache = _TABLE_CACHES.get(table)
    if cache is None:
        cache = _TABLE_CACHES[table] = {}
    _LAST_CACHE = (weakref.ref(table), cache)
    return cache


_TODAY: tuple[dt.date, float, float] | None = None
_TODAY_RECHECK_SECONDS = 60.0


def _today() -> dt.date:
    """`dt.date.today()` without its local-time conversion on every call: the day is kept until the next local
    midnight (and rechecked at least once a minute, in case the clock or the time zone changes)."""
    global _TODAY
    now = time.time()
    known = _TODAY
    if known is not None and known[1] <= now < known[2]:
        return known[0]
    day = dt.date.fromtimestamp(now)
    start = dt.datetime.combine(day, dt.time()).timestamp()
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).timestamp()
    _TODAY = (day, min(start, now), min(midnight, now + _TODAY_RECHECK_SECONDS))
    return day


def _prepared(workload: Workload, table: PriceTable) -> tuple[PreparedWorkload, _Row]:
    """The prepared workload and its price row. Only the token counts are worked out here; the rest comes from
    the table's cache, keyed by every workload field the terms and the option checks read."""
    cache = _table_cache(table)
    day = workload.as_of or _today()
    searches = workload.web_searches_per_request
    sessions = workload.code_execution_sessions_per_request
    key = (
        workload.model,
        day,
        workload.geo,
        workload.fast,
        workload.channel,
        workload.endpoint,
        workload.cache_ttl,
        workload.tool_use,
        workload.code_execution_with_web_tools,
        not searches,
        not sessions,
    )
    terms = cache.get(key)
    if terms is None:
        terms = _resolve(workload, table, day)
        if len(cache) >= _TABLE_CACHE_LIMIT:
            cache.clear()
        cache[key] = terms
    prefix = workload.prefix_tokens + terms.tool_system_prompt_tokens
    fetches = workload.web_fetches_per_request
    # `workload.web_fetch_tokens_per_request`, skipped when there are no fetches (0 × n is Decimal 0 either way).
    fetched = fetches * workload.tokens_per_web_fetch if fetches else _ZERO
    prompt = prefix + workload.unique_input_tokens + (math.ceil(fetched) if fetched else 0)
    minimum = terms.model.min_cacheable_prompt_tokens
    tier = tier_for(terms.period, prompt) if terms.period.tiers else None
    threshold = tier.above_prompt_tokens if tier is not None else None
    row = terms.rows.get(threshold)
    if row is None:
        row = terms.rows[threshold] = _row(table, terms, tier, workload)
    search_usd = terms.search_usd
    if search_usd is None:
        search_usd = _search_usd(workload, table)
    code = terms.code_execution
    if code is None:
        code = _code_execution(workload, table)
    return PreparedWorkload(
        workload,
        terms.model,
        day,
        terms.period,
        terms.tool_system_prompt_tokens,
        prefix,
        prompt,
        prefix > 0 and minimum is not None and prefix >= minimum,
        tier,
        row.rates,
        search_usd,
        terms.before_release,
        terms.channel,
        code,
        fetched,
        terms.negotiated,
    ), row


def _resolve(workload: Workload, table: PriceTable, day: dt.date) -> _Terms:
    """The terms of a workload's price row, options checked (raises `InvalidWorkloadError` on one the model,
    channel or day does not offer): never cached when it raises."""
    model = table.model(workload.model)
    period = model.period_as_of(day)
    before_release = period is None
    if period is None:
        period = model.launch_period_as_of(day)
    _check_options(workload, model, period, table, day)
    return _Terms(
        model=model,
        day=day,
        period=period,
        before_release=before_release,
        channel=channel_terms(table, model, workload.channel, workload.endpoint),
        tool_system_prompt_tokens=_tool_system_prompt_tokens(workload, model),
        negotiated=negotiated_terms(table, model.id, day),
        search_usd=None if workload.web_searches_per_request else _search_usd(workload, table),
        code_execution=None if workload.code_execution_sessions_per_request else _code_execution(workload, table),
    )


def _search_usd(workload: Workload, table: PriceTable) -> Decimal:
    with localcontext(EXACT):
        return workload.web_searches_per_request * table.rules.web_search.usd_per_1000_searches / 1000


def _row(table: PriceTable, terms: _Terms, tier: PromptTier | None, workload: Workload) -> _Row:
    """Each mode's rates for one tier of the terms, compiled, with the row's own warnings."""
    searches, code = workload.web_searches_per_request > 0, workload.code_execution_sessions_per_request > 0
    channel = terms.channel
    geo_multiplier = table.rules.data_residency.us_multiplier if workload.geo == "us" else Decimal(1)
    rates: dict[Mode, ModeRates | Unpriced] = {}
    for mode in MODES:
        resolved = resolve_mode_rates(
            terms.period,
            mode,
            tier=tier,
            fast=workload.fast,
            geo_multiplier=geo_multiplier,
            model_name=terms.model.name,
            channel_multiplier=channel.multiplier,
        )
        gap = channel_gap(table, channel.channel, mode, fast=workload.fast, web_search=searches, code_execution=code)
        rates[mode] = Unpriced(gap) if gap is not None and not isinstance(resolved, Unpriced) else resolved
    # The row's warnings read only what the terms and the tier decide: any workload of the row will do.
    sample = PreparedWorkload(
        workload, terms.model, terms.day, terms.period, terms.tool_system_prompt_tokens, 0, 0, False, tier, rates,
        _ZERO, terms.before_release, terms.channel, None, _ZERO, terms.negotiated,
    )  # fmt: skip
    batch = table.rules.batch
    band = (batch.best_effort_hit_rate_low, batch.best_effort_hit_rate_high)
    return _Row(tier, rates, _compiled(rates), row_warnings(sample), band)


def _compiled(rates: dict[Mode, ModeRates | Unpriced]) -> tuple[_ModePrices, ...]:
    return tuple(_mode_prices(mode, rates[mode]) for mode in MODES)


def _mode_prices(mode: Mode, rates: ModeRates | Unpriced) -> _ModePrices:
    cached = mode.endswith("cached")
    if isinstance(rates, Unpriced):
        return _ModePrices(mode, None, rates.reason, cached)
    write_5m, write_1h = _empty_line(rates.cache_write_5m_mtok), _empty_line(rates.cache_write_1h_mtok)
    thinking = _empty_line(rates.output_mtok)
    zeros = []
    with localcontext(EXACT):
        for empty_cache_lines in (write_5m + write_1h + _empty_line(rates.cache_read_mtok), write_1h, write_5m):
            zeros += [_ZERO + empty_cache_lines, _ZERO + empty_cache_lines + thinking]
    return _ModePrices(mode, rates, None, cached, tuple(zeros))


def _empty_line(rate: Decimal | None) -> Decimal:
    """A line priced at `rate` with nothing in it, as `price_lines` prices it (zero, with the rate's places)."""
    if rate is None:
        return _ZERO
    with localcontext(EXACT):
        return _ZERO * rate / MTOK


def _check_options(workload: Workload, model: Model, period: PricePeriod, table: PriceTable, day: dt.date) -> None:
    check_option_periods(workload, model, table, day)
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


# --- pricing ------------------------------------------------------------------------------------------------------


def estimate(
    workload: Workload, *, table: PriceTable | None = None, overrides: NegotiatedRates | None = None
) -> Estimate:
    """The workload's cost in every mode, with savings against real-time, the ranking and the traps.
    `overrides` (from `estimator.overrides.load_overrides`) applies negotiated rates on top of the table."""
    if table is None or overrides is not None:
        table = priced_table(table, overrides)
    prepared, row = _prepared(workload, table)
    # `localcontext(EXACT)` without its copy of the context (a third of a microsecond): the code below only
    # computes, so a private copy made once serves every call (and every thread: nothing but flags is written).
    caller_context = getcontext()
    setcontext(_EXACT_IN_PLACE)
    try:
        modes = _priced(prepared, row.modes, None, ranked=True)
        band = _batch_hit_band(prepared, modes[3], *row.hit_rate_band)  # MODES ends with batch_cached
    finally:
        setcontext(caller_context)
    tier = prepared.tier
    return Estimate(
        workload,
        prepared.model.id,
        prepared.model.name,
        prepared.as_of,
        prepared.period.effective_from,
        prepared.tool_system_prompt_tokens,
        prepared.cacheable_prefix_tokens,
        prepared.prompt_tokens,
        prepared.caching_possible,
        tier.above_prompt_tokens if tier is not None else None,
        modes,
        prepared.period,
        band,
        workload_warnings(prepared, modes, band, table, price_realtime=_realtime_cost, row=row.warnings),
        prepared.channel,
        prepared.code_execution,
        prepared.negotiated,
        prepared.web_fetch_tokens_per_request,
    )


def _realtime_cost(variant: Workload, table: PriceTable) -> ModeCost:
    """How the warnings price a variant of the workload (e.g. trimmed under a tier) without importing us."""
    return mode_cost(prepare(variant, table), "realtime")


def mode_cost(prepared: PreparedWorkload, mode: Mode, *, hit_rate: Decimal | None = None) -> ModeCost:
    """One mode's bill for the prepared workload (optionally at another hit rate), unranked."""
    with localcontext(EXACT):
        return _priced(prepared, (_mode_prices(mode, prepared.rates[mode]),), hit_rate, ranked=False)[0]


def priced_modes(prepared: PreparedWorkload) -> tuple[ModeCost, ...]:
    """Every mode priced once, with its savings against real-time and its rank (1 = cheapest; ties share)."""
    with localcontext(EXACT):
        return _priced(prepared, _compiled(prepared.rates), None, ranked=True)


def _priced(
    prepared: PreparedWorkload, modes: tuple[_ModePrices, ...], hit_rate: Decimal | None, *, ranked: bool
) -> tuple[ModeCost, ...]:
    """Each mode's bill, inside `localcontext(EXACT)`; `ranked`: with savings against real-time and ranks (then
    `modes` are all of MODES, in order).

    Per request, a mode costs the sum of its lines (`price_lines`): quantity × rate ÷ 1M for each token category,
    plus web search and code execution. The sum is made of the same products and quotients, grouped differently
    where modes share a line (exact addition does not depend on the grouping), with the empty lines pre-priced
    (`_ModePrices.zeros`): it equals the lines' sum to the last digit and decimal place."""
    workload = prepared.workload
    prefix = prepared.cacheable_prefix_tokens
    fetched = prepared.web_fetch_tokens_per_request
    output, thinking, requests = workload.output_tokens, workload.thinking_tokens, workload.requests
    code = prepared.code_execution
    hours = code.hours_per_request if code is not None else _ZERO
    code_usd = code.usd_per_request if code is not None else _ZERO
    search_usd = prepared.web_search_usd_per_request
    fees = search_usd + code_usd
    searches = workload.web_searches_per_request
    uncached = fetched + (prefix + workload.unique_input_tokens)
    plain = (uncached, _ZERO, _ZERO, _ZERO, output, searches, thinking, hours, search_usd, code_usd)
    plain_slot = 0 if thinking else 1  # see _ModePrices.zeros
    caching_possible = prepared.caching_possible
    if caching_possible:
        ttl = workload.cache_ttl
        hits = workload.cache_hit_rate if hit_rate is None else hit_rate
        uncached_with_cache = fetched + workload.unique_input_tokens
        reads = hits * prefix
        writes = (1 - hits) * prefix
        write_5m, write_1h = (writes, _ZERO) if ttl == "5m" else (_ZERO, writes)
        with_cache = (uncached_with_cache, write_5m, write_1h, reads, output, searches, thinking, hours, search_usd,
                      code_usd)  # fmt: skip
        cached_slot = (2 if ttl == "5m" else 4) + plain_slot
    bills: list[tuple[_ModePrices, Decimal, Decimal, bool]] = []
    totals: list[Decimal] = []  # of the priced modes, for their ranks
    output_rate: Decimal | None = None
    shared = _ZERO
    for prices in modes:
        rates = prices.rates
        if rates is None:
            bills.append((prices, _ZERO, _ZERO, False))
            continue
        if rates.output_mtok is not output_rate:  # modes in a row share their output rate: price those lines once
            output_rate = rates.output_mtok
            shared = output * output_rate / MTOK + fees
            if thinking:
                shared += thinking * output_rate / MTOK
        caching = caching_possible and prices.cached
        if caching:
            write_rate = rates.cache_write_5m_mtok if ttl == "5m" else rates.cache_write_1h_mtok
            read_rate = rates.cache_read_mtok
            if write_rate is None or read_rate is None:
                cache_lines = _cache_lines_without_rates(ttl, writes, write_rate, reads, read_rate)
            else:
                cache_lines = writes * write_rate / MTOK + reads * read_rate / MTOK
            per_request = (
                prices.zeros[cached_slot] + uncached_with_cache * rates.input_mtok / MTOK + cache_lines + shared
            )
        else:
            per_request = prices.zeros[plain_slot] + uncached * rates.input_mtok / MTOK + shared
        total = per_request * requests
        totals.append(total)
        bills.append((prices, per_request, total, caching))
    # Savings against real-time (MODES starts with it). Equal totals share a rank (1, 1, 3: a tie is not a
    # preference): one more than the number of cheaper modes.
    realtime = bills[0]
    baseline = realtime[2] if ranked and realtime[0].rates is not None else None
    totals.sort()
    return tuple([  # a list comprehension: quicker than tuple() over a generator
        ModeCost._of_estimate(prices.mode, per_request, total, caching, prices.rates,
                              None if baseline is None else baseline - total, baseline,
                              bisect.bisect_left(totals, total) + 1 if ranked else None,
                              with_cache if caching else plain, requests)
        if prices.rates is not None
        else ModeCost(prices.mode, _ZERO, _ZERO, False, None, None, None, None, prices.unavailable_reason)
        for prices, per_request, total, caching in bills
    ])  # fmt: skip


def _cache_lines_without_rates(
    ttl: CacheTTL, writes: Decimal, write_rate: Decimal | None, reads: Decimal, read_rate: Decimal | None
) -> Decimal:
    """The cache lines of a row that lacks one of their rates: zero while the line is empty, else the error
    `price_lines` raises (the writes' line comes first)."""
    lines = _ZERO
    for category, quantity, rate in (("cache_write_" + ttl, writes, write_rate), ("cache_read", reads, read_rate)):
        if rate is None:
            if quantity:
                raise EstimatorError(f"internal: no {category} rate for a mode that uses it")
        else:
            lines += quantity * rate / MTOK
    return lines


def price_lines(
    quantities: dict[Category, Decimal],
    rates: ModeRates,
    search_usd: Decimal,
    code_execution_usd: Decimal = _ZERO,
) -> tuple[CostLine, ...]:
    """Price token quantities per category at a mode's rates (call inside `localcontext(EXACT)`). Categories
    missing from `quantities` count as zero; web search and code execution come priced (USD per request)."""
    return tuple(CostLine(*priced) for priced in priced_quantities(quantities, rates, search_usd, code_execution_usd))


def _batch_hit_band(prepared: PreparedWorkload, bill: ModeCost, low: Decimal, high: Decimal) -> HitRateBand | None:
    """The batch + caching total at the ends of the best-effort band [`low`, `high`] (inside `localcontext(EXACT)`).
    Cost is linear in the hit rate, so it follows from the bill at the workload's own rate: each hit trades a
    write for a read of the prefix."""
    rates = bill.rates
    if not bill.caching_applied or rates is None:
        return None
    workload = prepared.workload
    write = rates.cache_write_5m_mtok if workload.cache_ttl == "5m" else rates.cache_write_1h_mtok
    assert write is not None and rates.cache_read_mtok is not None  # a caching mode has cache rates
    per_hit_usd = prepared.cacheable_prefix_tokens * (rates.cache_read_mtok - write) / MTOK * workload.requests
    hits = workload.cache_hit_rate
    total = bill.total_usd
    return HitRateBand(low, high, total + (low - hits) * per_hit_usd, total + (high - hits) * per_hit_usd)
