"""The traps of a workload, in words a user can act on. Each warning names the input it concerns."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal

from estimator.format import format_percent, format_tokens, format_usd
from estimator.rates import ModeRates, Unpriced
from estimator.results import CodeExecutionTerms, EstimateWarning, HitRateBand, ModeCost, PreparedWorkload
from estimator.workload import Mode, Workload
from pricing import PriceTable, PromptTier

__all__ = ["RowWarnings", "row_warnings", "workload_warnings"]

NEAR_TIER_SHARE = Decimal("0.05")
"""A prompt within 5% under a tier's threshold is one edit away from paying the higher rates."""


Found = tuple[EstimateWarning, ...]
"""What one check finds. The checks that read a workload's token counts run on every estimate and return a tuple
(usually empty): starting a generator would cost more than most of them take to run."""


RowWarnings = tuple[tuple[EstimateWarning, ...], tuple[EstimateWarning, ...], tuple[EstimateWarning, ...]]
"""The warnings of a price row in the three places `workload_warnings` gives them (see `row_warnings`)."""


def workload_warnings(
    prepared: PreparedWorkload,
    modes: tuple[ModeCost, ...],
    band: HitRateBand | None,
    table: PriceTable,
    *,
    price_realtime: Callable[[Workload, PriceTable], ModeCost],
    row: RowWarnings | None = None,
) -> tuple[EstimateWarning, ...]:
    """Every trap of the workload. `price_realtime` prices a variant of it on the table (the costing module
    passes it in, so that this module needs no import of the arithmetic); `row` is `row_warnings(prepared)`, when
    the caller keeps it for every workload of the same price row."""
    head, middle, tail = row_warnings(prepared) if row is None else row
    return (
        *head,
        *_below_minimum(prepared),
        *_prompt_tier(prepared, modes, price_realtime, table),
        *_near_tier(prepared),
        *_context_and_output(prepared, table),
        *_batch_split(prepared, table),
        *_caching_loses(prepared, modes),
        *_batch_band(prepared, band),
        *middle,
        *_thinking(prepared),
        *_web_fetch(prepared),
        *_code_execution(prepared),
        *tail,
    )


def row_warnings(prepared: PreparedWorkload) -> RowWarnings:
    """The warnings that follow from the price row alone (the model and the day, the options asked for, the
    tier's rates, the channel, negotiated terms), never from the token counts: the costing module writes them
    once per row and shares them between workloads. Three groups, for their places among the others."""
    return (
        (*_lifecycle(prepared), *_unpriced_modes(prepared.rates)),
        (*_fast_mode(prepared), *_tools(prepared), *_provenance(prepared)),
        (*_channel(prepared), *_negotiated(prepared)),
    )


def _lifecycle(prepared: PreparedWorkload) -> Iterator[EstimateWarning]:
    model, day = prepared.model, prepared.as_of
    life = model.lifecycle
    if prepared.before_release:
        yield EstimateWarning(
            "before_release",
            f"{model.name} was released {life.released}; on {day} it had no price. "
            f"Priced at its launch prices (from {prepared.period.effective_from}).",
            "as_of",
        )
    status = model.status_as_of(day)
    if status == "retired":
        yield EstimateWarning(
            "retired",
            f"{model.name} was retired on {life.retired}: the API no longer serves it. "
            "The figures are its last prices, for old workloads and invoices.",
            "model",
        )
    elif status == "deprecated":
        retires = f"; it retires on {life.retired}" if life.retired else ""
        yield EstimateWarning(
            "deprecated",
            f"{model.name} is deprecated since {life.deprecated}{retires}: plan a migration.",
            "model",
        )


def _unpriced_modes(rates: Mapping[Mode, ModeRates | Unpriced]) -> Iterator[EstimateWarning]:
    reasons = {r.reason for r in rates.values() if isinstance(r, Unpriced)}
    for reason in sorted(r for r in reasons if r):
        names = ", ".join(
            _MODE_WORDS[mode] for mode, r in rates.items() if isinstance(r, Unpriced) and r.reason == reason
        )
        yield EstimateWarning("unpriced_mode", f"{reason}: {names} cannot be estimated.", "model")


def _below_minimum(prepared: PreparedWorkload) -> Found:
    prefix = prepared.cacheable_prefix_tokens
    minimum = prepared.model.min_cacheable_prompt_tokens
    if prefix == 0 or prepared.caching_possible or minimum is None:
        return ()
    tools = prepared.tool_system_prompt_tokens
    including = f" (including {format_tokens(tools)} tool-use system-prompt tokens)" if tools else ""
    return (
        EstimateWarning(
            "below_min_cacheable",
            f"The shared prefix is {format_tokens(prefix)} tokens{including}, {format_tokens(minimum - prefix)} "
            f"short of {prepared.model.name}'s minimum cacheable length of {format_tokens(minimum)}: Anthropic "
            "processes it uncached, without an error, so the cached modes cost the same as the uncached ones.",
            "prefix_tokens",
        ),
    )


def _prompt_tier(
    prepared: PreparedWorkload,
    modes: tuple[ModeCost, ...],
    price_realtime: Callable[[Workload, PriceTable], ModeCost],
    table: PriceTable,
) -> Found:
    tier = prepared.tier
    if tier is None:
        return ()
    return tuple(_prompt_tier_warnings(prepared, tier, modes, price_realtime, table))


def _prompt_tier_warnings(
    prepared: PreparedWorkload,
    tier: PromptTier,
    modes: tuple[ModeCost, ...],
    price_realtime: Callable[[Workload, PriceTable], ModeCost],
    table: PriceTable,
) -> Iterator[EstimateWarning]:
    text = functools.partial(_prompt_tier_text, prepared, tier, modes, price_realtime, table)  # prices a variant
    yield EstimateWarning("prompt_tier", text, "unique_input_tokens")
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


def _prompt_tier_text(
    prepared: PreparedWorkload,
    tier: PromptTier,
    modes: tuple[ModeCost, ...],
    price_realtime: Callable[[Workload, PriceTable], ModeCost],
    table: PriceTable,
) -> str:
    excess = prepared.prompt_tokens - tier.above_prompt_tokens
    trimmed = _trim_prompt(prepared.workload, excess)
    saving = None
    if trimmed is not None:
        before = next(mode for mode in modes if mode.mode == "realtime")
        after = price_realtime(trimmed, table)
        if before.available and after.available:
            saving = before.total_usd - after.total_usd
    saving_text = (
        f" Trimming {format_tokens(excess)} tokens per request saves {format_usd(saving)} in real-time mode."
        if saving
        else ""
    )
    return (
        f"Each request's prompt is {format_tokens(prepared.prompt_tokens)} tokens (input + cache reads + cache "
        f"writes), {format_tokens(excess)} over the {format_tokens(tier.above_prompt_tokens)}-token tier: the "
        f"whole request, output included, pays the higher rates (input {tier.input_mtok} instead of "
        f"{prepared.period.input_mtok} per MTok, output {tier.output_mtok} instead of "
        f"{prepared.period.output_mtok}).{saving_text}"
    )


def _trim_prompt(workload: Workload, excess: int) -> Workload | None:
    """The workload with `excess` prompt tokens removed: unique input first, then the shared prefix."""
    from_unique = min(excess, workload.unique_input_tokens)
    from_prefix = excess - from_unique
    if from_prefix > workload.prefix_tokens:
        return None
    return dataclasses.replace(
        workload,
        unique_input_tokens=workload.unique_input_tokens - from_unique,
        prefix_tokens=workload.prefix_tokens - from_prefix,
    )


def _near_tier(prepared: PreparedWorkload) -> Found:
    return tuple(_near_tier_warnings(prepared)) if prepared.period.tiers else ()


def _near_tier_warnings(prepared: PreparedWorkload) -> Iterator[EstimateWarning]:
    crossed = prepared.tier.above_prompt_tokens if prepared.tier else 0
    for tier in prepared.period.tiers:
        threshold = tier.above_prompt_tokens
        headroom = threshold - prepared.prompt_tokens
        if threshold > crossed and 0 <= headroom <= threshold * NEAR_TIER_SHARE:
            yield EstimateWarning(
                "near_tier",
                f"The prompt is {format_tokens(prepared.prompt_tokens)} tokens, {format_tokens(headroom)} under the "
                f"{format_tokens(threshold)}-token tier: {format_tokens(headroom + 1)} more tokens per request "
                "would make every token of the request pay the higher rates.",
                "unique_input_tokens",
                "info",
            )


def _context_and_output(prepared: PreparedWorkload, table: PriceTable) -> Found:
    # Thinking counts against max_tokens and the context window like visible output.
    model, output = prepared.model, prepared.workload.billed_output_tokens
    limit = model.max_output_tokens
    if prepared.prompt_tokens + output <= model.context_window_tokens and (limit is None or output <= limit):
        return ()
    return tuple(_context_and_output_warnings(prepared, table))


def _context_and_output_warnings(prepared: PreparedWorkload, table: PriceTable) -> Iterator[EstimateWarning]:
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


def _batch_split(prepared: PreparedWorkload, table: PriceTable) -> Found:
    rules = table.rules.batch
    requests = prepared.workload.requests
    if requests <= rules.max_requests:
        return ()
    batches = math.ceil(requests / rules.max_requests)
    return (
        EstimateWarning(
            "batch_split",
            f"{format_tokens(requests)} requests exceed one batch's limit of {format_tokens(rules.max_requests)}: "
            f"submit at least {batches:,} batches (each also at most {rules.max_bytes // 1_000_000:,} MB).",
            "requests",
            "info",
        ),
    )


_MODE_WORDS = {
    "realtime": "real-time",
    "realtime_cached": "real-time with caching",
    "batch": "batch",
    "batch_cached": "batch with caching",
}


def _caching_loses(prepared: PreparedWorkload, modes: tuple[ModeCost, ...]) -> Found:
    if not prepared.caching_possible:
        return ()
    realtime, realtime_cached, batch, batch_cached = modes  # in MODES order
    for with_cache, without in ((realtime_cached, realtime), (batch_cached, batch)):
        if with_cache.total_usd > without.total_usd and with_cache.available and without.available:
            return (
                EstimateWarning(
                    "caching_loses",
                    functools.partial(_caching_loses_text, prepared, with_cache, without),
                    "cache_hit_rate",
                ),
            )
    return ()


def _caching_loses_text(prepared: PreparedWorkload, with_cache: ModeCost, without: ModeCost) -> str:
    rate = prepared.workload.cache_hit_rate
    text = (
        f"At a {format_percent(rate * 100)} hit rate the cache write premium outweighs the reads: "
        f"{_MODE_WORDS[with_cache.mode]} costs {format_usd(with_cache.total_usd - without.total_usd)} more than "
        f"{_MODE_WORDS[without.mode]}."
    )
    rates = with_cache.rates
    write = rates.cache_write_mtok(prepared.workload.cache_ttl) if rates else None
    if rates is not None and write is not None and rates.cache_read_mtok is not None and write > rates.cache_read_mtok:
        # Caching pays when h·read + (1 − h)·write < input, i.e. above h = (write − input) / (write − read).
        pays_above = (write - rates.input_mtok) / (write - rates.cache_read_mtok)
        text += f" Caching pays above a {format_percent(pays_above * 100)} hit rate."
    return text


def _batch_band(prepared: PreparedWorkload, band: HitRateBand | None) -> Found:
    if band is None:
        return ()
    return (
        EstimateWarning(
            "batch_hit_rate_band", functools.partial(_batch_band_text, prepared, band), "cache_hit_rate", "info"
        ),
    )


def _batch_band_text(prepared: PreparedWorkload, band: HitRateBand) -> str:
    advice = (
        " Anthropic recommends the 1-hour TTL for context shared across a batch, and warming the cache with "
        "one request before the rest."
        if prepared.workload.cache_ttl == "5m"
        else " Warm the cache with one request before the rest."
    )
    return (
        f"Cache hits in batches are best-effort (Anthropic quotes {format_percent(band.low_hit_rate * 100)}–"
        f"{format_percent(band.high_hit_rate * 100)}): batch + caching would cost "
        f"{format_usd(band.total_at_high_hit_rate_usd)} at {format_percent(band.high_hit_rate * 100)} hits to "
        f"{format_usd(band.total_at_low_hit_rate_usd)} at {format_percent(band.low_hit_rate * 100)}.{advice}"
    )


def _fast_mode(prepared: PreparedWorkload) -> Iterator[EstimateWarning]:
    if not prepared.workload.fast:
        return
    yield EstimateWarning(
        "fast_not_in_batch",
        "Fast mode is real-time only: the batch modes are priced at standard speed.",
        "fast",
        "info",
    )
    notes = {r.derived_note for r in prepared.rates.values() if isinstance(r, ModeRates) and r.derived_note}
    for note in sorted(n for n in notes if n):
        yield EstimateWarning("fast_cache_derived", note[0].upper() + note[1:] + ".", "fast", "info")


def _tools(prepared: PreparedWorkload) -> Iterator[EstimateWarning]:
    choice = prepared.workload.tool_use
    if choice == "off" or prepared.tool_system_prompt_tokens:
        return
    yield EstimateWarning(
        "tool_tokens_unknown",
        f"Anthropic does not publish the tool-use system-prompt size for {prepared.model.name} "
        f"(tool_choice {choice}); it is not included. Add it to the prefix if you know it.",
        "tool_use",
    )


def _provenance(prepared: PreparedWorkload) -> Iterator[EstimateWarning]:
    row = prepared.tier or prepared.period
    if row.third_party:
        yield EstimateWarning(
            "third_party_prices",
            f"Some of {prepared.model.name}'s prices are third-party readings of Anthropic's page "
            f"({', '.join(row.third_party)}); the price table cites each one.",
            "model",
            "info",
        )
    derived = row.derived_beyond_batch_rule
    if derived:
        yield EstimateWarning(
            "derived_prices",
            f"These rates are derived from Anthropic's documented rules, not printed prices: {', '.join(derived)}.",
            "model",
            "info",
        )


def _thinking(prepared: PreparedWorkload) -> Found:
    thinking = prepared.workload.thinking_tokens
    if not thinking:
        return ()
    return (
        EstimateWarning(
            "thinking_billed_as_output",
            f"Thinking ({format_tokens(thinking)} tokens per request, an assumption: it varies with effort and task) "
            "is "
            "billed at the output rate and shown apart from the visible output. Anthropic's usage counts it inside "
            "output_tokens, with output_tokens_details.thinking_tokens as the split; calibrate this figure from it.",
            "thinking_tokens",
            "info",
        ),
    )


def _web_fetch(prepared: PreparedWorkload) -> Found:
    workload = prepared.workload
    if not workload.web_fetches_per_request:
        return ()
    if not workload.tokens_per_web_fetch:
        return (
            EstimateWarning(
                "web_fetch_tokens_missing",
                "Web fetch has no fee of its own, but the fetched content is billed as input tokens, and no tokens per "
                "fetch are given: the estimate counts none. Anthropic's examples: a 10 kB page ≈ 2,500 tokens, 100 kB "
                "≈ 25,000, a 500 kB PDF ≈ 125,000 (max_content_tokens caps it).",
                "tokens_per_web_fetch",
            ),
        )
    return (
        EstimateWarning(
            "web_fetch_is_input",
            "Web fetch has no fee of its own: the fetched content "
            f"({format_tokens(prepared.web_fetch_tokens_per_request)} "
            "tokens per request) is input after the cache breakpoint, priced as uncached input in every mode and "
            "counted in the prompt for tiers and the context window. count_tokens cannot pre-count server-tool "
            "content, so this figure is yours, not a count.",
            "web_fetches_per_request",
            "info",
        ),
    )


def _code_execution(prepared: PreparedWorkload) -> Found:
    terms = prepared.code_execution
    if terms is None or not terms.used:
        return ()
    if terms.free_with_web_tools:
        return (
            EstimateWarning(
                "code_execution_free",
                "Code execution is free here: the requests carry web_search or web_fetch of version 20260209 or later. "
                "Without them it would be billed per container-hour.",
                "code_execution_with_web_tools",
                "info",
            ),
        )
    requests = prepared.workload.requests
    return (
        EstimateWarning(
            "code_execution_hours",
            functools.partial(_code_execution_text, terms, requests, prepared.workload.period),
            "code_execution_sessions_per_request",
            "info",
        ),
    )


def _code_execution_text(terms: CodeExecutionTerms, requests: int, period: str) -> str:
    hours = terms.hours_per_request * requests
    allowance_usd = terms.free_hours_per_month * terms.usd_per_container_hour
    return (
        f"Code execution: {hours:,.2f} container-hours per {period} (each session billed at least "
        f"{terms.minimum_minutes_per_session} minutes) at {format_usd(terms.usd_per_container_hour)} an hour, the "
        f"same in every mode. Anthropic's {format_tokens(terms.free_hours_per_month)} free hours per organization "
        f"per month are not subtracted, because all of the organization's workloads share them (worth at most "
        f"{format_usd(allowance_usd)} a month). Files in a request are billed even if the tool is not invoked."
    )


def _channel(prepared: PreparedWorkload) -> Iterator[EstimateWarning]:
    channel = prepared.channel
    if channel is None or not channel.set_by_partner:
        return
    yield EstimateWarning("channel_prices", channel.basis, "channel", "info")


def _negotiated(prepared: PreparedWorkload) -> Iterator[EstimateWarning]:
    terms = prepared.negotiated
    if terms is None:
        return
    sentence = terms.sentence
    yield EstimateWarning("negotiated_rates", sentence[0].upper() + sentence[1:] + ".", "model", "info")
