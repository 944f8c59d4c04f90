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
tier's rates. US data residency multiplies every token rate by the table's multiplier. Web search is
billed per search at the same price in every mode.

Money is Decimal throughout and never rounded here: every product is exact (the arithmetic context
traps any rounding), so a figure can be compared with `==` to a hand computation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext

from estimator.checks import workload_warnings
from estimator.errors import EstimatorError, InvalidWorkloadError
from estimator.rates import ModeRates, Unpriced, resolve_mode_rates, tier_for
from estimator.results import (
    CATEGORIES,
    Category,
    CostLine,
    Estimate,
    EstimateWarning,
    HitRateBand,
    ModeCost,
    PreparedWorkload,
)
from estimator.workload import MODES, Mode, Workload
from pricing import Model, PricePeriod, PriceTable, load_price_table

__all__ = [
    "CATEGORIES",
    "EXACT",
    "Category",
    "CostLine",
    "Estimate",
    "EstimateWarning",
    "HitRateBand",
    "ModeCost",
    "PreparedWorkload",
    "estimate",
    "prepare",
    "price_lines",
]

MTOK = Decimal(1_000_000)

# Exact money arithmetic: enough digits for any accepted workload, and rounding is an error, not a habit.
EXACT = Context(prec=80, traps=[InvalidOperation, Inexact])


def prepare(workload: Workload, table: PriceTable | None = None) -> PreparedWorkload:
    """Resolve the model, the price period, the tier and each mode's rates for a workload."""
    table = table or load_price_table()
    model = table.model(workload.model)
    day = workload.as_of or dt.date.today()
    period = model.period_as_of(day)
    before_release = period is None
    if period is None:
        period = model.periods_in_effect[0]
    _check_options(workload, model, period, table)
    tool_tokens = _tool_system_prompt_tokens(workload, model)
    prefix = workload.prefix_tokens + tool_tokens
    prompt = prefix + workload.unique_input_tokens
    minimum = model.min_cacheable_prompt_tokens
    caching_possible = prefix > 0 and minimum is not None and prefix >= minimum
    tier = tier_for(period, prompt)
    geo_multiplier = table.rules.data_residency.us_multiplier if workload.geo == "us" else Decimal(1)
    rates = {
        mode: resolve_mode_rates(
            period, mode, tier=tier, fast=workload.fast, geo_multiplier=geo_multiplier, model_name=model.name
        )
        for mode in MODES
    }
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
    )


def _check_options(workload: Workload, model: Model, period: PricePeriod, table: PriceTable) -> None:
    if workload.geo == "us" and not model.data_residency_us:
        raise InvalidWorkloadError(
            f"US data residency (inference_geo 'us') is not available for {model.name}: only Claude 4.6 and "
            "later accept it; use geo 'global'",
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


def estimate(workload: Workload, *, table: PriceTable | None = None) -> Estimate:
    """The workload's cost in every mode, with savings against real-time, the ranking and the traps."""
    table = table or load_price_table()
    prepared = prepare(workload, table)
    modes = rank_and_compare(tuple(mode_cost(prepared, mode) for mode in MODES))
    band = _batch_hit_band(prepared, table)
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
    )


def _realtime_pricer(table: PriceTable) -> Callable[[Workload], ModeCost]:
    """How the warnings price a variant of the workload (e.g. trimmed under a tier) without importing us."""
    return lambda variant: mode_cost(prepare(variant, table), "realtime")


def mode_cost(prepared: PreparedWorkload, mode: Mode, *, hit_rate: Decimal | None = None) -> ModeCost:
    """One mode's bill for the prepared workload (optionally at another hit rate)."""
    rates = prepared.rates[mode]
    if isinstance(rates, Unpriced):
        zero = Decimal(0)
        lines = tuple(CostLine(category, zero, None, zero) for category in CATEGORIES)
        return ModeCost(mode, lines, zero, zero, False, None, unavailable_reason=rates.reason)
    workload = prepared.workload
    caching = mode.endswith("cached") and prepared.caching_possible
    with localcontext(EXACT):
        quantities = _per_request_quantities(prepared, caching, hit_rate)
        per_request_lines = price_lines(quantities, rates, prepared.web_search_usd_per_request)
        requests = Decimal(workload.requests)
        lines = tuple(
            CostLine(line.category, line.quantity * requests, line.rate_mtok, line.usd * requests)
            for line in per_request_lines
        )
        per_request = sum((line.usd for line in per_request_lines), Decimal(0))
        total = per_request * requests
    return ModeCost(mode, lines, per_request, total, caching, rates)


def _per_request_quantities(
    prepared: PreparedWorkload, caching: bool, hit_rate: Decimal | None
) -> dict[Category, Decimal]:
    workload = prepared.workload
    prefix = Decimal(prepared.cacheable_prefix_tokens)
    quantities: dict[Category, Decimal] = dict.fromkeys(CATEGORIES, Decimal(0))
    quantities["output"] = Decimal(workload.output_tokens)
    quantities["web_search"] = workload.web_searches_per_request
    if not caching:
        quantities["uncached_input"] = Decimal(prepared.prompt_tokens)
        return quantities
    hits = workload.cache_hit_rate if hit_rate is None else hit_rate
    quantities["uncached_input"] = Decimal(workload.unique_input_tokens)
    quantities["cache_read"] = hits * prefix
    write_category: Category = "cache_write_5m" if workload.cache_ttl == "5m" else "cache_write_1h"
    quantities[write_category] = (1 - hits) * prefix
    return quantities


def price_lines(quantities: dict[Category, Decimal], rates: ModeRates, search_usd: Decimal) -> tuple[CostLine, ...]:
    """Price token quantities per category at a mode's rates (call inside `localcontext(EXACT)`)."""
    rate_of: dict[Category, Decimal | None] = {
        "uncached_input": rates.input_mtok,
        "cache_write_5m": rates.cache_write_5m_mtok,
        "cache_write_1h": rates.cache_write_1h_mtok,
        "cache_read": rates.cache_read_mtok,
        "output": rates.output_mtok,
    }
    lines = []
    for category in CATEGORIES:
        quantity = quantities[category]
        if category == "web_search":
            lines.append(CostLine(category, quantity, None, search_usd))
            continue
        rate = rate_of[category]
        if rate is None and quantity:
            raise EstimatorError(f"internal: no {category} rate for a mode that uses it")
        usd = quantity * rate / MTOK if rate is not None else Decimal(0)
        lines.append(CostLine(category, quantity, rate, usd))
    return tuple(lines)


def rank_and_compare(modes: tuple[ModeCost, ...]) -> tuple[ModeCost, ...]:
    """Savings of each mode against real-time, and the rank of each available mode (1 = cheapest)."""
    baseline = next((m for m in modes if m.mode == "realtime" and m.available), None)
    order = sorted((m for m in modes if m.available), key=lambda m: (m.total_usd, MODES.index(m.mode)))
    rank = {m.mode: position for position, m in enumerate(order, start=1)}
    result = []
    for mode in modes:
        if not mode.available:
            result.append(mode)
            continue
        savings = pct = None
        if baseline is not None:
            savings = baseline.total_usd - mode.total_usd
            pct = _percent(savings, baseline.total_usd)
        result.append(
            ModeCost(
                mode.mode,
                mode.lines,
                mode.per_request_usd,
                mode.total_usd,
                mode.caching_applied,
                mode.rates,
                savings_usd=savings,
                savings_pct=pct,
                rank=rank[mode.mode],
            )
        )
    return tuple(result)


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """A ratio, not money: computed at 28 significant digits (the only rounded figure here)."""
    if whole == 0:
        return None
    with localcontext(Context(prec=28)):
        return part * 100 / whole


def _batch_hit_band(prepared: PreparedWorkload, table: PriceTable) -> HitRateBand | None:
    if not prepared.caching_possible or isinstance(prepared.rates["batch_cached"], Unpriced):
        return None
    rules = table.rules.batch
    low, high = rules.best_effort_hit_rate_low, rules.best_effort_hit_rate_high
    return HitRateBand(
        low_hit_rate=low,
        high_hit_rate=high,
        total_at_low_hit_rate_usd=mode_cost(prepared, "batch_cached", hit_rate=low).total_usd,
        total_at_high_hit_rate_usd=mode_cost(prepared, "batch_cached", hit_rate=high).total_usd,
    )
