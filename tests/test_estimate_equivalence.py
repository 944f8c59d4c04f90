"""`estimate()` against the code path it replaced, on generated workloads: every figure equal, to the last digit.

The estimator (issue 16) resolves a workload's price row once per table and keeps it, prices each mode without
building its lines, and writes percentages and most warning texts on first read. `_reference` below is the
straightforward path it replaced, kept as the oracle: every workload resolved from scratch, every line priced and
summed, the modes ranked by sorting, every warning generator run in order. Results must be equal with `==`, every
Decimal must read the same (`str`: the same decimal places), and so must the JSON report. Errors must match too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import inspect
import math
import pickle
import re
import time
from collections.abc import Callable, Iterator
from decimal import Context, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import estimator.costs as costs
from estimator import checks
from estimator.costs import EXACT, MTOK, estimate, mode_cost, prepare, priced_modes
from estimator.errors import EstimatorError, InvalidWorkloadError
from estimator.format import format_tokens, format_usd
from estimator.overrides import apply_overrides, negotiated_terms, parse_overrides
from estimator.rates import ModeRates, Unpriced, channel_gap, channel_terms, resolve_mode_rates
from estimator.report import estimate_to_dict
from estimator.results import (
    CATEGORIES,
    CostLine,
    Estimate,
    EstimateWarning,
    HitRateBand,
    ModeCost,
    PreparedWorkload,
)
from estimator.workload import CHANNELS, MAX_REQUESTS, MAX_TOKENS_PER_REQUEST, MODES, Mode, Workload
from pricing import PriceTable, PricingError, load_price_table

TABLE = load_price_table()
_RATIO = Context(prec=28)
_ZERO = Decimal(0)

# --- the reference: the estimator as it was before issue 16 --------------------------------------------------------


def _reference_prepare(workload: Workload, table: PriceTable) -> PreparedWorkload:
    model = table.model(workload.model)
    day = workload.as_of or dt.date.today()
    period = model.period_as_of(day)
    before_release = period is None
    if period is None:
        period = model.launch_period_as_of(day)
    costs._check_options(workload, model, period, table, day)
    channel = channel_terms(table, model, workload.channel, workload.endpoint)
    tool_tokens = costs._tool_system_prompt_tokens(workload, model)
    prefix = workload.prefix_tokens + tool_tokens
    fetched = workload.web_fetch_tokens_per_request
    prompt = prefix + workload.unique_input_tokens + math.ceil(fetched)
    minimum = model.min_cacheable_prompt_tokens
    crossed = [tier for tier in period.tiers if prompt > tier.above_prompt_tokens]
    tier = crossed[-1] if crossed else None
    searches = workload.web_searches_per_request > 0
    code = workload.code_execution_sessions_per_request > 0
    geo_multiplier = table.rules.data_residency.us_multiplier if workload.geo == "us" else Decimal(1)
    rates: dict[Mode, ModeRates | Unpriced] = {}
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
        gap = channel_gap(table, channel.channel, mode, fast=workload.fast, web_search=searches, code_execution=code)
        rates[mode] = Unpriced(gap) if gap is not None and not isinstance(resolved, Unpriced) else resolved
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
        caching_possible=prefix > 0 and minimum is not None and prefix >= minimum,
        tier=tier,
        rates=rates,
        web_search_usd_per_request=search_usd,
        before_release=before_release,
        channel=channel,
        code_execution=costs._code_execution(workload, table),
        web_fetch_tokens_per_request=fetched,
        negotiated=negotiated_terms(table, model.id, day),
    )


def _reference_quantities(prepared: PreparedWorkload, caching: bool, hit_rate: Decimal | None) -> dict[str, Decimal]:
    workload = prepared.workload
    prefix = Decimal(prepared.cacheable_prefix_tokens)
    fetched = prepared.web_fetch_tokens_per_request
    quantities: dict[str, Decimal] = dict.fromkeys(CATEGORIES, Decimal(0))
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
    quantities["cache_write_5m" if workload.cache_ttl == "5m" else "cache_write_1h"] = (1 - hits) * prefix
    return quantities


PricedLine = tuple[str, Decimal, Decimal | None, Decimal]


def _reference_lines(
    quantities: dict[str, Decimal], rates: ModeRates, search_usd: Decimal, code_usd: Decimal
) -> Iterator[PricedLine]:
    token_rates = (
        ("uncached_input", rates.input_mtok),
        ("cache_write_5m", rates.cache_write_5m_mtok),
        ("cache_write_1h", rates.cache_write_1h_mtok),
        ("cache_read", rates.cache_read_mtok),
        ("output", rates.output_mtok),
    )
    for category, rate in token_rates:
        quantity = quantities[category]
        if rate is None:
            if quantity:
                raise EstimatorError(f"internal: no {category} rate for a mode that uses it")
            yield category, quantity, None, _ZERO
        else:
            yield category, quantity, rate, quantity * rate / MTOK
    yield "web_search", quantities["web_search"], None, search_usd
    thinking = quantities["thinking"]
    yield "thinking", thinking, rates.output_mtok, thinking * rates.output_mtok / MTOK
    yield "code_execution", quantities["code_execution"], None, code_usd


@dataclasses.dataclass(frozen=True)
class _Bill:
    lines: tuple[PricedLine, ...]
    quantities: tuple[Decimal, ...]
    per_request_usd: Decimal
    total_usd: Decimal
    caching: bool
    rates: ModeRates


def _reference_bill(prepared: PreparedWorkload, mode: Mode, hit_rate: Decimal | None = None) -> _Bill | Unpriced:
    rates = prepared.rates[mode]
    if isinstance(rates, Unpriced):
        return rates
    caching = prepared.caching_possible and mode.endswith("cached")
    quantities = _reference_quantities(prepared, caching, hit_rate)
    search_usd = prepared.web_search_usd_per_request
    code_usd = prepared.code_execution.usd_per_request if prepared.code_execution else _ZERO
    with localcontext(EXACT):
        lines = tuple(_reference_lines(quantities, rates, search_usd, code_usd))
        per_request = sum((line[3] for line in lines), _ZERO)
        total = per_request * prepared.workload.requests
    basis = (*(quantities[category] for category in CATEGORIES), search_usd, code_usd)
    return _Bill(lines, basis, per_request, total, caching, rates)


def _reference_ranks(totals: dict[Mode, Decimal]) -> dict[Mode, int]:
    ordered = sorted(totals.items(), key=lambda item: item[1])
    ranks: dict[Mode, int] = {}
    for position, (mode, total) in enumerate(ordered, start=1):
        tied_with = ordered[position - 2] if position > 1 and ordered[position - 2][1] == total else None
        ranks[mode] = ranks[tied_with[0]] if tied_with is not None else position
    return ranks


def _reference_mode_cost(
    mode: Mode, bill: _Bill | Unpriced, baseline: Decimal | None, rank: int | None, requests: int
) -> ModeCost:
    if isinstance(bill, Unpriced):
        return ModeCost(mode, _ZERO, _ZERO, False, None, unavailable_reason=bill.reason)
    savings = pct = None
    if baseline is not None:
        with localcontext(EXACT):
            savings = baseline - bill.total_usd
        if baseline != 0:
            with localcontext(_RATIO):
                pct = savings * 100 / baseline
    return ModeCost(
        mode,
        bill.per_request_usd,
        bill.total_usd,
        bill.caching,
        bill.rates,
        savings,
        pct,
        rank,
        per_request_quantities=bill.quantities,
        requests=requests,
    )


def _reference_modes(prepared: PreparedWorkload) -> tuple[tuple[ModeCost, ...], dict[Mode, _Bill | Unpriced]]:
    bills = {mode: _reference_bill(prepared, mode) for mode in MODES}
    ranks = _reference_ranks({mode: b.total_usd for mode, b in bills.items() if isinstance(b, _Bill)})
    realtime = bills["realtime"]
    baseline = realtime.total_usd if isinstance(realtime, _Bill) else None
    requests = prepared.workload.requests
    modes = tuple(_reference_mode_cost(m, b, baseline, ranks.get(m), requests) for m, b in bills.items())
    return modes, bills


def _reference_band(prepared: PreparedWorkload, bill: ModeCost, table: PriceTable) -> HitRateBand | None:
    if not bill.caching_applied or bill.rates is None:
        return None
    rules = table.rules.batch
    low, high = rules.best_effort_hit_rate_low, rules.best_effort_hit_rate_high
    rates = bill.rates
    write = rates.cache_write_mtok(prepared.workload.cache_ttl)
    assert write is not None and rates.cache_read_mtok is not None
    with localcontext(EXACT):
        per_hit = prepared.cacheable_prefix_tokens * (rates.cache_read_mtok - write) / MTOK * prepared.workload.requests
        hits = prepared.workload.cache_hit_rate
        return HitRateBand(low, high, bill.total_usd + (low - hits) * per_hit, bill.total_usd + (high - hits) * per_hit)


def _reference(workload: Workload, table: PriceTable) -> Estimate:
    prepared = _reference_prepare(workload, table)
    modes, _ = _reference_modes(prepared)
    band = _reference_band(prepared, modes[MODES.index("batch_cached")], table)
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
        warnings=_reference_warnings(prepared, modes, band, table),
        channel=prepared.channel,
        code_execution=prepared.code_execution,
        negotiated=prepared.negotiated,
        web_fetch_tokens_per_request=prepared.web_fetch_tokens_per_request,
    )


# --- the reference's warnings: every generator, in the order the estimator gave them ----------------------------
# The row-level generators (lifecycle, tools, provenance, channel, negotiated) and the text helpers are unchanged
# and used as they are; the checks that issue 16 rewrote are kept here as they were.

Found = Iterator[EstimateWarning]


def _reference_warnings(
    prepared: PreparedWorkload, modes: tuple[ModeCost, ...], band: HitRateBand | None, table: PriceTable
) -> tuple[EstimateWarning, ...]:
    generators: tuple[Found, ...] = (
        checks._lifecycle(prepared),
        _old_unpriced_modes(modes),
        _old_below_minimum(prepared),
        _old_prompt_tier(prepared, modes, table),
        _old_near_tier(prepared),
        _old_context_and_output(prepared, table),
        _old_batch_split(prepared, table),
        _old_caching_loses(prepared, modes),
        _old_batch_band(prepared, band),
        _old_fast_mode(prepared, modes),
        checks._tools(prepared),
        checks._provenance(prepared),
        _old_thinking(prepared),
        _old_web_fetch(prepared),
        _old_code_execution(prepared),
        checks._channel(prepared),
        checks._negotiated(prepared),
    )
    return tuple(warning for generator in generators for warning in generator)


def _old_unpriced_modes(modes: tuple[ModeCost, ...]) -> Found:
    reasons = {m.unavailable_reason for m in modes if not m.available}
    for reason in sorted(r for r in reasons if r):
        names = ", ".join(checks._MODE_WORDS[m.mode] for m in modes if m.unavailable_reason == reason)
        yield EstimateWarning("unpriced_mode", f"{reason}: {names} cannot be estimated.", "model")


def _old_below_minimum(prepared: PreparedWorkload) -> Found:
    prefix = prepared.cacheable_prefix_tokens
    minimum = prepared.model.min_cacheable_prompt_tokens
    if prefix == 0 or prepared.caching_possible or minimum is None:
        return
    tools = prepared.tool_system_prompt_tokens
    including = f" (including {format_tokens(tools)} tool-use system-prompt tokens)" if tools else ""
    yield EstimateWarning(
        "below_min_cacheable",
        f"The shared prefix is {format_tokens(prefix)} tokens{including}, {format_tokens(minimum - prefix)} "
        f"short of {prepared.model.name}'s minimum cacheable length of {format_tokens(minimum)}: Anthropic "
        "processes it uncached, without an error, so the cached modes cost the same as the uncached ones.",
        "prefix_tokens",
    )


def _old_prompt_tier(prepared: PreparedWorkload, modes: tuple[ModeCost, ...], table: PriceTable) -> Found:
    tier = prepared.tier
    if tier is None:
        return
    excess = prepared.prompt_tokens - tier.above_prompt_tokens
    trimmed = checks._trim_prompt(prepared.workload, excess)
    saving = None
    if trimmed is not None:
        before = next(mode for mode in modes if mode.mode == "realtime")
        after = _reference_bill(_reference_prepare(trimmed, table), "realtime")
        if before.available and isinstance(after, _Bill):
            saving = before.total_usd - after.total_usd
    saving_text = (
        f" Trimming {format_tokens(excess)} tokens per request saves {format_usd(saving)} in real-time mode."
        if saving
        else ""
    )
    yield EstimateWarning(
        "prompt_tier",
        f"Each request's prompt is {format_tokens(prepared.prompt_tokens)} tokens (input + cache reads + cache "
        f"writes), {format_tokens(excess)} over the {format_tokens(tier.above_prompt_tokens)}-token tier: the "
        f"whole request, output included, pays the higher rates (input {tier.input_mtok} instead of "
        f"{prepared.period.input_mtok} per MTok, output {tier.output_mtok} instead of "
        f"{prepared.period.output_mtok}).{saving_text}",
        "unique_input_tokens",
    )
    unique = prepared.workload.unique_input_tokens
    if prepared.caching_possible and unique <= tier.above_prompt_tokens:
        yield EstimateWarning(
            "tier_counting_rule",
            "Anthropic does not say whether cached tokens count toward this threshold; the estimate counts "
            "input + cache reads + cache writes, the established rule of the former 200K tier. If cached "
            f"tokens did not count, the cached modes' prompt ({format_tokens(unique)} tokens) would stay "
            "under the tier.",
            "prefix_tokens",
            "info",
        )


def _old_near_tier(prepared: PreparedWorkload) -> Found:
    crossed = prepared.tier.above_prompt_tokens if prepared.tier else 0
    for tier in prepared.period.tiers:
        threshold = tier.above_prompt_tokens
        headroom = threshold - prepared.prompt_tokens
        if threshold > crossed and 0 <= headroom <= threshold * checks.NEAR_TIER_SHARE:
            yield EstimateWarning(
                "near_tier",
                f"The prompt is {format_tokens(prepared.prompt_tokens)} tokens, {format_tokens(headroom)} under the "
                f"{format_tokens(threshold)}-token tier: {format_tokens(headroom + 1)} more tokens per request "
                "would make every token of the request pay the higher rates.",
                "unique_input_tokens",
                "info",
            )


def _old_context_and_output(prepared: PreparedWorkload, table: PriceTable) -> Found:
    model, output = prepared.model, prepared.workload.billed_output_tokens
    total = prepared.prompt_tokens + output
    if total > model.context_window_tokens:
        yield EstimateWarning(
            "context_window",
            f"Prompt + output is {format_tokens(total)} tokens, over {model.name}'s context window of "
            f"{format_tokens(model.context_window_tokens)}: the API would reject these requests.",
            "unique_input_tokens",
        )
    limit, batch_limit = model.max_output_tokens, model.batch_max_output_tokens
    if limit is None or output <= limit:
        return
    header = table.rules.batch.extended_output_beta_header
    if batch_limit is not None and output <= batch_limit:
        where = (
            f" In batches it is allowed up to {format_tokens(batch_limit)} with the beta header {header}; "
            "real-time requests would be rejected."
        )
    else:
        where = " No mode allows it" + (
            f" (batches: {format_tokens(batch_limit)} with {header})." if batch_limit else "."
        )
    thinking = " (thinking included)" if prepared.workload.thinking_tokens else ""
    yield EstimateWarning(
        "output_above_max",
        f"{format_tokens(output)} output tokens per request{thinking} exceeds {model.name}'s max output of "
        f"{format_tokens(limit)}.{where}",
        "output_tokens",
    )


def _old_batch_split(prepared: PreparedWorkload, table: PriceTable) -> Found:
    rules = table.rules.batch
    requests = prepared.workload.requests
    if requests <= rules.max_requests:
        return
    batches = math.ceil(requests / rules.max_requests)
    yield EstimateWarning(
        "batch_split",
        f"{format_tokens(requests)} requests exceed one batch's limit of {format_tokens(rules.max_requests)}: "
        f"submit at least {batches:,} batches (each also at most {rules.max_bytes // 1_000_000:,} MB).",
        "requests",
        "info",
    )


def _old_caching_loses(prepared: PreparedWorkload, modes: tuple[ModeCost, ...]) -> Found:
    if not prepared.caching_possible:
        return
    by_mode = {m.mode: m for m in modes}
    for cached, plain in (("realtime_cached", "realtime"), ("batch_cached", "batch")):
        with_cache, without = by_mode[cached], by_mode[plain]  # type: ignore[index]
        if with_cache.available and without.available and with_cache.total_usd > without.total_usd:
            yield EstimateWarning(
                "caching_loses", checks._caching_loses_text(prepared, with_cache, without), "cache_hit_rate"
            )
            return


def _old_batch_band(prepared: PreparedWorkload, band: HitRateBand | None) -> Found:
    if band is not None:
        yield EstimateWarning("batch_hit_rate_band", checks._batch_band_text(prepared, band), "cache_hit_rate", "info")


def _old_fast_mode(prepared: PreparedWorkload, modes: tuple[ModeCost, ...]) -> Found:
    if not prepared.workload.fast:
        return
    yield EstimateWarning(
        "fast_not_in_batch",
        "Fast mode is real-time only: the batch modes are priced at standard speed.",
        "fast",
        "info",
    )
    notes = {m.rates.derived_note for m in modes if m.rates is not None and m.rates.derived_note}
    for note in sorted(n for n in notes if n):
        yield EstimateWarning("fast_cache_derived", note[0].upper() + note[1:] + ".", "fast", "info")


def _old_thinking(prepared: PreparedWorkload) -> Found:
    thinking = prepared.workload.thinking_tokens
    if not thinking:
        return
    yield EstimateWarning(
        "thinking_billed_as_output",
        f"Thinking ({format_tokens(thinking)} tokens per request, an assumption: it varies with effort and task) "
        "is billed at the output rate and shown apart from the visible output. Anthropic's usage counts it inside "
        "output_tokens, with output_tokens_details.thinking_tokens as the split; calibrate this figure from it.",
        "thinking_tokens",
        "info",
    )


def _old_web_fetch(prepared: PreparedWorkload) -> Found:
    workload = prepared.workload
    if not workload.web_fetches_per_request:
        return
    if not workload.tokens_per_web_fetch:
        yield EstimateWarning(
            "web_fetch_tokens_missing",
            "Web fetch has no fee of its own, but the fetched content is billed as input tokens, and no tokens per "
            "fetch are given: the estimate counts none. Anthropic's examples: a 10 kB page ≈ 2,500 tokens, 100 kB "
            "≈ 25,000, a 500 kB PDF ≈ 125,000 (max_content_tokens caps it).",
            "tokens_per_web_fetch",
        )
        return
    yield EstimateWarning(
        "web_fetch_is_input",
        "Web fetch has no fee of its own: the fetched content "
        f"({format_tokens(prepared.web_fetch_tokens_per_request)} "
        "tokens per request) is input after the cache breakpoint, priced as uncached input in every mode and "
        "counted in the prompt for tiers and the context window. count_tokens cannot pre-count server-tool "
        "content, so this figure is yours, not a count.",
        "web_fetches_per_request",
        "info",
    )


def _old_code_execution(prepared: PreparedWorkload) -> Found:
    terms = prepared.code_execution
    if terms is None or not terms.used:
        return
    if terms.free_with_web_tools:
        yield EstimateWarning(
            "code_execution_free",
            "Code execution is free here: the requests carry web_search or web_fetch of version 20260209 or later. "
            "Without them it would be billed per container-hour.",
            "code_execution_with_web_tools",
            "info",
        )
        return
    text = checks._code_execution_text(terms, prepared.workload.requests, prepared.workload.period)
    yield EstimateWarning("code_execution_hours", text, "code_execution_sessions_per_request", "info")


# --- comparing -------------------------------------------------------------------------------------------------


def _texts(value: object) -> object:
    """Every number inside as its text, so that `==` also checks the decimal places (a count kept as an int reads
    as the Decimal made from it)."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, tuple | list):
        return [_texts(item) for item in value]
    if isinstance(value, dict):
        return {key: _texts(item) for key, item in value.items()}
    if isinstance(value, EstimateWarning):  # its text may be a function that writes it: compare what it writes
        return (value.code, value.message, value.field, value.severity)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _texts(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def _figures(result: Estimate) -> dict[str, Any]:
    """Every figure of an estimate, lines and percentages included, in a form that compares Decimals as text."""
    return {
        "estimate": _texts(result),
        "modes": [
            {
                "lines": _texts(mode.lines),
                "per_request_lines": _texts(mode.per_request_lines),
                "breakdown": _texts(mode.breakdown_usd),
                "available": mode.available,
            }
            for mode in result.modes
        ],
        "ranking": [mode.mode for mode in result.ranking],
        "warnings": [(w.code, w.message, w.field, w.severity) for w in result.warnings],
    }


def _outcome(price: Callable[[], Estimate]) -> tuple[str, object]:
    try:
        return "ok", price()
    except (EstimatorError, PricingError) as error:
        return type(error).__name__, str(error)


def _assert_same(workload: Workload, table: PriceTable = TABLE) -> str:
    """Asserts the new estimate equals the reference (or fails the same way); returns the outcome's kind."""
    expected_kind, expected = _outcome(lambda: _reference(workload, table))
    got_kind, got = _outcome(lambda: estimate(workload, table=table))
    assert (got_kind, got_kind == "ok" or got) == (expected_kind, expected_kind == "ok" or expected)
    if expected_kind != "ok":
        return expected_kind
    assert isinstance(got, Estimate) and isinstance(expected, Estimate)
    assert got == expected
    assert _figures(got) == _figures(expected)
    assert estimate_to_dict(got) == estimate_to_dict(expected)
    return expected_kind


# --- generated workloads ----------------------------------------------------------------------------------------

_MODEL_NAMES = sorted({m.id for m in TABLE.models} | {TABLE.models[0].name, "claude-nonexistent-9"})
_EDGES = sorted(
    {
        edge
        for m in TABLE.models
        for threshold in (
            m.min_cacheable_prompt_tokens,
            *(tier.above_prompt_tokens for p in m.prices for tier in p.tiers),
            m.max_output_tokens,
            m.context_window_tokens,
        )
        if threshold
        for edge in (threshold - 1, threshold, threshold + 1)
    }
)
_tokens = st.one_of(
    st.just(0),
    st.integers(0, 10_000),
    st.integers(0, 300_000),
    st.sampled_from(_EDGES),
    st.just(MAX_TOKENS_PER_REQUEST),
)
_hit_rates = st.one_of(
    st.sampled_from(["0", "1", "0.5", "0.85", "1.000", "0.000", "0.30", "0.98", "0.999999999999999", "1E-15"]),
    st.integers(0, 15).flatmap(lambda places: st.decimals(min_value=0, max_value=1, places=places)),
)
_days = st.one_of(st.none(), st.dates(dt.date(2023, 6, 1), dt.date(2027, 12, 31)))


@st.composite
def workloads(draw: st.DrawFn) -> Workload:
    sessions = draw(st.one_of(st.just(Decimal(0)), st.decimals(0, 1000, places=1)))
    channel = draw(st.sampled_from(["anthropic", "anthropic", *CHANNELS]))
    return Workload(
        model=draw(st.sampled_from(_MODEL_NAMES)),
        requests=draw(st.one_of(st.just(0), st.just(1), st.integers(0, 10**6), st.just(MAX_REQUESTS))),
        prefix_tokens=draw(_tokens),
        unique_input_tokens=draw(_tokens),
        output_tokens=draw(_tokens),
        cache_hit_rate=draw(_hit_rates),
        cache_ttl=draw(st.sampled_from(["5m", "1h"])),
        web_searches_per_request=draw(st.one_of(st.just(0), st.decimals(0, 1000, places=2))),
        tool_use=draw(st.sampled_from(["off", "auto", "any"])),
        as_of=draw(_days),
        fast=draw(st.sampled_from([False, False, False, False, True])),
        thinking_tokens=draw(st.one_of(st.just(0), _tokens)),
        web_fetches_per_request=draw(st.one_of(st.just(0), st.decimals(0, 20, places=1))),
        tokens_per_web_fetch=draw(st.one_of(st.just(0), st.integers(0, 200_000))),
        code_execution_sessions_per_request=sessions,
        code_execution_minutes_per_session=draw(st.decimals(0, 43_200, places=3)) if sessions else 0,
        code_execution_with_web_tools=draw(st.sampled_from([False, False, True])),
        channel=channel,
        endpoint=draw(st.sampled_from(["global", "regional"])) if channel != "anthropic" else "global",
        geo=draw(st.sampled_from(["global", "global", "global", "us"])) if channel == "anthropic" else "global",
    )


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads())
def test_estimate_equals_the_reference_on_generated_workloads(workload: Workload) -> None:
    event(_assert_same(workload))  # `--hypothesis-show-statistics`: how many were priced, how many refused


@settings(max_examples=150, deadline=None)
@given(workloads(), st.sampled_from(MODES), st.one_of(st.none(), _hit_rates.map(Decimal)))
def test_mode_cost_and_priced_modes_equal_the_reference(workload: Workload, mode: Mode, hit: Decimal | None) -> None:
    try:
        expected_prepared = _reference_prepare(workload, TABLE)
    except (EstimatorError, PricingError) as error:
        with pytest.raises(type(error), match="^" + re.escape(str(error)) + "$"):
            prepare(workload, TABLE)
        return
    prepared = prepare(workload, TABLE)
    assert prepared == expected_prepared
    bill = _reference_bill(expected_prepared, mode, hit)
    expected = _reference_mode_cost(mode, bill, None, None, workload.requests)
    got = mode_cost(prepared, mode, hit_rate=hit)
    assert got == expected and _texts(got) == _texts(expected)
    assert _texts(got.lines) == _texts(expected.lines)
    assert priced_modes(prepared) == _reference_modes(expected_prepared)[0]


def test_the_benchmark_workloads_equal_the_reference() -> None:
    for i in range(64):
        reads = Decimal(55 + (i * 7) % 44) / 100
        workload = Workload(
            model="claude-sonnet-4-6",
            requests=200 + 997 * i,
            prefix_tokens=2048 + 61 * i,
            unique_input_tokens=1500 + 113 * i,
            output_tokens=300 + 29 * i,
            cache_hit_rate=reads,
        )
        _assert_same(workload)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"cache_hit_rate": 0},
        {"cache_hit_rate": 1},
        {"cache_hit_rate": "0.000000000000001"},
        {"prefix_tokens": 0, "unique_input_tokens": 0, "output_tokens": 0},
        {"requests": 0},
        {"requests": MAX_REQUESTS, "prefix_tokens": MAX_TOKENS_PER_REQUEST, "output_tokens": MAX_TOKENS_PER_REQUEST},
        {"model": "claude-opus-4-6", "unique_input_tokens": 250_000, "as_of": dt.date(2026, 3, 1)},
        {"model": "claude-opus-4-6", "fast": True, "geo": "us", "as_of": dt.date(2026, 6, 1)},
        {"model": "claude-3-haiku-20240307", "as_of": dt.date(2024, 5, 1)},
        {"thinking_tokens": 32_000, "web_searches_per_request": 3, "web_fetches_per_request": 2},
        {"code_execution_sessions_per_request": 2, "code_execution_minutes_per_session": 7},
        {"channel": "bedrock", "endpoint": "regional", "as_of": dt.date(2026, 6, 1)},
        {"channel": "vertex", "web_searches_per_request": 1},
        {"tool_use": "any", "prefix_tokens": 100},
    ],
)
def test_edge_workloads_equal_the_reference(changes: dict[str, Any]) -> None:
    base = Workload(model="claude-sonnet-4-6", requests=1000, prefix_tokens=3000, unique_input_tokens=5000,
                    output_tokens=1000, cache_hit_rate=Decimal("0.85"))  # fmt: skip
    _assert_same(dataclasses.replace(base, **changes))


# --- the caches: keyed by table, bounded, never stale ------------------------------------------------------------

_AGREEMENT = """\
name: test agreement
overrides:
  - model: "*"
    effective_from: 2026-01-01
    discount: 0.25
"""


def test_each_table_gets_its_own_prices() -> None:
    negotiated = apply_overrides(TABLE, parse_overrides(_AGREEMENT, table=TABLE))
    copy = PriceTable(TABLE.data, source_name="a copy of the shipped table")
    workload = Workload(model="claude-sonnet-4-6", requests=100, prefix_tokens=3000, output_tokens=500,
                        as_of=dt.date(2026, 6, 1))  # fmt: skip
    for _ in range(2):  # the second round is served from the caches
        for table in (TABLE, negotiated, copy, TABLE):
            _assert_same(workload, table)
    public, discounted = estimate(workload, table=TABLE), estimate(workload, table=negotiated)
    assert discounted.mode("realtime").total_usd == public.mode("realtime").total_usd * Decimal("0.75")
    assert discounted.negotiated is not None and public.negotiated is None


def test_a_table_no_longer_used_leaves_the_cache() -> None:
    table = PriceTable(TABLE.data, source_name="short-lived")
    estimate(Workload(model="claude-sonnet-4-6", requests=1), table=table)
    assert table in costs._TABLE_CACHES
    before = len(costs._TABLE_CACHES)
    del table
    gc.collect()
    assert len(costs._TABLE_CACHES) == before - 1


def test_the_cache_of_a_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    table = PriceTable(TABLE.data, source_name="bounded")
    monkeypatch.setattr(costs, "_TABLE_CACHE_LIMIT", 8)
    for day in range(40):
        workload = Workload(model="claude-sonnet-4-6", requests=1, as_of=dt.date(2026, 1, 1) + dt.timedelta(day))
        _assert_same(workload, table)
        assert len(costs._table_cache(table)) <= 8


def test_options_the_day_refuses_are_refused_every_time() -> None:
    # The cache keeps only terms whose checks passed: a refused workload is checked afresh each time.
    refused = Workload(model="claude-haiku-4-5", requests=1, fast=True, as_of=dt.date(2026, 6, 1))
    for _ in range(3):
        with pytest.raises(InvalidWorkloadError, match="fast mode"):
            estimate(refused, table=TABLE)


def test_today_is_the_local_date_and_turns_at_midnight(monkeypatch: pytest.MonkeyPatch) -> None:
    assert costs._today() == dt.date.today()
    midnight = dt.datetime.combine(dt.date(2026, 3, 1), dt.time()).timestamp()
    monkeypatch.setattr(costs, "_TODAY", None)
    for now, day in ((midnight - 1, dt.date(2026, 2, 28)), (midnight + 1, dt.date(2026, 3, 1)),
                     (midnight - 5, dt.date(2026, 2, 28))):  # fmt: skip
        monkeypatch.setattr(time, "time", lambda now=now: now)
        assert costs._today() == day


# --- the records keep their public shape -------------------------------------------------------------------------


@pytest.mark.parametrize("record", [ModeCost, Estimate, PreparedWorkload, HitRateBand, EstimateWarning])
def test_constructors_take_the_fields_in_order_with_their_defaults(record: type) -> None:
    parameters = list(inspect.signature(record.__init__).parameters.values())[1:]
    fields = dataclasses.fields(record)
    assert [p.name for p in parameters] == [f.name for f in fields]
    assert [p.default for p in parameters] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default for f in fields
    ]


def test_an_estimated_mode_behaves_as_a_dataclass_built_by_hand() -> None:
    result = estimate(Workload(model="claude-sonnet-4-6", requests=10, prefix_tokens=3000, cache_hit_rate="0.5"))
    built = result.mode("batch_cached")
    assert {name for name in vars(built) if not name.startswith("_")} | {"savings_pct"} == {
        f.name for f in dataclasses.fields(ModeCost)
    }
    by_hand = ModeCost(**{f.name: getattr(built, f.name) for f in dataclasses.fields(ModeCost)})
    assert by_hand == built and hash(by_hand) == hash(built) and repr(by_hand) == repr(built)
    assert by_hand.lines == built.lines
    assert dataclasses.replace(built, rank=9).savings_pct == built.savings_pct
    assert pickle.loads(pickle.dumps(built)) == built
    assert pickle.loads(pickle.dumps(result)) == result
    assert dataclasses.asdict(built)["savings_pct"] == built.savings_pct
    assert isinstance(built.lines[0], CostLine)
