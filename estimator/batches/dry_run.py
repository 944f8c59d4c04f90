"""Dry-run a Message Batches file: validate it like the API would, count its tokens, price it per mode.

The file is JSONL with one `{"custom_id": ..., "params": {...}}` per line (a JSON array of the same, or a
single request, is accepted too). It is streamed: memory grows with the number of requests (a few dozen
bytes each), not with the file, which may be 256 MB.

Every problem is reported with its line number and the run goes on; lines with errors are left out of
the costs. Caching is read from the file itself: the `cache_control` breakpoints (explicit and top-level
automatic), their TTLs and the prefix each covers (tools → system → messages). Requests whose prefixes are
identical share a cache entry: per entry, the first request writes it and each later one reads it with
probability `hit_rate` (writing it again otherwise). A breakpoint whose prefix is shorter than the model's
minimum cacheable length does nothing, and is reported. A shared prefix is tokenized once per distinct
prefix, not once per request.

Output tokens are bounded by `max_tokens`; the expected output is `output_ratio` × max_tokens (default
0.5: a documented guess — set it from your own logs) or a fixed `output_tokens` per request. Costs come out
as a range per mode: low (low token estimate, expected output), expected, high (high token estimate,
every request writing max_tokens).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import IO, Any, Literal

from estimator.batches.reader import iter_items, open_source
from estimator.batches.validation import LineProblem, LineValidator, SeenLines
from estimator.costs import EXACT, MTOK, price_lines
from estimator.errors import BatchFileError
from estimator.planning import lifecycle_warnings
from estimator.rates import ModeRates, Unpriced, resolve_mode_rates, tier_for
from estimator.tokens.anatomy import CacheTTL, flatten_request, prefix_keys
from estimator.tokens.counting import CountSource, request_fixed_tokens
from estimator.tokens.offline import cl100k_token_counts, non_latin_letter_share
from estimator.workload import DEFAULT_HIT_RATE, MODES, Mode, to_decimal, to_fraction, to_token_count
from pricing import Model, PricePeriod, PriceTable, load_price_table

__all__ = [
    "DEFAULT_HIT_RATE",
    "DEFAULT_OUTPUT_RATIO",
    "MAX_FILE_BYTES",
    "MAX_SAMPLE_SIZE",
    "BatchSlice",
    "DryRunResult",
    "LineProblem",
    "ModeRange",
    "ModelDryRun",
    "analyze_batch_file",
]

DEFAULT_OUTPUT_RATIO = Decimal("0.5")
MAX_FILE_BYTES = 2_000_000_000
"""The dry run reads files up to 2 GB (eight full batches), counted on the bytes actually read; larger files
should be split first."""

MAX_SAMPLE_SIZE = 100_000
"""A sample as large as one batch: beyond it, count every request (`exact="all"`)."""

_CHUNK_REQUESTS = 1_000
_SAMPLE_SEED = 20_241_008
_Z_95 = Decimal("1.96")

Progress = Callable[[str, int, int], None]
"""on_progress(stage, done, total): stage "reading" counts bytes, "counting" counts requests sent."""


@dataclass(frozen=True)
class BatchSlice:
    """One batch of a split plan: lines `first_line`..`last_line` of the file."""

    index: int
    first_line: int
    last_line: int
    requests: int
    bytes: int


@dataclass(frozen=True)
class ModeRange:
    mode: Mode
    low_usd: Decimal | None
    expected_usd: Decimal | None
    high_usd: Decimal | None
    unavailable_reason: str | None = None

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None


@dataclass(frozen=True)
class ModelDryRun:
    model_id: str
    model_name: str
    requests: int
    input_tokens_low: int
    input_tokens_expected: int
    input_tokens_high: int
    cacheable_tokens: int
    cache_write_tokens: Decimal
    cache_read_tokens: Decimal
    distinct_prefixes: int
    output_tokens_max: int
    output_tokens_expected: int
    count_source: CountSource
    count_detail: str
    costs: tuple[ModeRange, ...]

    def cost(self, mode: Mode) -> ModeRange:
        return next(item for item in self.costs if item.mode == mode)


@dataclass(frozen=True)
class DryRunResult:
    source_name: str
    bytes_read: int
    lines: int
    requests: int
    invalid_lines: int
    problems: tuple[LineProblem, ...]
    models: tuple[ModelDryRun, ...]
    totals: tuple[ModeRange, ...]
    split: tuple[BatchSlice, ...]
    hit_rate: Decimal
    output_assumption: str
    notes: tuple[str, ...]
    unlisted_problems: int = 0
    """Problems counted but not listed (past MAX_LISTED_PER_CODE of one code); the list says so per code."""

    @property
    def needs_split(self) -> bool:
        return len(self.split) > 1

    @property
    def errors(self) -> tuple[LineProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    def total(self, mode: Mode) -> ModeRange:
        return next(item for item in self.totals if item.mode == mode)


# --- token accounting ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Request:
    """What the costs need of one valid request; token figures are filled once its chunk is counted."""

    line: int
    model_id: str
    max_tokens: int
    geo_us: bool
    frame_tokens: int
    tool_prompt_tokens: int
    breakpoints: list[tuple[str, str, int]]  # (prefix key, ttl, text index of the piece or -1 if known)
    tail_index: int
    total_cl100k: int = 0
    cumulative_cl100k: list[int] = field(default_factory=list)
    size_bytes: int = 0
    tool_prompt_allowance: int = 0  # tokens an unpublished tool-use system prompt may add (the high side only)


class _Counter:
    """Batches texts for cl100k and counts each distinct cached prefix once, in a background thread so that
    tokenizing one chunk overlaps with parsing the next."""

    def __init__(self) -> None:
        self.prefix_cl100k: dict[str, int] = {}
        self._pending_keys: dict[str, tuple[str | None, int]] = {}
        self._texts: list[str] = []
        self._requests: list[_Request] = []
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._future: Future[tuple[list[_Request], list[int], dict[str, tuple[str | None, int]]]] | None = None
        self.letters_non_latin = 0.0
        self.letters_sampled = 0

    def add(self, request: _Request, pieces: list[tuple[str, CacheTTL, str]], tail: str) -> None:
        previous: str | None = None
        for key, ttl, text in pieces:
            if key in self.prefix_cl100k or key in self._pending_keys:
                request.breakpoints.append((key, ttl, -1))
            else:
                self._pending_keys[key] = (previous, len(self._texts))
                request.breakpoints.append((key, ttl, len(self._texts)))
                self._texts.append(text)
            previous = key
        request.tail_index = len(self._texts)
        self._texts.append(tail)
        self._requests.append(request)

    def flush(self) -> list[_Request]:
        """Start counting the buffered chunk; return the previous chunk's requests, now counted."""
        done = self._collect()
        if self._requests:
            texts, requests, pending = self._texts, self._requests, self._pending_keys
            self._sample_scripts(texts)
            self._future = self._pool.submit(lambda: (requests, cl100k_token_counts(texts, num_threads=1), pending))
            self._texts, self._requests, self._pending_keys = [], [], {}
        return done

    def finish(self) -> list[_Request]:
        done = self.flush()
        done += self._collect()
        self._pool.shutdown()
        return done

    def _collect(self) -> list[_Request]:
        if self._future is None:
            return []
        requests, counts, pending = self._future.result()
        self._future = None
        for key, (previous, index) in pending.items():  # insertion order: a piece's predecessor comes first
            base = self.prefix_cl100k[previous] if previous is not None else 0
            self.prefix_cl100k[key] = base + counts[index]
        for request in requests:
            request.cumulative_cl100k = [self.prefix_cl100k[key] for key, _, _ in request.breakpoints]
            last = request.cumulative_cl100k[-1] if request.cumulative_cl100k else 0
            request.total_cl100k = last + counts[request.tail_index]
        return requests

    def _sample_scripts(self, texts: list[str]) -> None:
        # Script detection on every byte would cost as much as tokenizing; a sample per chunk suffices.
        for text in texts[:: max(1, len(texts) // 50)]:
            sample = text[:2000]
            self.letters_non_latin += non_latin_letter_share(sample) * len(sample)
            self.letters_sampled += len(sample)

    @property
    def non_latin_share(self) -> float:
        return self.letters_non_latin / self.letters_sampled if self.letters_sampled else 0.0


def _pieces_and_tail(
    params: Mapping[str, Any],
) -> tuple[list[tuple[str, CacheTTL, str]], str, tuple[str, ...], dict[str, int]]:
    anatomy = flatten_request(params)
    segments = anatomy.segments
    pieces: list[tuple[str, CacheTTL, str]] = []
    start = 0
    for breakpoint in prefix_keys(anatomy):
        text = "\n".join(s.text for s in segments[start : breakpoint.segment_stop] if s.countable and s.text)
        pieces.append((breakpoint.prefix_key, breakpoint.ttl, text))
        start = breakpoint.segment_stop
    tail = "\n".join(s.text for s in segments[start:] if s.countable and s.text)
    return pieces, tail, anatomy.problems, anatomy.uncounted_blocks


# --- costs -----------------------------------------------------------------------------------------


@dataclass
class _Bucket:
    """Token sums of the requests of one model that pay the same row (tier) with the same residency."""

    requests: int = 0
    input_tokens: int = 0
    uncached_when_cached: int = 0
    first_write: dict[str, int] = field(default_factory=lambda: {"5m": 0, "1h": 0})
    repeat: dict[str, int] = field(default_factory=lambda: {"5m": 0, "1h": 0})
    output_max: int = 0
    output_expected: int = 0
    allowance_tokens: int = 0  # unpublished tool-use prompts: added to the high estimate only


@dataclass
class _ModelTally:
    model: Model
    period: PricePeriod  # resolved once per model: the tally runs per request on 100,000-line files
    buckets: dict[tuple[int | None, bool], _Bucket] = field(default_factory=lambda: defaultdict(_Bucket))
    seen_prefixes: set[str] = field(default_factory=set)
    cacheable_tokens: int = 0
    ineffective: dict[str, int] = field(default_factory=dict)  # prefix key → first line
    ineffective_requests: SeenLines = field(default_factory=lambda: SeenLines())
    ineffective_largest_tokens: int = 0


def _scaled(cl100k: int, scale: Decimal) -> int:
    return int((cl100k * scale).to_integral_value(rounding=ROUND_HALF_UP))


def _tally(
    requests: list[_Request],
    table: PriceTable,
    day: dt.date,
    scales: Mapping[str, Decimal],
    exact_totals: Mapping[int, int],
    output: Callable[[int], int],
) -> dict[str, _ModelTally]:
    tallies: dict[str, _ModelTally] = {}
    for request in requests:
        tally = tallies.get(request.model_id)
        if tally is None:
            model = table.model(request.model_id)
            # Before the release date, the launch prices apply (the estimator warns about such dates).
            period = model.period_as_of(day) or model.periods_in_effect[0]
            tally = tallies[request.model_id] = _ModelTally(model, period)
        _tally_one(request, tally, table, scales, exact_totals, output)
    return tallies


def _tally_one(
    request: _Request,
    tally: _ModelTally,
    table: PriceTable,
    scales: Mapping[str, Decimal],
    exact_totals: Mapping[int, int],
    output: Callable[[int], int],
) -> None:
    model = tally.model
    scale, fixed, tools = scales[model.id], _fixed(request), request.tool_prompt_tokens
    exact = exact_totals.get(request.line)
    if exact is not None and request.total_cl100k > 0:
        # The exact total stands; the known fixed tokens stay as they are and the text takes the rest.
        scale = Decimal(max(exact - fixed, 0)) / request.total_cl100k
    elif exact is not None:
        scale, fixed, tools = Decimal(0), exact, 0
    total = _scaled(request.total_cl100k, scale) + fixed
    allowance = request.tool_prompt_allowance if exact is None else 0
    tier = tier_for(tally.period, total)
    bucket = tally.buckets[(tier.above_prompt_tokens if tier else None, request.geo_us)]
    bucket.requests += 1
    bucket.input_tokens += total
    bucket.output_max += request.max_tokens
    bucket.output_expected += output(request.max_tokens)
    bucket.allowance_tokens += allowance
    minimum = model.min_cacheable_prompt_tokens
    cached_so_far = 0
    below_minimum = False
    for (key, ttl, _), cumulative in zip(request.breakpoints, request.cumulative_cl100k, strict=True):
        tokens = _scaled(cumulative, scale) + tools  # the tool-use system prompt opens every cached prefix
        if minimum is None or tokens < minimum:
            tally.ineffective.setdefault(key, request.line)
            tally.ineffective_largest_tokens = max(tally.ineffective_largest_tokens, tokens)
            below_minimum = True
            continue
        piece = tokens - cached_so_far
        if key in tally.seen_prefixes:
            bucket.repeat[ttl] += piece
        else:
            tally.seen_prefixes.add(key)
            bucket.first_write[ttl] += piece
        cached_so_far = tokens
    tally.cacheable_tokens += cached_so_far
    bucket.uncached_when_cached += total - cached_so_far
    if below_minimum:
        tally.ineffective_requests.add(request.line)


def _mode_ranges(
    tally: _ModelTally, table: PriceTable, hit_rate: Decimal, band: tuple[Decimal, Decimal]
) -> tuple[ModeRange, ...]:
    model, period = tally.model, tally.period
    tiers = {tier.above_prompt_tokens: tier for tier in period.tiers}
    totals: dict[Mode, list[Decimal]] = {mode: [Decimal(0)] * 3 for mode in MODES}
    reasons: dict[Mode, str] = {}
    us = table.rules.data_residency.us_multiplier
    for (threshold, geo_us), bucket in tally.buckets.items():
        tier = tiers.get(threshold) if threshold is not None else None
        for mode in MODES:
            rates = resolve_mode_rates(
                period, mode, tier=tier, fast=False, geo_multiplier=us if geo_us else Decimal(1), model_name=model.name
            )
            if isinstance(rates, Unpriced):
                reasons[mode] = rates.reason
                continue
            low, expected, high = _bucket_costs(bucket, mode, rates, hit_rate, band)
            totals[mode] = [totals[mode][0] + low, totals[mode][1] + expected, totals[mode][2] + high]
    return tuple(
        ModeRange(mode, None, None, None, reasons[mode])
        if mode in reasons
        else ModeRange(mode, totals[mode][0], totals[mode][1], totals[mode][2])
        for mode in MODES
    )


def _bucket_costs(
    bucket: _Bucket, mode: Mode, rates: ModeRates, hit_rate: Decimal, band: tuple[Decimal, Decimal]
) -> tuple[Decimal, Decimal, Decimal]:
    with localcontext(EXACT):
        quantities = dict.fromkeys(
            ("uncached_input", "cache_write_5m", "cache_write_1h", "cache_read", "output", "web_search"), Decimal(0)
        )
        if mode.endswith("cached"):
            quantities["uncached_input"] = Decimal(bucket.uncached_when_cached)
            for ttl in ("5m", "1h"):
                repeat = Decimal(bucket.repeat[ttl])
                quantities[f"cache_write_{ttl}"] = bucket.first_write[ttl] + (1 - hit_rate) * repeat
                quantities["cache_read"] += hit_rate * repeat
        else:
            quantities["uncached_input"] = Decimal(bucket.input_tokens)
        lines = price_lines(quantities, rates, Decimal(0))  # type: ignore[arg-type]
        input_usd = sum((line.usd for line in lines if line.category != "output"), Decimal(0))
        output_expected = bucket.output_expected * rates.output_mtok / MTOK
        output_max = bucket.output_max * rates.output_mtok / MTOK
        # An unpublished tool-use prompt may be billed as a cache write, dearer than plain input: the high end
        # prices it at the dearest input rate the mode has.
        dearest = max(r for r in (rates.input_mtok, rates.cache_write_5m_mtok, rates.cache_write_1h_mtok) if r)
        allowance_usd = bucket.allowance_tokens * dearest / MTOK
    with localcontext(Context(prec=40)):  # the band is a ratio: the range is an estimate, rounded at 40 digits
        low_scale, high_scale = band
        high = input_usd * high_scale + allowance_usd + output_max
        return input_usd * low_scale + output_expected, input_usd + output_expected, high


# --- exact counts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sample:
    line: int
    params: Mapping[str, Any]


class _Reservoir:
    """A uniform random sample of each model's requests (Algorithm R), reproducible by its seed."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.seen: dict[str, int] = defaultdict(int)
        self.items: dict[str, list[_Sample]] = defaultdict(list)
        self._random = random.Random(_SAMPLE_SEED)

    def offer(self, model_id: str, sample: _Sample) -> None:
        self.seen[model_id] += 1
        bucket = self.items[model_id]
        if len(bucket) < self.size:
            bucket.append(sample)
            return
        slot = self._random.randrange(self.seen[model_id])
        if slot < self.size:
            bucket[slot] = sample


@dataclass(frozen=True)
class _Calibration:
    scale: Decimal
    band: tuple[Decimal, Decimal]
    source: CountSource
    detail: str


def _fixed(request: _Request) -> int:
    return request.frame_tokens + request.tool_prompt_tokens


def _sampled_calibration(
    samples: list[_Sample], by_line: Mapping[int, _Request], counts: tuple[int | None, ...]
) -> _Calibration | None:
    # The ratio is fitted on the text alone: the frame and tool-prompt tokens are known and added back.
    pairs = [
        (Decimal(exact - _fixed(by_line[s.line])), Decimal(by_line[s.line].total_cl100k))
        for s, exact in zip(samples, counts, strict=True)
        if exact is not None
    ]
    pairs = [(exact, offline) for exact, offline in pairs if offline > 0]
    if len(pairs) < 10:
        return None
    zero = Decimal(0)
    with localcontext(Context(prec=28)):
        ratio = sum((e for e, _ in pairs), zero) / sum((o for _, o in pairs), zero)
        n = len(pairs)
        mean_offline = sum((o for _, o in pairs), zero) / n
        residual = sum(((e - ratio * o) ** 2 for e, o in pairs), zero) / (n - 1)
        # The ratio estimator's standard error, as a share of the ratio; 1.96 of them for 95%.
        error = _Z_95 * (residual / n).sqrt() / mean_offline / ratio if ratio else zero
    percent = f"{error * 100:.1f}%"
    return _Calibration(
        ratio, (1 - error, 1 + error), "sampled", f"sampled ±{percent} (95%, {n} requests counted exactly)"
    )


# --- the dry run -----------------------------------------------------------------------------------


def analyze_batch_file(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    hit_rate: object = DEFAULT_HIT_RATE,
    output_ratio: object | None = None,
    output_tokens: object | None = None,
    as_of: dt.date | None = None,
    exact: Literal["none", "sample", "all"] = "none",
    sample_size: int = 200,
    api_key: str | None = None,
    base_url: str | None = None,
    deadline_s: float | None = None,
    table: PriceTable | None = None,
    on_progress: Progress | None = None,
) -> DryRunResult:
    """Validate, count and price a Message Batches file: a path (`-` for standard input) or a binary stream
    such as an upload. With `exact`, counts made through count_tokens stop after `deadline_s` (default
    `estimator.tokens.exact.DEFAULT_DEADLINE_S`) and the rest fall back to offline counts, which the notes say."""
    hits = to_fraction(hit_rate, "hit_rate")
    output, assumption = _output_rule(output_ratio, output_tokens)
    if exact not in ("none", "sample", "all"):
        raise BatchFileError(f"exact must be none, sample or all, got {exact!r}")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or not 1 <= sample_size <= MAX_SAMPLE_SIZE:
        raise BatchFileError(f"sample_size must be a whole number from 1 to {MAX_SAMPLE_SIZE:,}, got {sample_size!r}")
    table = table or load_price_table()
    day = as_of or dt.date.today()
    stream, size, name, owned = open_source(source)
    try:
        if exact == "all" and not stream.seekable():
            raise BatchFileError(f"{name}: counting every request reads the file twice; give a file, not a stream")
        if size is not None and size > MAX_FILE_BYTES:
            raise BatchFileError(
                f"{name}: {size:,} bytes is over the dry run's limit of {MAX_FILE_BYTES:,}; split the file first"
            )
        scan = _scan(stream, size, name, table, day, sample_size if exact == "sample" else 0, on_progress)
    finally:
        if owned:
            stream.close()
    notes = list(scan.notes)
    api = _Api(api_key, base_url, time.monotonic() + (deadline_s if deadline_s is not None else _default_deadline()))
    calibrations = _calibrations(scan, table, exact, api, on_progress, notes, source)
    return _result(scan, name, table, day, hits, output, assumption, calibrations, notes)


def _default_deadline() -> float:
    from estimator.tokens.exact import DEFAULT_DEADLINE_S  # the SDK is not imported by this module

    return DEFAULT_DEADLINE_S


@dataclass(frozen=True)
class _Api:
    key: str | None
    base_url: str | None
    deadline_at: float  # time.monotonic() after which no count starts

    def remaining_s(self) -> float:
        return self.deadline_at - time.monotonic()


@dataclass
class _Scan:
    bytes_read: int = 0
    lines: int = 0
    invalid_lines: int = 0
    unlisted_problems: int = 0
    requests: list[_Request] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reservoir: _Reservoir | None = None
    non_latin_share: float = 0.0


@dataclass
class _RequestNotes:
    """What the offline count could not see, per kind, with the requests (lines) it concerns."""

    uncounted: dict[str, tuple[int, int, int, SeenLines]] = field(default_factory=dict)  # kind → blocks, min, max
    other: dict[str, SeenLines] = field(default_factory=dict)
    custom_ids: dict[int, str] = field(default_factory=dict)  # first line of each note → its custom_id

    def add(self, line: int, custom_id: str | None, problems: tuple[str, ...], uncounted: Mapping[str, int]) -> None:
        for kind, blocks in uncounted.items():
            total, low, high, lines = self.uncounted.get(kind, (0, blocks, blocks, SeenLines()))
            lines.add(line)
            self.uncounted[kind] = (total + blocks, min(low, blocks), max(high, blocks), lines)
            self._first(line, custom_id)
        for note in problems:
            self.other.setdefault(note, SeenLines()).add(line)
            self._first(line, custom_id)

    def _first(self, line: int, custom_id: str | None) -> None:
        if custom_id is not None and len(self.custom_ids) < 10_000:
            self.custom_ids.setdefault(line, custom_id)

    def problems(self) -> list[LineProblem]:
        found = []
        for kind, (total, low, high, lines) in sorted(self.uncounted.items()):
            per_request = f"{low:,} per request" if low == high else f"{low:,} to {high:,} per request"
            requests = f"{lines.count:,} request{'s' if lines.count != 1 else ''}"
            in_all = f", {total:,} in all" if lines.count > 1 else ""
            message = (
                f"{_plural_kind(kind, total)} not counted offline ({per_request} in {requests}{in_all}; "
                f"{lines.where()}): the input estimate leaves them out; --api counts them exactly"
            )
            found.append(self._problem(lines, message))
        for note, lines in self.other.items():
            requests = f"{lines.count:,} request{'s' if lines.count != 1 else ''}"
            found.append(self._problem(lines, f"{note} ({requests}: {lines.where()})"))
        return found

    def _problem(self, lines: SeenLines, message: str) -> LineProblem:
        first = lines.lines[0]
        return LineProblem(
            first, self.custom_ids.get(first), "warning", "request_note", message, None, tuple(lines.lines)
        )


def _plural_kind(kind: str, count: int) -> str:
    names = {"image": "image", "document": "document (PDF or file)", "redacted_thinking": "redacted thinking block"}
    name = names.get(kind, f"{kind} block")
    if count == 1:
        return name
    return name.replace("document (", "documents (") if kind == "document" else f"{name}s"


def _scan(
    stream: IO[bytes],
    size: int | None,
    name: str,
    table: PriceTable,
    day: dt.date,
    sample_size: int,
    on_progress: Progress | None,
) -> _Scan:
    scan = _Scan(reservoir=_Reservoir(sample_size) if sample_size else None)
    validator = LineValidator(table, day)
    counter = _Counter()
    total = size or 0
    notes = _RequestNotes()
    tool_notes: dict[str, SeenLines] = {}

    def on_bytes(count: int) -> None:
        scan.bytes_read += count
        if on_progress is not None:
            on_progress("reading", scan.bytes_read, max(total, scan.bytes_read))

    pending = 0
    try:
        for item in iter_items(stream, on_bytes, max_bytes=MAX_FILE_BYTES, name=name):
            scan.lines = max(scan.lines, item.line)
            custom_id, params, model = validator.check(item)
            if params is None or model is None:
                continue
            pieces, tail, problems, uncounted = _pieces_and_tail(params)
            notes.add(item.line, custom_id, problems, uncounted)
            fixed = request_fixed_tokens(params, model, table)
            for note in fixed.notes:
                tool_notes.setdefault(note, SeenLines()).add(item.line)
            geo_us = params.get("inference_geo") == "us"
            request = _Request(
                item.line, model.id, params["max_tokens"], geo_us, fixed.frame_tokens, fixed.tool_prompt_tokens, [], -1
            )
            request.size_bytes = item.size_bytes
            request.tool_prompt_allowance = fixed.tool_prompt_allowance
            counter.add(request, pieces, tail)
            if scan.reservoir is not None:
                scan.reservoir.offer(model.id, _Sample(item.line, params))
            pending += 1
            if pending >= _CHUNK_REQUESTS:
                scan.requests += counter.flush()
                pending = 0
    finally:
        scan.requests += counter.finish()
    scan.problems = validator.finish() + notes.problems()
    for note, lines in tool_notes.items():
        first = lines.lines[0]
        message = f"{note} ({lines.count:,} request{'s' if lines.count != 1 else ''}: {lines.where()})"
        scan.problems.append(LineProblem(first, None, "warning", "request_note", message, None, tuple(lines.lines)))
    scan.problems += _lifecycle_problems(validator, table, day)
    scan.invalid_lines = validator.invalid_lines
    scan.unlisted_problems = sum(validator.unlisted.values())
    scan.non_latin_share = counter.non_latin_share
    scan.problems.sort(key=lambda p: p.line)
    return scan


def _lifecycle_problems(validator: LineValidator, table: PriceTable, day: dt.date) -> list[LineProblem]:
    """The warnings `estimate` gives for a deprecated model, word for word, with the lines that use it."""
    problems = []
    for model_id, lines in validator.deprecated.items():
        for warning in lifecycle_warnings(model_id, day, table=table):
            if warning.code == "deprecated":
                message = (
                    f"{warning.message} ({lines.count:,} request{'s' if lines.count != 1 else ''}: {lines.where()})"
                )
                problems.append(
                    LineProblem(lines.lines[0], None, "warning", "model_deprecated", message, None, tuple(lines.lines))
                )
    return problems


def _calibrations(
    scan: _Scan,
    table: PriceTable,
    exact: str,
    api: _Api,
    on_progress: Progress | None,
    notes: list[str],
    source: Any,
) -> dict[str, tuple[_Calibration, dict[int, int]]]:
    """Per model: how offline cl100k counts become Claude tokens, and any exact per-request totals."""
    result: dict[str, tuple[_Calibration, dict[int, int]]] = {}
    models = {r.model_id for r in scan.requests}
    for model_id in models:
        calibration = table.tokenizer(table.model(model_id))
        low, high = 1 / calibration.file_total_band_high, 1 / calibration.file_total_band_low
        share = Decimal(str(round(scan.non_latin_share, 4)))
        low = min(low, 1 / (1 + share * (calibration.non_latin_overcount - 1)))
        spread = f"−{(1 - low) * 100:.0f}%/+{(high - 1) * 100:.0f}%"
        detail = f"estimated offline (cl100k × {calibration.cl100k_factor}; file total likely within {spread})"
        result[model_id] = (_Calibration(calibration.cl100k_factor, (low, high), "estimated", detail), {})
    if scan.non_latin_share > 0.2:
        notes.append(f"{scan.non_latin_share:.0%} of the letters are in non-Latin scripts: offline counts run high")
    if exact == "sample" and scan.reservoir is not None:
        _apply_sample(scan, result, api, on_progress, notes)
    elif exact == "all":
        _apply_exact_all(scan, result, api, on_progress, notes, source)
    return result


def _apply_sample(
    scan: _Scan,
    result: dict[str, tuple[_Calibration, dict[int, int]]],
    api: _Api,
    on_progress: Progress | None,
    notes: list[str],
) -> None:
    from estimator.tokens.exact import count_exact

    assert scan.reservoir is not None
    by_line = {r.line: r for r in scan.requests}
    for model_id, samples in sorted(scan.reservoir.items.items()):
        if api.remaining_s() <= 0:
            notes.append(f"{model_id}: not sampled (the deadline had passed); offline estimate used")
            continue
        counted = count_exact(
            [s.params for s in samples],
            api_key=api.key,
            base_url=api.base_url,
            deadline_s=api.remaining_s(),
            on_progress=_stage(on_progress, "counting"),
        )
        calibration = _sampled_calibration(samples, by_line, counted.input_tokens)
        failed = [samples[f.index].line for f in counted.failures]
        reason = counted.stopped_reason or (counted.failures[0].reason if counted.failures else "too few requests")
        if calibration is None:
            notes.append(f"{model_id}: sampling failed ({reason}); offline estimate used")
            continue
        if failed:
            notes.append(
                f"{model_id}: {len(failed):,} of {len(samples):,} sampled requests could not be counted ({reason}; "
                f"{_lines_text(failed)}); the ratio uses the other {len(samples) - len(failed):,}"
            )
        result[model_id] = (calibration, {})


def _apply_exact_all(
    scan: _Scan,
    result: dict[str, tuple[_Calibration, dict[int, int]]],
    api: _Api,
    on_progress: Progress | None,
    notes: list[str],
    source: Any,
) -> None:
    wanted = {r.line for r in scan.requests}
    exact_by_line: dict[int, int] = {}
    reasons: dict[int, str] = {}
    stream, _, name, owned = open_source(source)
    if not owned:
        stream.seek(0)
    stopped: str | None = None
    try:
        chunk: list[tuple[int, Mapping[str, Any]]] = []
        for item in iter_items(stream, lambda _: None, max_bytes=MAX_FILE_BYTES, name=name):
            if item.line in wanted and isinstance(item.value, dict):
                chunk.append((item.line, item.value["params"]))
            if len(chunk) >= _EXACT_CHUNK:
                stopped = _count_chunk(chunk, exact_by_line, reasons, api)
                chunk = []
                if on_progress is not None:
                    on_progress("counting", len(exact_by_line) + len(reasons), len(wanted))
                if stopped:
                    break
        if chunk and not stopped:
            stopped = _count_chunk(chunk, exact_by_line, reasons, api)
    finally:
        if owned:
            stream.close()
    for model_id, (calibration, _) in list(result.items()):
        lines = sorted(r.line for r in scan.requests if r.model_id == model_id)
        got = {line: exact_by_line[line] for line in lines if line in exact_by_line}
        if len(got) == len(lines):
            exact = _Calibration(calibration.scale, (Decimal(1), Decimal(1)), "exact", "exact (count_tokens)")
            result[model_id] = (exact, got)
            continue
        result[model_id] = (calibration, got)
        missing = [line for line in lines if line not in got]
        why = sorted({reasons[line] for line in missing if line in reasons}) or [stopped or "not counted"]
        notes.append(
            f"{model_id}: exact counts for {len(got):,} of {len(lines):,} requests; {_lines_text(missing)} "
            f"estimated offline ({'; '.join(why[:3])})"
        )


_EXACT_CHUNK = 500


def _count_chunk(
    chunk: list[tuple[int, Mapping[str, Any]]], exact_by_line: dict[int, int], reasons: dict[int, str], api: _Api
) -> str | None:
    """Count one chunk exactly; the reason the whole count stopped, if it did (later chunks are not sent)."""
    from estimator.tokens.exact import count_exact

    if api.remaining_s() <= 0:
        for line, _ in chunk:
            reasons[line] = "the deadline had passed"
        return "the deadline had passed"
    counted = count_exact(
        [params for _, params in chunk], api_key=api.key, base_url=api.base_url, deadline_s=api.remaining_s()
    )
    for (line, _), tokens in zip(chunk, counted.input_tokens, strict=True):
        if tokens is not None:
            exact_by_line[line] = tokens
    for failure in counted.failures:
        reasons[chunk[failure.index][0]] = failure.reason
    return counted.stopped_reason


def _lines_text(lines: list[int]) -> str:
    shown = ", ".join(f"{line:,}" for line in lines[:5])
    more = f" and {len(lines) - 5:,} more" if len(lines) > 5 else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _stage(on_progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if on_progress is None:
        return None
    return lambda done, total: on_progress(stage, done, total)


def _output_rule(output_ratio: object | None, output_tokens: object | None) -> tuple[Callable[[int], int], str]:
    if output_ratio is not None and output_tokens is not None:
        raise BatchFileError("give output_ratio or output_tokens, not both")
    if output_tokens is not None:
        fixed = to_token_count(output_tokens, "output_tokens")
        return (
            lambda max_tokens: min(fixed, max_tokens)
        ), f"{fixed:,} output tokens per request (capped at max_tokens)"
    ratio = to_decimal(
        output_ratio if output_ratio is not None else DEFAULT_OUTPUT_RATIO, "output_ratio", maximum=Decimal(1)
    )
    default = " (default; set --output-ratio from your logs)" if output_ratio is None else ""
    return (lambda max_tokens: int(max_tokens * ratio)), f"output = {ratio} × max_tokens{default}"


def _split_plan(requests: list[_Request], table: PriceTable) -> tuple[BatchSlice, ...]:
    rules = table.rules.batch
    slices: list[BatchSlice] = []
    first = last = count = size = 0
    for request in sorted(requests, key=lambda r: r.line):
        if count and (count + 1 > rules.max_requests or size + request.size_bytes > rules.max_bytes):
            slices.append(BatchSlice(len(slices) + 1, first, last, count, size))
            count = size = 0
        if count == 0:
            first = request.line
        count += 1
        size += request.size_bytes
        last = request.line
    if count:
        slices.append(BatchSlice(len(slices) + 1, first, last, count, size))
    return tuple(slices)


def _result(
    scan: _Scan,
    name: str,
    table: PriceTable,
    day: dt.date,
    hit_rate: Decimal,
    output: Callable[[int], int],
    assumption: str,
    calibrations: Mapping[str, tuple[_Calibration, dict[int, int]]],
    notes: list[str],
) -> DryRunResult:
    scales = {model_id: calibration.scale for model_id, (calibration, _) in calibrations.items()}
    exact_totals = {line: tokens for _, lines in calibrations.values() for line, tokens in lines.items()}
    tallies = _tally(scan.requests, table, day, scales, exact_totals, output)
    problems = list(scan.problems)
    models = []
    for model_id, tally in tallies.items():
        calibration = calibrations[model_id][0]
        if tally.ineffective:
            problems.append(_ineffective_breakpoints(tally))
        models.append(_model_summary(tally, calibration, table, hit_rate))
    problems.sort(key=lambda p: p.line)
    models.sort(key=lambda m: m.model_id)
    invalid = scan.invalid_lines
    split = _split_plan(scan.requests, table)
    if len(split) > 1:
        rules = table.rules.batch
        notes.append(
            f"over one batch's limit ({rules.max_requests:,} requests or {rules.max_bytes // 1_000_000:,} MB): "
            f"split into {len(split)} batches"
        )
    return DryRunResult(
        source_name=name,
        bytes_read=scan.bytes_read,
        lines=scan.lines,
        requests=len(scan.requests),
        invalid_lines=invalid,
        problems=tuple(problems),
        models=tuple(models),
        totals=_sum_ranges(models),
        split=split,
        hit_rate=hit_rate,
        output_assumption=assumption,
        notes=tuple(notes),
        unlisted_problems=scan.unlisted_problems,
    )


def _ineffective_breakpoints(tally: _ModelTally) -> LineProblem:
    """One warning per model for every cache breakpoint below the minimum: they do nothing."""
    firsts = sorted(set(tally.ineffective.values()))
    requests = tally.ineffective_requests
    minimum = tally.model.min_cacheable_prompt_tokens
    limit = f"the minimum cacheable length of {minimum:,} tokens" if minimum else "a published minimum cacheable length"
    distinct = len(tally.ineffective)
    return LineProblem(
        firsts[0],
        None,
        "warning",
        "breakpoint_below_minimum",
        f"{tally.model.name}: {distinct:,} distinct cache breakpoint{'s' if distinct != 1 else ''} in "
        f"{requests.count:,} request{'s' if requests.count != 1 else ''} cover less than {limit} (the largest "
        f"~{tally.ineffective_largest_tokens:,} tokens): they do nothing, those prefixes are billed as plain input. "
        f"First seen on {_lines_text(firsts)}.",
        None,
        tuple(firsts[:5]),
    )


def _model_summary(tally: _ModelTally, calibration: _Calibration, table: PriceTable, hit_rate: Decimal) -> ModelDryRun:
    buckets = list(tally.buckets.values())
    expected = sum(b.input_tokens for b in buckets)
    low_scale, high_scale = calibration.band
    allowance = sum(b.allowance_tokens for b in buckets)
    with localcontext(Context(prec=40)):
        low, high = int(expected * low_scale), math.ceil(expected * high_scale) + allowance
        repeat = sum(Decimal(b.repeat["5m"] + b.repeat["1h"]) for b in buckets)
        writes = sum(Decimal(b.first_write["5m"] + b.first_write["1h"]) for b in buckets) + (1 - hit_rate) * repeat
    return ModelDryRun(
        model_id=tally.model.id,
        model_name=tally.model.name,
        requests=sum(b.requests for b in buckets),
        input_tokens_low=low,
        input_tokens_expected=expected,
        input_tokens_high=high,
        cacheable_tokens=tally.cacheable_tokens,
        cache_write_tokens=writes,
        cache_read_tokens=hit_rate * repeat,
        distinct_prefixes=len(tally.seen_prefixes),
        output_tokens_max=sum(b.output_max for b in buckets),
        output_tokens_expected=sum(b.output_expected for b in buckets),
        count_source=calibration.source,
        count_detail=calibration.detail,
        costs=_mode_ranges(tally, table, hit_rate, calibration.band),
    )


def _sum_ranges(models: list[ModelDryRun]) -> tuple[ModeRange, ...]:
    totals = []
    for mode in MODES:
        ranges = [m.cost(mode) for m in models]
        missing = [r.unavailable_reason for r in ranges if not r.available]
        if missing:
            totals.append(ModeRange(mode, None, None, None, "; ".join(sorted({m for m in missing if m}))))
            continue
        with localcontext(Context(prec=40)):
            totals.append(
                ModeRange(
                    mode,
                    sum((r.low_usd or Decimal(0) for r in ranges), Decimal(0)),
                    sum((r.expected_usd or Decimal(0) for r in ranges), Decimal(0)),
                    sum((r.high_usd or Decimal(0) for r in ranges), Decimal(0)),
                )
            )
    return tuple(totals)
