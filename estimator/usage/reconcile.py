"""Reconcile a Message Batches file with its results: the dry run's estimate against what was billed.

`reconcile(requests, results)` joins the two files by `custom_id` and reports:

- in total: the dry run's low / expected / high for the requests that succeeded (only those are billed), in
  the mode the batch ran in (batch, or batch + caching when the file caches), against the actual cost, with
  the error of the expected figure and whether the actual fell inside the range;
- per request: the same estimate for that request alone against its actual cost. The request's tokens are
  counted as the dry run counts them (cached-prefix pieces and tail with cl100k × the model's calibration,
  the frame and tool prompt added, breakpoints under the minimum ignored), with the per-document band; its
  range spans
  the cache outcomes a single request can have: low = the low token count with its cached prefix read and
  the expected output; expected = the expected count, the prefix written by the first request that carries
  it and read at the hit rate by the others, the expected output; high = the high count, the prefix written,
  and `max_tokens` of output. How often the actuals fall inside is the range's coverage;
- the observed output ratio (output ÷ max_tokens) and cache hit rate, as the `--output-ratio` and
  `--hit-rate` to give the next dry run (the hit rate is the dry run's own: the share of *repeated*
  prefix tokens read, first writes left out), and a calibrated plan (`calibrated_workload`).

Per-request counting tokenizes a thousand requests per tokenizer call; `per_request=False` skips it (the
totals need only the dry run).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import IO, Any

from estimator.batches import DryRunResult, analyze_batch_file
from estimator.batches.dry_run import DEFAULT_OUTPUT_RATIO
from estimator.batches.reader import iter_items, open_source
from estimator.usage.actuals import ActualCosts, actual_costs
from estimator.usage.pricer import RecordPricer
from estimator.usage.readers import read_usage
from estimator.usage.records import ResultType, UsageProblem, UsageRecord
from estimator.workload import DEFAULT_HIT_RATE, Mode, Workload, to_decimal, to_fraction, to_token_count
from pricing import Model, PriceTable, PricingError, load_price_table

__all__ = ["Reconciliation", "RequestReconciliation", "TotalReconciliation", "reconcile"]

_RATIO = Context(prec=28)
_SUGGESTION_PLACES = Decimal("0.0001")
_SPOOL_BYTES = 64 << 20
_COUNT_CHUNK = 1_000

Progress = Callable[[str, int, int], None]
"""on_progress(stage, done, total): "requests" counts requests estimated one by one."""


@dataclass(frozen=True)
class RequestReconciliation:
    """One request: its estimate (low / expected / high) and what it actually cost.

    Money is None where it has no price (the reason is in `unpriced_reason`); tokens are prompt tokens (input +
    cache writes + cache reads) and output tokens."""

    custom_id: str
    request_line: int
    result_line: int | None
    model_id: str | None
    result_type: str
    max_tokens: int | None
    estimated_prompt_tokens: tuple[int, int, int] | None
    actual_prompt_tokens: int | None
    estimated_output_tokens: int | None
    actual_output_tokens: int | None
    cached_prefix_tokens: int
    low_usd: Decimal | None
    expected_usd: Decimal | None
    high_usd: Decimal | None
    actual_usd: Decimal | None
    unpriced_reason: str | None = None

    @property
    def error_usd(self) -> Decimal | None:
        """Actual − expected: positive when the estimate was too low."""
        if self.actual_usd is None or self.expected_usd is None:
            return None
        return self.actual_usd - self.expected_usd

    @property
    def error_pct(self) -> Decimal | None:
        error = self.error_usd
        if error is None or not self.expected_usd:
            return None
        with localcontext(_RATIO):
            return error * 100 / self.expected_usd

    @property
    def inside(self) -> bool | None:
        if self.actual_usd is None or self.low_usd is None or self.high_usd is None:
            return None
        return self.low_usd <= self.actual_usd <= self.high_usd


@dataclass(frozen=True)
class TotalReconciliation:
    """The dry run's figures for the succeeded requests against the actual total, in the batch's mode."""

    mode: Mode
    low_usd: Decimal | None
    expected_usd: Decimal | None
    high_usd: Decimal | None
    actual_usd: Decimal
    unavailable_reason: str | None = None

    @property
    def error_usd(self) -> Decimal | None:
        return None if self.expected_usd is None else self.actual_usd - self.expected_usd

    @property
    def error_pct(self) -> Decimal | None:
        if self.expected_usd is None or not self.expected_usd:
            return None
        with localcontext(_RATIO):
            return (self.actual_usd - self.expected_usd) * 100 / self.expected_usd

    @property
    def inside(self) -> bool | None:
        if self.low_usd is None or self.high_usd is None:
            return None
        return self.low_usd <= self.actual_usd <= self.high_usd


@dataclass(frozen=True)
class Reconciliation:
    requests_source: str
    results_source: str
    hit_rate: Decimal
    output_assumption: str
    request_lines: int
    matched: int
    by_result: Mapping[ResultType, int]
    total: TotalReconciliation
    actual: ActualCosts
    dry_run: DryRunResult
    per_request: tuple[RequestReconciliation, ...]
    observed_output_ratio: Decimal | None
    observed_hit_rate: Decimal | None
    suggested_hit_rate: Decimal | None
    suggested_output_ratio: Decimal | None
    problems: tuple[UsageProblem, ...]
    notes: tuple[str, ...]

    @property
    def coverage(self) -> Decimal | None:
        """The share of succeeded requests whose actual cost fell inside their estimated range."""
        judged = [r.inside for r in self.per_request if r.inside is not None]
        if not judged:
            return None
        with localcontext(_RATIO):
            return Decimal(sum(judged)) / len(judged)

    @property
    def mean_absolute_error_pct(self) -> Decimal | None:
        errors = [abs(e) for e in (r.error_pct for r in self.per_request) if e is not None]
        if not errors:
            return None
        with localcontext(_RATIO):
            return sum(errors, Decimal(0)) / len(errors)

    def dry_run_parameters(self) -> dict[str, Decimal]:
        """The options for the next dry run of a similar file: `hit_rate` and `output_ratio`."""
        params = {}
        if self.suggested_hit_rate is not None:
            params["hit_rate"] = self.suggested_hit_rate
        if self.suggested_output_ratio is not None:
            params["output_ratio"] = self.suggested_output_ratio
        return params

    def calibrated_workload(self, model: str | None = None) -> Workload:
        """A plan "calibrated from these results" (see `ActualCosts.calibrated_workload`)."""
        return self.actual.calibrated_workload(model)


@dataclass
class _Request:
    line: int
    model_id: str | None
    max_tokens: int | None
    tokens: tuple[int, int, int] | None
    prefix_tokens: int
    first_of_prefix: bool
    output_expected: int | None
    ttl_1h: bool
    prefix_key: str | None = None


def reconcile(
    requests: str | os.PathLike[str] | IO[bytes],
    results: str | os.PathLike[str] | IO[bytes],
    *,
    hit_rate: object = DEFAULT_HIT_RATE,
    output_ratio: object | None = None,
    output_tokens: object | None = None,
    as_of: dt.date | None = None,
    per_request: bool = True,
    table: PriceTable | None = None,
    on_progress: Progress | None = None,
) -> Reconciliation:
    """Join a batch file and its results by custom_id; see the module docstring for what is compared.

    `hit_rate`, `output_ratio` / `output_tokens` are the dry run's assumptions to check (its defaults if
    not given); `as_of` is the day the batch ran (results carry no date; default today)."""
    table = table or load_price_table()
    hits = to_fraction(hit_rate, "hit_rate")
    day = as_of or dt.date.today()
    results_bytes = _rereadable(results)
    read = read_usage([_rewound(results_bytes)], as_of=day)
    actual = actual_costs(_rewound(results_bytes), as_of=day, table=table)
    by_id, problems = _results_by_id(read.records, read.problems)
    options = {"hit_rate": hits, "output_ratio": output_ratio, "output_tokens": output_tokens, "as_of": day}
    pricer = RecordPricer(table, day)
    requests_bytes = _rereadable(requests)
    spool, estimates, lines, seen = _scan_requests(
        requests_bytes, by_id, options, table, per_request, on_progress, problems
    )
    whole = analyze_batch_file(_rewound(requests_bytes), table=table, **options)  # type: ignore[arg-type]
    billed = len([cid for cid in seen if by_id.get(cid, ([], ""))[1] == "succeeded"])
    if billed == whole.requests:
        subset = whole
        spool.close()
    else:
        spool.seek(0)
        try:
            subset = analyze_batch_file(spool, table=table, **options)  # type: ignore[arg-type]
        finally:
            spool.close()
    for custom_id in sorted(set(by_id) - seen):
        problems.append(
            UsageProblem(
                _name(results),
                by_id[custom_id][0][0].line if by_id[custom_id][0] else 0,
                "warning",
                "result_without_request",
                f"custom_id {custom_id!r} is in the results but not in the batch file",
                custom_id,
            )
        )
    per = tuple(
        _request_reconciliation(custom_id, request, by_id.get(custom_id), pricer, hits)
        for custom_id, request in estimates.items()
    )
    mode: Mode = "batch_cached" if any(m.cacheable_tokens for m in subset.models) else "batch"
    estimate = subset.total(mode)
    total = TotalReconciliation(
        mode, estimate.low_usd, estimate.expected_usd, estimate.high_usd, actual.total_usd, estimate.unavailable_reason
    )
    matched_ok = [r for r in per if r.result_type == "succeeded" and r.max_tokens]
    output_ratio_seen = _ratio(
        sum(r.actual_output_tokens or 0 for r in matched_ok), sum(r.max_tokens or 0 for r in matched_ok)
    )
    repeated_share = _repeated_share(estimates, by_id)
    suggested_hits = _suggested_hit_rate(actual, repeated_share)
    notes = [
        f"estimate over the {subset.requests:,} requests that succeeded (only they are billed); the whole file's "
        f"dry run expected {_usd(whole.total(mode).expected_usd)} in {mode}",
        *whole.notes,
    ]
    if not per_request:
        notes.append("per-request estimates skipped (per_request=False)")
    return Reconciliation(
        requests_source=_name(requests),
        results_source=_name(results),
        hit_rate=hits,
        output_assumption=whole.output_assumption,
        request_lines=lines,
        matched=len(seen & set(by_id)),
        by_result=actual.requests,
        total=total,
        actual=actual,
        dry_run=whole,
        per_request=per,
        observed_output_ratio=output_ratio_seen,
        observed_hit_rate=actual.hit_rate,
        suggested_hit_rate=suggested_hits,
        suggested_output_ratio=None if output_ratio_seen is None else min(output_ratio_seen, Decimal(1)),
        problems=tuple(problems) + tuple(_request_problems(whole, _name(requests))),
        notes=tuple(notes),
    )


def _rereadable(source: str | os.PathLike[str] | IO[bytes]) -> str | os.PathLike[str] | IO[bytes]:
    """Each file is read more than once: a path or a seekable stream as it is, anything else in memory."""
    if isinstance(source, str | os.PathLike) or source.seekable():
        return source
    data = io.BytesIO(source.read())
    data.name = _name(source)  # shown in messages, like an upload's name
    return data


def _rewound(source: str | os.PathLike[str] | IO[bytes]) -> str | os.PathLike[str] | IO[bytes]:
    if not isinstance(source, str | os.PathLike):
        source.seek(0)
    return source


def _name(source: object) -> str:
    return str(source) if isinstance(source, str | os.PathLike) else str(getattr(source, "name", "<upload>"))


def _usd(value: Decimal | None) -> str:
    from estimator.format import format_usd

    return format_usd(value)


def _results_by_id(
    records: list[UsageRecord], read_problems: list[UsageProblem]
) -> tuple[dict[str, tuple[list[UsageRecord], str]], list[UsageProblem]]:
    by_id: dict[str, tuple[list[UsageRecord], str]] = {}
    problems = list(read_problems)
    first_line: dict[str, int] = {}
    for record in records:
        if record.custom_id is None:
            continue
        found = by_id.get(record.custom_id)
        if found is None:
            by_id[record.custom_id] = ([record], record.result_type)
            first_line[record.custom_id] = record.line
        elif first_line[record.custom_id] == record.line:
            found[0].append(record)  # a further iteration of the same result line
        else:
            problems.append(
                UsageProblem(
                    record.source,
                    record.line,
                    "warning",
                    "duplicate_result",
                    f"custom_id {record.custom_id!r} already has a result on line {first_line[record.custom_id]}",
                    record.custom_id,
                )
            )
    return by_id, problems


def _scan_requests(
    source: str | os.PathLike[str] | IO[bytes],
    by_id: Mapping[str, tuple[list[UsageRecord], str]],
    options: Mapping[str, Any],
    table: PriceTable,
    per_request: bool,
    on_progress: Progress | None,
    problems: list[UsageProblem],
) -> tuple[IO[bytes], dict[str, _Request], int, set[str]]:
    """One pass over the batch file: the succeeded requests go to a spool (for the subset's dry run) and, a
    chunk at a time, through the same token counting as the dry run's (`_RequestCounter`)."""
    stream, _, name, owned = open_source(_rewound(source))
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - closed by the caller
    estimates: dict[str, _Request] = {}
    seen: set[str] = set()
    lines = 0
    counter = _RequestCounter(table, options)
    total = sum(1 for found in by_id.values() if found[1] == "succeeded")
    try:
        for item in iter_items(stream, lambda _: None):
            lines = max(lines, item.line)
            value = item.value
            if not isinstance(value, dict) or not isinstance(value.get("custom_id"), str):
                continue
            custom_id = value["custom_id"]
            if custom_id in seen:
                continue  # the dry run reports the duplicate
            seen.add(custom_id)
            found = by_id.get(custom_id)
            params = value.get("params")
            if found is None:
                problems.append(
                    UsageProblem(name, item.line, "warning", "missing_result", "no result for this request", custom_id)
                )
                continue
            if found[1] != "succeeded" or not isinstance(params, dict):
                estimates[custom_id] = _Request(item.line, None, None, None, 0, False, None, False)
                continue
            spool.write(json.dumps(value).encode() + b"\n")
            if per_request:
                counter.add(custom_id, item.line, params)
                if counter.full:
                    estimates.update(counter.flush())
                    if on_progress is not None:
                        on_progress("requests", len(estimates), total)
        estimates.update(counter.flush())
    finally:
        if owned:
            stream.close()
    return spool, estimates, lines, seen


class _RequestCounter:
    """Each request's tokens counted as the dry run counts them, a chunk of requests per tokenizer call: the
    text of each cached-prefix piece and of the tail (cl100k), × the model's calibration, plus the message
    frame and tool-use prompt; a breakpoint whose prefix is under the model's minimum does nothing. The range
    is the per-document band (one request, not a whole file)."""

    def __init__(self, table: PriceTable, options: Mapping[str, Any]) -> None:
        self.table = table
        self.pending: list[tuple[str, int, Mapping[str, Any]]] = []
        self.prefixes: set[str] = set()
        tokens = options.get("output_tokens")
        ratio = options.get("output_ratio")
        self.output_tokens = None if tokens is None else to_token_count(tokens, "output_tokens")
        self.output_ratio = to_decimal(
            DEFAULT_OUTPUT_RATIO if ratio is None else ratio, "output_ratio", maximum=Decimal(1)
        )

    @property
    def full(self) -> bool:
        return len(self.pending) >= _COUNT_CHUNK

    def add(self, custom_id: str, line: int, params: Mapping[str, Any]) -> None:
        self.pending.append((custom_id, line, params))

    def output(self, max_tokens: int) -> int:
        """The dry run's rule: `output_tokens` capped at max_tokens, else output_ratio × max_tokens."""
        if self.output_tokens is not None:
            return min(self.output_tokens, max_tokens)
        return int(max_tokens * self.output_ratio)

    def flush(self) -> dict[str, _Request]:
        from estimator.tokens.anatomy import flatten_request, prefix_keys
        from estimator.tokens.counting import calibrated_estimate, request_fixed_tokens
        from estimator.tokens.offline import cl100k_token_counts

        texts: list[str] = []
        layouts: list[tuple[str, int, Model, int | None, list[tuple[Any, int]], int, Any]] = []
        done: dict[str, _Request] = {}
        for custom_id, line, params in self.pending:
            raw_max = params.get("max_tokens")
            max_tokens = raw_max if isinstance(raw_max, int) and not isinstance(raw_max, bool) else None
            try:
                model = self.table.model(str(params.get("model")))
            except PricingError:
                done[custom_id] = _Request(line, None, max_tokens, None, 0, False, None, False)
                continue
            anatomy = flatten_request(params)
            segments = anatomy.segments
            pieces = []
            start = 0
            for breakpoint in prefix_keys(anatomy):
                text = "\n".join(s.text for s in segments[start : breakpoint.segment_stop] if s.countable and s.text)
                pieces.append((breakpoint, len(texts)))
                texts.append(text)
                start = breakpoint.segment_stop
            texts.append("\n".join(s.text for s in segments[start:] if s.countable and s.text))
            fixed = request_fixed_tokens(params, model, self.table)
            layouts.append((custom_id, line, model, max_tokens, pieces, len(texts) - 1, fixed))
        counts = cl100k_token_counts(texts) if texts else []
        for custom_id, line, model, max_tokens, pieces, tail, fixed in layouts:
            calibration = self.table.tokenizer(model)
            minimum = model.min_cacheable_prompt_tokens
            cumulative = 0
            cached, key, ttl_1h = 0, None, False
            for breakpoint, index in pieces:
                cumulative += counts[index]
                scaled = (cumulative * calibration.cl100k_factor).to_integral_value(rounding=ROUND_HALF_UP)
                tokens = int(scaled) + fixed.tool_prompt_tokens  # the tool-use prompt opens every cached prefix
                if minimum is not None and tokens >= minimum:
                    cached, key = tokens, breakpoint.prefix_key
                    ttl_1h = ttl_1h or breakpoint.ttl == "1h"
            estimate = calibrated_estimate(cumulative + counts[tail], calibration, fixed_tokens=fixed.total_tokens)
            first = key is not None and key not in self.prefixes
            if key is not None:
                self.prefixes.add(key)
            done[custom_id] = _Request(
                line,
                model.id,
                max_tokens,
                (estimate.low_tokens, estimate.expected_tokens, estimate.high_tokens),
                cached,
                first,
                None if max_tokens is None else self.output(max_tokens),
                ttl_1h,
                key,
            )
        self.pending = []
        return done


def _request_reconciliation(
    custom_id: str,
    request: _Request,
    found: tuple[list[UsageRecord], str] | None,
    pricer: RecordPricer,
    hit_rate: Decimal,
) -> RequestReconciliation:
    records, result_type = found if found is not None else ([], "missing")
    succeeded = [r for r in records if r.result_type == "succeeded" and r.model is not None]
    actual: Decimal | str | None = pricer.cost(succeeded) if succeeded else None
    actual_prompt = sum(r.prompt_tokens for r in succeeded) if succeeded else None
    actual_output = sum(r.output_tokens for r in succeeded) if succeeded else None
    low: Decimal | None = None
    expected: Decimal | None = None
    high: Decimal | None = None
    reason = actual if isinstance(actual, str) else None
    if request.tokens is not None and request.model_id is not None and result_type == "succeeded":
        day = succeeded[0].day if succeeded else pricer.default_day
        costs = [
            pricer.cost_of(request.model_id, day or pricer.default_day, "batch", _geo(succeeded), None, sums)
            for sums in _scenario_sums(request, hit_rate)
        ]
        priced = [c for c in costs if isinstance(c, Decimal)]
        if len(priced) == len(costs):
            low, expected, high = priced
        else:
            reason = reason or next(c for c in costs if isinstance(c, str))
    return RequestReconciliation(
        custom_id=custom_id,
        request_line=request.line,
        result_line=records[0].line if records else None,
        model_id=request.model_id or (succeeded[0].model if succeeded else None),
        result_type=result_type,
        max_tokens=request.max_tokens,
        estimated_prompt_tokens=request.tokens,
        actual_prompt_tokens=actual_prompt,
        estimated_output_tokens=request.output_expected,
        actual_output_tokens=actual_output,
        cached_prefix_tokens=request.prefix_tokens,
        low_usd=low,
        expected_usd=expected,
        high_usd=high,
        actual_usd=actual if isinstance(actual, Decimal) else None,
        unpriced_reason=reason,
    )


def _geo(records: list[UsageRecord]) -> str | None:
    return records[0].inference_geo if records else None


def _scenario_sums(request: _Request, hit_rate: Decimal) -> list[tuple[Decimal, ...]]:
    """Usage sums (the accumulator's order) of the low, expected and high cases of one request."""
    assert request.tokens is not None
    low_tokens, expected_tokens, high_tokens = request.tokens
    prefix = Decimal(request.prefix_tokens)
    output = Decimal(request.output_expected or 0)
    maximum = Decimal(request.max_tokens or 0)
    zero = Decimal(0)

    def sums(prompt: int, read: Decimal, write: Decimal, out: Decimal, scale: Decimal) -> tuple[Decimal, ...]:
        cached = (read + write) * scale
        w5, w1h = (zero, write * scale) if request.ttl_1h else (write * scale, zero)
        return (Decimal(1), Decimal(1), prompt - cached, w5, w1h, zero, read * scale, out, zero, zero, zero)

    with localcontext(_RATIO):
        low_scale = Decimal(low_tokens) / expected_tokens if expected_tokens else Decimal(1)
        high_scale = Decimal(high_tokens) / expected_tokens if expected_tokens else Decimal(1)
        if request.first_of_prefix:
            expected_read, expected_write = zero, prefix
        else:
            expected_read, expected_write = hit_rate * prefix, (1 - hit_rate) * prefix
        return [
            sums(low_tokens, prefix, zero, output, low_scale),
            sums(expected_tokens, expected_read, expected_write, output, Decimal(1)),
            sums(high_tokens, zero, prefix, maximum, high_scale),
        ]


def _ratio(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    with localcontext(_RATIO):
        return (Decimal(part) / whole).quantize(_SUGGESTION_PLACES)


def _repeated_share(
    estimates: Mapping[str, _Request], by_id: Mapping[str, tuple[list[UsageRecord], str]]
) -> Decimal | None:
    """The share of the estimated cached-prefix tokens carried by requests that repeat a prefix (the dry run
    writes a prefix the first time it meets it, and applies the hit rate only to repeats)."""
    first = repeated = 0
    for custom_id, request in estimates.items():
        if by_id.get(custom_id, ([], ""))[1] != "succeeded" or not request.prefix_tokens:
            continue
        if request.first_of_prefix:
            first += request.prefix_tokens
        else:
            repeated += request.prefix_tokens
    if not first + repeated:
        return None
    with localcontext(_RATIO):
        return Decimal(repeated) / (first + repeated)


def _suggested_hit_rate(actual: ActualCosts, repeated_share: Decimal | None) -> Decimal | None:
    """The dry run's hit rate that reproduces the reads seen: reads ÷ (the prefix tokens of repeats)."""
    tokens = actual.tokens
    cached = tokens.cache_read_tokens + tokens.cache_write_tokens
    if not cached or not repeated_share:
        return None
    with localcontext(_RATIO):
        rate = tokens.cache_read_tokens / (cached * repeated_share)
    return min(rate, Decimal(1)).quantize(_SUGGESTION_PLACES)


def _request_problems(result: DryRunResult, name: str) -> list[UsageProblem]:
    return [
        UsageProblem(name, p.line, p.severity, p.code, p.message, p.custom_id)
        for p in result.problems
        if p.severity == "error"
    ]
