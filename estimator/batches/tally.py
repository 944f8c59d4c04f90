"""From the counted records to costs: token sums per file, model, tier and residency, priced per mode as a range.

Per request: its Claude tokens are its cl100k count × the model's scale (rounded half up, exactly, in integers),
plus the fixed tokens (message frame, tool-use system prompt) and the images and PDFs counted from their headers.
A breakpoint's prefix is the same: the prefix's cl100k count × the scale, the tool-use system prompt that opens it,
and the media before it. A prefix below the model's minimum cacheable length does nothing. Per distinct prefix and
model the first request writes the cache and each later one reads it with probability `hit_rate` (writing again
otherwise); writes and reads are priced at the breakpoint's TTL.

Costs per mode are low / expected / high: expected prices the expected tokens and output; low takes the token
estimate's low band and the media ranges' low ends; high the high band, the media ranges' high ends, every
request writing its max_tokens, unpublished tool prompts at their largest size, and web searches at `max_uses`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from fractions import Fraction

from estimator.batches.records import (
    FLAG_CODE_EXECUTION,
    FLAG_GEO_US,
    FLAG_MULTI_TURN,
    FLAG_TOOL_ALLOWANCE,
    RequestRecords,
)
from estimator.batches.results import ModeRange
from estimator.batches.validation import SeenLines
from estimator.costs import EXACT, HOURS_PLACES, MTOK
from estimator.errors import BatchFileError
from estimator.rates import ModeRates, Unpriced, resolve_mode_rates, tier_for
from estimator.tokens.counting import largest_published_tool_prompt_tokens
from estimator.workload import MODES, Mode
from pricing import Model, PricePeriod, PriceTable

__all__ = [
    "Bucket",
    "Calibration",
    "CodeExecutionRate",
    "ModelTally",
    "Tally",
    "code_execution_rate",
    "price_buckets",
    "tally_records",
]

_TTLS = ("5m", "1h")
_WIDE = Context(prec=40)
"""The band is a ratio: a range is an estimate, rounded at 40 digits (expected figures stay exact)."""


@dataclass(frozen=True)
class Calibration:
    """How a model's cl100k counts become Claude tokens: an exact scale, the range around it, where it came from."""

    scale: Decimal
    band: tuple[Decimal, Decimal]
    source: str
    detail: str


@dataclass
class Bucket:
    """Token sums of the requests of one file and model that pay the same row (tier) with the same residency."""

    requests: int = 0
    input_tokens: int = 0
    uncached_when_cached: int = 0
    first_write: dict[str, int] = field(default_factory=lambda: {"5m": 0, "1h": 0})
    repeat: dict[str, int] = field(default_factory=lambda: {"5m": 0, "1h": 0})
    output_max: int = 0
    visible_output: int = 0
    thinking_output: int = 0
    thinking_requests: int = 0
    allowance_tokens: int = 0  # unpublished tool-use prompts: the high estimate only
    media_below: int = 0  # how far the media ranges reach below / above their expected tokens
    media_above: int = 0
    web_searches: int = 0
    web_searches_high: int = 0
    code_execution_requests: int = 0


BucketKey = tuple[int, int | None, bool]  # (file index, tier threshold or None, US residency)


@dataclass
class ModelTally:
    model: Model
    period: PricePeriod  # resolved once per model: the tally runs per request on 100,000-line files
    buckets: dict[BucketKey, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    seen_prefixes: set[int] = field(default_factory=set)
    cacheable_tokens: int = 0
    ineffective: dict[int, int] = field(default_factory=dict)  # prefix id → first line
    ineffective_requests: SeenLines = field(default_factory=SeenLines)
    ineffective_largest_tokens: int = 0
    multi_turn_requests: int = 0


@dataclass
class Tally:
    models: dict[int, ModelTally]  # by model index in the records


def _scaled(tokens: int, scale: tuple[int, int]) -> int:
    """tokens × numerator / denominator, rounded half up, exactly (in integers: Fractions cost ~5 µs a request)."""
    numerator, denominator = scale
    return (2 * tokens * numerator + denominator) // (2 * denominator)


def _ratio(value: Decimal | Fraction) -> tuple[int, int]:
    fraction = Fraction(value)
    return fraction.numerator, fraction.denominator


def tally_records(
    records: RequestRecords,
    key_cl100k: Sequence[int],
    table: PriceTable,
    day: dt.date,
    calibrations: Mapping[int, Calibration],
    exact_totals: Mapping[int, int],
    visible_of: Callable[[int], int],
) -> Tally:
    """Sum the requests into buckets, per model (by its index in the records). `visible_of(max_tokens)` is the
    expected visible output of a request."""
    tallier = _Tallier(records, key_cl100k, exact_totals, largest_published_tool_prompt_tokens(table), visible_of)
    tallies: dict[int, ModelTally] = {}
    scales = {index: _ratio(calibration.scale) for index, calibration in calibrations.items()}
    frames: dict[int, int] = {}
    position = 0
    for file_index in range(len(records.file_starts)):
        for row in records.file_rows(file_index):
            index = records.model[row]
            tally = tallies.get(index)
            if tally is None:
                model = table.model(records.model_ids[index])
                # Before the release date, the launch prices apply (the estimator warns about such dates).
                period = model.period_as_of(day) or model.periods_in_effect[0]
                tally = tallies[index] = ModelTally(model, period)
                frames[index] = table.message_frame_tokens(model)
            position = tallier.add(row, position, file_index, tally, scales[index], frames[index])
    return Tally(tallies)


@dataclass
class _Tallier:
    records: RequestRecords
    key_cl100k: Sequence[int]
    exact_totals: Mapping[int, int]
    allowance: int  # the largest published tool-use prompt: what an unpublished one may add
    visible_of: Callable[[int], int]

    def add(
        self, row: int, position: int, file_index: int, tally: ModelTally, scale: tuple[int, int], frame: int
    ) -> int:
        """Add one request to its bucket; the position of the next request's first breakpoint."""
        records = self.records
        cl100k = records.text_cl100k[row]
        fixed = records.fixed_tokens(row)
        media = records.media_tokens[row]
        tools = fixed - frame
        flags = records.flags[row]
        exact = self.exact_totals.get(row)
        media_in_prefixes = True
        if exact is None:
            total = _scaled(cl100k, scale) + fixed + media
        else:
            # The exact total stands; the known fixed and media tokens stay as they are and the text takes the rest.
            total = exact
            if cl100k > 0:
                scale = (max(exact - fixed - media, 0), cl100k)
            else:
                scale, tools, media_in_prefixes = (0, 1), 0, False
        tier = tier_for(tally.period, total) if tally.period.tiers else None
        bucket = tally.buckets[(file_index, tier.above_prompt_tokens if tier else None, bool(flags & FLAG_GEO_US))]
        bucket.requests += 1
        bucket.input_tokens += total
        max_tokens = records.max_tokens[row]
        bucket.output_max += max_tokens
        bucket.visible_output += self.visible_of(max_tokens)
        thinking = records.thinking_output[row]
        bucket.thinking_output += thinking
        bucket.thinking_requests += thinking > 0
        searches = records.web_searches[row]
        bucket.web_searches += searches
        bucket.web_searches_high += records.web_search_high.get(row, searches)
        bucket.code_execution_requests += bool(flags & FLAG_CODE_EXECUTION)
        tally.multi_turn_requests += bool(flags & FLAG_MULTI_TURN)
        if exact is None:
            if flags & FLAG_TOOL_ALLOWANCE:
                bucket.allowance_tokens += self.allowance
            below, above = records.media_band.get(row, (0, 0))
            bucket.media_below += below
            bucket.media_above += above
        end = position + records.breakpoint_count[row]
        cached = self._breakpoints(row, position, end, tally, bucket, scale, tools, media_in_prefixes)
        tally.cacheable_tokens += cached
        bucket.uncached_when_cached += total - cached
        return end

    def _breakpoints(
        self,
        row: int,
        start: int,
        end: int,
        tally: ModelTally,
        bucket: Bucket,
        scale: tuple[int, int],
        tools: int,
        media_in_prefixes: bool,
    ) -> int:
        """Writes and reads of the request's cache breakpoints; the tokens of its longest effective prefix."""
        records, minimum = self.records, tally.model.min_cacheable_prompt_tokens
        cached_so_far = 0
        below_minimum = False
        for j in range(start, end):
            key = records.breakpoint_key[j]
            # The tool-use system prompt opens every cached prefix; the images and PDFs before it belong to it.
            media = records.breakpoint_media[j] if media_in_prefixes else 0
            tokens = _scaled(self.key_cl100k[key], scale) + tools + media
            if minimum is None or tokens < minimum:
                tally.ineffective.setdefault(key, records.line[row])
                tally.ineffective_largest_tokens = max(tally.ineffective_largest_tokens, tokens)
                below_minimum = True
                continue
            ttl = _TTLS[records.breakpoint_ttl[j]]
            piece = tokens - cached_so_far
            if key in tally.seen_prefixes:
                bucket.repeat[ttl] += piece
            else:
                tally.seen_prefixes.add(key)
                bucket.first_write[ttl] += piece
            cached_so_far = tokens
        if below_minimum:
            tally.ineffective_requests.add(records.line[row])
        return cached_so_far


@dataclass(frozen=True)
class CodeExecutionRate:
    """What one request with the code-execution tool pays: its container minutes, as hours, at the hourly rate."""

    minutes: Decimal
    hours: Decimal
    usd_per_hour: Decimal


def code_execution_rate(table: PriceTable, minutes: Decimal | None) -> CodeExecutionRate | None:
    """The container time a request is assumed to use (at least the minimum session), or None when the table has
    no code-execution rate."""
    rules = getattr(table.rules, "code_execution", None)
    if rules is None:
        return None
    minimum = Decimal(rules.minimum_minutes_per_session)
    billed = max(minutes if minutes is not None else minimum, minimum)
    # Minutes are not always a whole number of hours' decimals: hours are rounded to HOURS_PLACES, as `estimate`
    # rounds them (a few nanoseconds), and priced exactly from there.
    with localcontext(Context(prec=40)):
        hours = (billed / 60).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)
    return CodeExecutionRate(billed, hours, Decimal(rules.usd_per_container_hour))


@dataclass(frozen=True)
class PricedBuckets:
    by_file: dict[int, tuple[ModeRange, ...]]
    total: tuple[ModeRange, ...]


def price_buckets(
    tally: ModelTally,
    table: PriceTable,
    hit_rate: Decimal,
    band: tuple[Decimal, Decimal],
    code_execution: CodeExecutionRate | None,
) -> PricedBuckets:
    """The model's cost per mode, in total and per file."""
    model, period = tally.model, tally.period
    tiers = {tier.above_prompt_tokens: tier for tier in period.tiers}
    us = table.rules.data_residency.us_multiplier
    search_usd = table.rules.web_search.usd_per_1000_searches / 1000
    per_file: dict[int, dict[Mode, list[Decimal]]] = {}
    reasons: dict[Mode, str] = {}
    for (file_index, threshold, geo_us), bucket in tally.buckets.items():
        tier = tiers.get(threshold) if threshold is not None else None
        sums = per_file.setdefault(file_index, {mode: [Decimal(0)] * 3 for mode in MODES})
        for mode in MODES:
            rates = resolve_mode_rates(
                period, mode, tier=tier, fast=False, geo_multiplier=us if geo_us else Decimal(1), model_name=model.name
            )
            if isinstance(rates, Unpriced):
                reasons[mode] = rates.reason
                continue
            low, expected, high = _bucket_costs(bucket, mode, rates, hit_rate, band, search_usd, code_execution)
            sums[mode] = [sums[mode][0] + low, sums[mode][1] + expected, sums[mode][2] + high]
    by_file = {index: _ranges(sums, reasons) for index, sums in per_file.items()}
    totals: dict[Mode, list[Decimal]] = {mode: [Decimal(0)] * 3 for mode in MODES}
    with localcontext(_WIDE):
        for sums in per_file.values():
            for mode in MODES:
                totals[mode] = [a + b for a, b in zip(totals[mode], sums[mode], strict=True)]
    return PricedBuckets(by_file, _ranges(totals, reasons))


def _ranges(sums: Mapping[Mode, list[Decimal]], reasons: Mapping[Mode, str]) -> tuple[ModeRange, ...]:
    return tuple(
        ModeRange(mode, None, None, None, reasons[mode])
        if mode in reasons
        else ModeRange(mode, sums[mode][0], sums[mode][1], sums[mode][2])
        for mode in MODES
    )


def _bucket_costs(
    bucket: Bucket,
    mode: Mode,
    rates: ModeRates,
    hit_rate: Decimal,
    band: tuple[Decimal, Decimal],
    search_usd: Decimal,
    code_execution: CodeExecutionRate | None,
) -> tuple[Decimal, Decimal, Decimal]:
    with localcontext(EXACT):
        if mode.endswith("cached"):
            input_usd = bucket.uncached_when_cached * rates.input_mtok
            for ttl in _TTLS:
                repeat = Decimal(bucket.repeat[ttl])
                if not (repeat or bucket.first_write[ttl]):
                    continue  # e.g. no 1-hour writes before the 1-hour TTL existed (no rate either)
                write_rate = rates.cache_write_mtok(ttl)  # type: ignore[arg-type]
                read_rate = rates.cache_read_mtok
                if write_rate is None or read_rate is None:
                    raise BatchFileError(f"internal: no {ttl} cache rate for a mode that uses it")
                input_usd += (bucket.first_write[ttl] + (1 - hit_rate) * repeat) * write_rate
                input_usd += hit_rate * repeat * read_rate
        else:
            input_usd = bucket.input_tokens * rates.input_mtok
        input_usd /= MTOK
        output_expected = (bucket.visible_output + bucket.thinking_output) * rates.output_mtok / MTOK
        output_max = bucket.output_max * rates.output_mtok / MTOK
        # Tokens priced at the dearest input rate the mode has, so that the range holds whichever category they
        # land in: an unpublished tool-use prompt and the media ranges' ends.
        dearest = max(r for r in (rates.input_mtok, rates.cache_write_5m_mtok, rates.cache_write_1h_mtok) if r)
        allowance_usd = bucket.allowance_tokens * dearest / MTOK
        media_below_usd = bucket.media_below * dearest / MTOK
        media_above_usd = bucket.media_above * dearest / MTOK
        searches = bucket.web_searches * search_usd
        searches_high = bucket.web_searches_high * search_usd
        code = Decimal(0)
        if code_execution is not None:
            code = bucket.code_execution_requests * code_execution.hours * code_execution.usd_per_hour
    extras = searches + code
    with localcontext(_WIDE):
        low_scale, high_scale = band
        low = max(Decimal(0), input_usd * low_scale - media_below_usd) + output_expected + extras
        high = input_usd * high_scale + allowance_usd + media_above_usd + output_max + searches_high + code
    return low, input_usd + output_expected + extras, high
