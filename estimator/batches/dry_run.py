"""Dry-run Message Batches files: validate them like the API would, count their tokens, price them per mode.

A file is JSONL with one `{"custom_id": ..., "params": {...}}` per line (a JSON array of the same, or a single
request, is accepted too). Several files (or directories of them) make one report: per-file and total figures and
one split plan (a batch never spans two files). Files are streamed: memory grows with the number of requests
(35-65 bytes each, `records.py`), not with the files, which may be 256 MB each.

Every problem is reported with its file and line number and the run goes on; lines with errors are left out of
the costs. Caching is read from the requests themselves: the `cache_control` breakpoints (explicit and top-level
automatic), their TTLs and the prefix each covers (tools → system → messages). Requests whose prefixes are
identical share a cache entry: per entry and model, the first request writes it and each later one reads it with
probability `hit_rate` (writing it again otherwise). A breakpoint whose prefix is shorter than the model's minimum
cacheable length does nothing, and is reported. A shared prefix is tokenized once per distinct prefix, not once
per request. Multi-turn requests (several user messages) are priced by the same rule: a breakpoint reads an entry
only when another request wrote the identical prefix (the API's 20-block lookback is not modelled).

Images and PDFs sent as base64 are counted from their headers by their model's rule (`estimator.tokens.media`),
with a range; those sent by URL or file id cannot be counted offline and are listed.

Output is bounded by `max_tokens`, thinking included: the expected visible output is `output_ratio` ×
max_tokens (default 0.5: a documented guess — set it from your own logs) or a fixed `output_tokens` per request,
and a request that thinks adds `thinking_ratio` × its thinking budget (`request_facts.py`). Server tools are noted,
and web searches and code execution priced under stated assumptions. Costs come out as a range per mode: low (low
token estimate, expected output), expected, high (high token estimate, every request writing max_tokens).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import IO, Any, Literal

from estimator.batches.reader import STDIN_NAME, iter_items, open_source
from estimator.batches.records import RequestRecords
from estimator.batches.request_facts import (
    DEFAULT_OUTPUT_RATIO,
    DEFAULT_THINKING_RATIO,
    DEFAULT_WEB_SEARCHES,
    OutputAssumptions,
    output_assumptions,
)
from estimator.batches.results import (
    BatchSlice,
    DryRunResult,
    FileDryRun,
    MediaTokens,
    ModelDryRun,
    ModeRange,
    ServerToolUse,
)
from estimator.batches.scan import MediaTally, Progress, Reservoir, Sample, Scanner, ServerToolTally
from estimator.batches.tally import (
    Calibration,
    CodeExecutionRate,
    ModelTally,
    PricedBuckets,
    code_execution_rate,
    price_buckets,
    tally_records,
)
from estimator.batches.validation import LineProblem
from estimator.costs import EXACT
from estimator.errors import BatchFileError
from estimator.format import format_percent
from estimator.workload import DEFAULT_HIT_RATE, MODES, to_fraction
from pricing import PriceTable, load_price_table

__all__ = [
    "BATCH_FILE_SUFFIXES",
    "DEFAULT_HIT_RATE",
    "DEFAULT_OUTPUT_RATIO",
    "DEFAULT_THINKING_RATIO",
    "DEFAULT_WEB_SEARCHES",
    "MAX_FILE_BYTES",
    "MAX_SAMPLE_SIZE",
    "BatchSlice",
    "DryRunResult",
    "FileDryRun",
    "LineProblem",
    "MediaTokens",
    "ModeRange",
    "ModelDryRun",
    "ServerToolUse",
    "analyze_batch_file",
    "analyze_batch_files",
    "batch_files_in",
]

MAX_FILE_BYTES = 2_000_000_000
"""The dry run reads files up to 2 GB each (eight full batches), counted on the bytes actually read; larger
files should be split first."""

MAX_SAMPLE_SIZE = 100_000
"""A sample as large as one batch: beyond it, count every request (`exact="all"`)."""

MAX_FILES = 10_000
BATCH_FILE_SUFFIXES = (".jsonl", ".json", ".ndjson")
"""The files a directory given to the dry run contributes (others, e.g. results or notes, are left alone)."""

_Z_95 = Decimal("1.96")
_EXACT_CHUNK = 500

Source = str | os.PathLike[str] | IO[bytes]


def analyze_batch_file(
    source: Source,
    *,
    hit_rate: object = DEFAULT_HIT_RATE,
    output_ratio: object | None = None,
    output_tokens: object | None = None,
    thinking_ratio: object | None = None,
    web_searches: object | None = None,
    code_execution_minutes: object | None = None,
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
    return analyze_batch_files(
        [source],
        hit_rate=hit_rate,
        output_ratio=output_ratio,
        output_tokens=output_tokens,
        thinking_ratio=thinking_ratio,
        web_searches=web_searches,
        code_execution_minutes=code_execution_minutes,
        as_of=as_of,
        exact=exact,
        sample_size=sample_size,
        api_key=api_key,
        base_url=base_url,
        deadline_s=deadline_s,
        table=table,
        on_progress=on_progress,
    )


def analyze_batch_files(
    sources: Sequence[Source],
    *,
    hit_rate: object = DEFAULT_HIT_RATE,
    output_ratio: object | None = None,
    output_tokens: object | None = None,
    thinking_ratio: object | None = None,
    web_searches: object | None = None,
    code_execution_minutes: object | None = None,
    as_of: dt.date | None = None,
    exact: Literal["none", "sample", "all"] = "none",
    sample_size: int = 200,
    api_key: str | None = None,
    base_url: str | None = None,
    deadline_s: float | None = None,
    table: PriceTable | None = None,
    on_progress: Progress | None = None,
) -> DryRunResult:
    """Dry-run several batch files as one job: one report with per-file and total figures and one split plan.
    Directories are not expanded here (see `batch_files_in`). Options as for `analyze_batch_file`."""
    hits = to_fraction(hit_rate, "hit_rate")
    assumptions = output_assumptions(output_ratio, output_tokens, thinking_ratio, web_searches, code_execution_minutes)
    if exact not in ("none", "sample", "all"):
        raise BatchFileError(f"exact must be none, sample or all, got {exact!r}")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or not 1 <= sample_size <= MAX_SAMPLE_SIZE:
        raise BatchFileError(f"sample_size must be a whole number from 1 to {MAX_SAMPLE_SIZE:,}, got {sample_size!r}")
    sources = list(sources)
    if not sources:
        raise BatchFileError("no batch file given")
    if len(sources) > MAX_FILES:
        raise BatchFileError(f"{len(sources):,} files: the dry run takes at most {MAX_FILES:,} at once")
    if sum(1 for s in sources if isinstance(s, str | os.PathLike) and os.fspath(s) == STDIN_NAME) > 1:
        raise BatchFileError("standard input (-) can be read only once")
    table = table or load_price_table()
    day = as_of or dt.date.today()
    scanner = Scanner(
        table,
        day,
        assumptions,
        sample_size=sample_size if exact == "sample" else 0,
        max_bytes=MAX_FILE_BYTES,
        on_progress=on_progress,
        total_bytes=_known_sizes(sources),
    )
    try:
        for source in sources:
            _scan_source(scanner, source, exact)
    finally:
        scanner.finish()
    notes: list[str] = []
    api = _Api(api_key, base_url, time.monotonic() + (deadline_s if deadline_s is not None else _default_deadline()))
    calibrations, exact_totals = _calibrations(scanner, table, exact, api, on_progress, notes, sources)
    return _result(scanner, table, day, hits, assumptions, calibrations, exact_totals, notes)


def batch_files_in(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The files to dry-run: files as given, and the batch files (`BATCH_FILE_SUFFIXES`) in each directory, sorted
    by name (not recursively). A directory with none is an error, so that a wrong path does not pass as empty."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if os.fspath(raw) != STDIN_NAME and _is_directory(path):
            try:
                inside = sorted(p for p in path.iterdir() if p.suffix.lower() in BATCH_FILE_SUFFIXES and p.is_file())
            except OSError as error:
                raise BatchFileError(f"{path}: cannot read the directory ({error.strerror or error})") from None
            if not inside:
                raise BatchFileError(
                    f"{path}: not a regular file (a directory) and it holds no batch file "
                    f"({', '.join(BATCH_FILE_SUFFIXES)}); give a file, a directory of them, or - for standard input"
                )
            found += inside
        else:
            found.append(path)
        if len(found) > MAX_FILES:
            raise BatchFileError(f"more than {MAX_FILES:,} files: the dry run takes at most {MAX_FILES:,} at once")
    return found


def _is_directory(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long, a permission: opening it says so, with the reason
        return False


def _known_sizes(sources: Sequence[Source]) -> int:
    total = 0
    for source in sources:
        if isinstance(source, str | os.PathLike) and os.fspath(source) != STDIN_NAME:
            with contextlib.suppress(OSError):  # reported when the file is opened
                total += os.stat(source).st_size
    return total


def _scan_source(scanner: Scanner, source: Source, exact: str) -> None:
    stream, size, name, owned = open_source(source)
    try:
        if exact == "all" and not stream.seekable():
            raise BatchFileError(f"{name}: counting every request reads the file twice; give a file, not a stream")
        if size is not None and size > MAX_FILE_BYTES:
            raise BatchFileError(
                f"{name}: {size:,} bytes is over the dry run's limit of {MAX_FILE_BYTES:,}; split the file first"
            )
        scanner.max_bytes = MAX_FILE_BYTES  # read at call time: tests and embedders may lower it
        scanner.scan(stream, size, name)
    finally:
        if owned:
            stream.close()


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


# --- calibration: offline, sampled or exact -------------------------------------------------------------------


def _calibrations(
    scanner: Scanner,
    table: PriceTable,
    exact: str,
    api: _Api,
    on_progress: Progress | None,
    notes: list[str],
    sources: Sequence[Source],
) -> tuple[dict[int, Calibration], dict[int, int]]:
    """Per model (by index): how offline cl100k counts become Claude tokens; any exact per-row totals."""
    records = scanner.records
    share = Decimal(str(round(scanner.counter.non_latin_share, 4)))
    result: dict[int, Calibration] = {}
    for index, model_id in enumerate(records.model_ids):
        calibration = table.tokenizer(table.model(model_id))
        low, high = 1 / calibration.file_total_band_high, 1 / calibration.file_total_band_low
        low = min(low, 1 / (1 + share * (calibration.non_latin_overcount - 1)))
        spread = f"−{(1 - low) * 100:.0f}%/+{(high - 1) * 100:.0f}%"
        detail = f"estimated offline (cl100k × {calibration.cl100k_factor}; file total likely within {spread})"
        result[index] = Calibration(calibration.cl100k_factor, (low, high), "estimated", detail)
    if scanner.counter.non_latin_share > 0.2:
        notes.append(
            f"{scanner.counter.non_latin_share:.0%} of the letters are in non-Latin scripts: offline counts run high"
        )
    exact_totals: dict[int, int] = {}
    if exact == "sample" and scanner.reservoir is not None:
        _apply_sample(scanner.reservoir, records, result, api, on_progress, notes)
    elif exact == "all":
        exact_totals = _apply_exact_all(scanner, result, api, on_progress, notes, sources)
    return result, exact_totals


def _apply_sample(
    reservoir: Reservoir,
    records: RequestRecords,
    result: dict[int, Calibration],
    api: _Api,
    on_progress: Progress | None,
    notes: list[str],
) -> None:
    from estimator.tokens.exact import count_exact

    for model_id, samples in sorted(reservoir.items.items()):
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
        calibration = _sampled_calibration(samples, records, counted.input_tokens)
        failed = [records.line[samples[f.index].row] for f in counted.failures]
        reason = counted.stopped_reason or (counted.failures[0].reason if counted.failures else "too few requests")
        if calibration is None:
            notes.append(f"{model_id}: sampling failed ({reason}); offline estimate used")
            continue
        if failed:
            notes.append(
                f"{model_id}: {len(failed):,} of {len(samples):,} sampled requests could not be counted ({reason}; "
                f"{_lines_text(failed)}); the ratio uses the other {len(samples) - len(failed):,}"
            )
        result[records.model_ids.index(model_id)] = calibration


def _sampled_calibration(
    samples: list[Sample], records: RequestRecords, counts: tuple[int | None, ...]
) -> Calibration | None:
    # The ratio is fitted on the text alone: the frame, tool-prompt and media tokens are added back as estimated.
    pairs = [
        (
            Decimal(exact - records.fixed_tokens(s.row) - records.media_tokens[s.row]),
            Decimal(records.text_cl100k[s.row]),
        )
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
    return Calibration(
        ratio, (1 - error, 1 + error), "sampled", f"sampled ±{percent} (95%, {n} requests counted exactly)"
    )


def _apply_exact_all(
    scanner: Scanner,
    result: dict[int, Calibration],
    api: _Api,
    on_progress: Progress | None,
    notes: list[str],
    sources: Sequence[Source],
) -> dict[int, int]:
    """Count every valid request with count_tokens (the files are read again); the exact total per row."""
    records = scanner.records
    exact_by_row: dict[int, int] = {}
    reasons: dict[int, str] = {}
    stopped: str | None = None
    for file_index, source in enumerate(sources):
        rows = records.file_rows(file_index)
        wanted = {records.line[row]: row for row in rows}
        if not wanted or stopped:
            continue
        stream, _, name, owned = open_source(source)
        if not owned:
            stream.seek(0)
        try:
            chunk: list[tuple[int, Mapping[str, Any]]] = []
            for item in iter_items(stream, lambda _: None, max_bytes=MAX_FILE_BYTES, name=name):
                row = wanted.get(item.line)
                if row is not None and isinstance(item.value, dict):
                    chunk.append((row, item.value["params"]))
                if len(chunk) >= _EXACT_CHUNK:
                    stopped = _count_chunk(chunk, exact_by_row, reasons, api)
                    chunk = []
                    if on_progress is not None:
                        on_progress("counting", len(exact_by_row) + len(reasons), len(records))
                    if stopped:
                        break
            if chunk and not stopped:
                stopped = _count_chunk(chunk, exact_by_row, reasons, api)
        finally:
            if owned:
                stream.close()
    for index, model_id in enumerate(records.model_ids):
        rows_of_model = [row for row in range(len(records)) if records.model[row] == index]
        missing = [row for row in rows_of_model if row not in exact_by_row]
        if not missing:
            calibration = result[index]
            result[index] = Calibration(calibration.scale, (Decimal(1), Decimal(1)), "exact", "exact (count_tokens)")
            continue
        got = len(rows_of_model) - len(missing)
        why = sorted({reasons[row] for row in missing if row in reasons}) or [stopped or "not counted"]
        lines = [records.line[row] for row in missing]
        notes.append(
            f"{model_id}: exact counts for {got:,} of {len(rows_of_model):,} requests; {_lines_text(lines)} "
            f"estimated offline ({'; '.join(why[:3])})"
        )
    return exact_by_row


def _count_chunk(
    chunk: list[tuple[int, Mapping[str, Any]]], exact_by_row: dict[int, int], reasons: dict[int, str], api: _Api
) -> str | None:
    """Count one chunk exactly; the reason the whole count stopped, if it did (later chunks are not sent)."""
    from estimator.tokens.exact import count_exact

    if api.remaining_s() <= 0:
        for row, _ in chunk:
            reasons[row] = "the deadline had passed"
        return "the deadline had passed"
    counted = count_exact(
        [params for _, params in chunk], api_key=api.key, base_url=api.base_url, deadline_s=api.remaining_s()
    )
    for (row, _), tokens in zip(chunk, counted.input_tokens, strict=True):
        if tokens is not None:
            exact_by_row[row] = tokens
    for failure in counted.failures:
        reasons[chunk[failure.index][0]] = failure.reason
    return counted.stopped_reason


def _lines_text(lines: list[int]) -> str:
    shown = ", ".join(f"{line:,}" for line in lines[:5])
    more = f" and {len(lines) - 5:,} more" if len(lines) > 5 else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _stage(on_progress: Progress | None, stage: str) -> Any:
    if on_progress is None:
        return None
    return lambda done, total: on_progress(stage, done, total)


# --- the result ---------------------------------------------------------------------------------------------


def _split_plan(scanner: Scanner, table: PriceTable) -> tuple[BatchSlice, ...]:
    """Batches of at most the API's request count and size, each within one file, numbered across files."""
    rules, records = table.rules.batch, scanner.records
    slices: list[BatchSlice] = []
    multiple = len(scanner.files) > 1
    for file_index, scan in enumerate(scanner.files):
        name = scan.name if multiple else ""
        first = last = count = size = 0
        for row in records.file_rows(file_index):
            request_size = records.size_bytes[row]
            if count and (count + 1 > rules.max_requests or size + request_size > rules.max_bytes):
                slices.append(BatchSlice(len(slices) + 1, first, last, count, size, name))
                count = size = 0
            if count == 0:
                first = records.line[row]
            count += 1
            size += request_size
            last = records.line[row]
        if count:
            slices.append(BatchSlice(len(slices) + 1, first, last, count, size, name))
    return tuple(slices)


def _result(
    scanner: Scanner,
    table: PriceTable,
    day: dt.date,
    hit_rate: Decimal,
    assumptions: OutputAssumptions,
    calibrations: Mapping[int, Calibration],
    exact_totals: Mapping[int, int],
    notes: list[str],
) -> DryRunResult:
    records = scanner.records
    visible = scanner.visible_of
    tally = tally_records(records, scanner.counter.key_cl100k, table, day, calibrations, exact_totals, visible)
    code_execution = code_execution_rate(table, assumptions.code_execution_minutes)
    problems = [problem for scan in scanner.files for problem in scan.problems]
    models: list[ModelDryRun] = []
    per_file: dict[int, list[tuple[ModeRange, ...]]] = {}
    file_tokens: dict[int, list[int]] = {}
    for index, model_tally in sorted(tally.models.items(), key=lambda item: records.model_ids[item[0]]):
        calibration = calibrations[index]
        if model_tally.ineffective:
            problems.append(_ineffective_breakpoints(model_tally, records))
        priced = price_buckets(model_tally, table, hit_rate, calibration.band, code_execution)
        model_id = records.model_ids[index]
        models.append(
            _model_summary(model_tally, calibration, priced, hit_rate, scanner.media.get(model_id),
                           scanner.tools.get(model_id), table, code_execution)
        )  # fmt: skip
        for file_index, ranges in priced.by_file.items():
            per_file.setdefault(file_index, []).append(ranges)
        for (file_index, _, _), bucket in model_tally.buckets.items():
            sums = file_tokens.setdefault(file_index, [0, 0, 0])
            sums[0] += bucket.input_tokens
            sums[1] += bucket.visible_output + bucket.thinking_output
            sums[2] += bucket.thinking_output
    if len(scanner.files) > 1:
        problems.sort(key=lambda p: (_file_order(scanner, p.file), p.line))
    else:
        problems.sort(key=lambda p: p.line)
    split = _split_plan(scanner, table)
    files = tuple(_file_summary(scanner, index, per_file.get(index, []), file_tokens.get(index)) for index in
                  range(len(scanner.files)))  # fmt: skip
    if len(split) > len(files):
        rules = table.rules.batch
        notes.append(
            f"over one batch's limit ({rules.max_requests:,} requests or {rules.max_bytes // 1_000_000:,} MB): "
            f"split into {len(split)} batches"
        )
    notes += _media_notes(models) + _conversation_notes(models)
    return DryRunResult(
        source_name=_source_name(scanner),
        bytes_read=sum(scan.bytes_read for scan in scanner.files),
        lines=sum(scan.lines for scan in scanner.files),
        requests=len(records),
        invalid_lines=sum(scan.invalid_lines for scan in scanner.files),
        problems=tuple(problems),
        models=tuple(models),
        totals=_sum_ranges([m.costs for m in models]),
        split=split,
        hit_rate=hit_rate,
        output_assumption=assumptions.output_text,
        notes=tuple(notes),
        unlisted_problems=sum(scan.unlisted_problems for scan in scanner.files),
        files=files,
        assumptions=_assumption_texts(hit_rate, assumptions, models, code_execution),
    )


def _file_order(scanner: Scanner, name: str | None) -> int:
    return next((index for index, scan in enumerate(scanner.files) if scan.name == name), len(scanner.files))


def _source_name(scanner: Scanner) -> str:
    if len(scanner.files) == 1:
        return scanner.files[0].name
    return f"{len(scanner.files):,} files"


def _file_summary(
    scanner: Scanner, index: int, ranges: list[tuple[ModeRange, ...]], tokens: list[int] | None
) -> FileDryRun:
    scan = scanner.files[index]
    errors = sum(p.count for p in scan.problems if p.severity == "error")
    warnings = sum(p.count for p in scan.problems) - errors
    input_tokens, output_tokens, thinking_tokens = tokens or (0, 0, 0)
    return FileDryRun(
        name=scan.name,
        bytes_read=scan.bytes_read,
        lines=scan.lines,
        requests=len(scanner.records.file_rows(index)),
        invalid_lines=scan.invalid_lines,
        errors=errors,
        warnings=warnings,
        input_tokens_expected=input_tokens,
        output_tokens_expected=output_tokens,
        thinking_tokens_expected=thinking_tokens,
        totals=_sum_ranges(ranges),
    )


def _ineffective_breakpoints(tally: ModelTally, records: RequestRecords) -> LineProblem:
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


def _model_summary(
    tally: ModelTally,
    calibration: Calibration,
    priced: PricedBuckets,
    hit_rate: Decimal,
    media: MediaTally | None,
    tools: ServerToolTally | None,
    table: PriceTable,
    code_execution: CodeExecutionRate | None,
) -> ModelDryRun:
    buckets = list(tally.buckets.values())
    expected = sum(b.input_tokens for b in buckets)
    low_scale, high_scale = calibration.band
    allowance = sum(b.allowance_tokens for b in buckets)
    below, above = sum(b.media_below for b in buckets), sum(b.media_above for b in buckets)
    with localcontext(Context(prec=40)):
        low = max(0, int(expected * low_scale) - below)
        high = math.ceil(expected * high_scale) + allowance + above
        repeat = sum(Decimal(b.repeat["5m"] + b.repeat["1h"]) for b in buckets)
        writes = sum(Decimal(b.first_write["5m"] + b.first_write["1h"]) for b in buckets) + (1 - hit_rate) * repeat
    thinking = sum(b.thinking_output for b in buckets)
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
        output_tokens_expected=sum(b.visible_output for b in buckets) + thinking,
        count_source=calibration.source,  # type: ignore[arg-type]
        count_detail=calibration.detail,
        costs=priced.total,
        thinking_tokens_expected=thinking,
        thinking_requests=sum(b.thinking_requests for b in buckets),
        multi_turn_requests=tally.multi_turn_requests,
        media=_media_summary(media),
        server_tools=_tool_summary(tools, buckets, table, code_execution),
    )


def _media_summary(media: MediaTally | None) -> MediaTokens:
    if media is None:
        return MediaTokens()
    images, pdfs = media.image_tokens, media.pdf_tokens
    return MediaTokens(
        media.images,
        images.low_tokens,
        images.expected_tokens,
        images.high_tokens,
        media.pdfs,
        media.pdf_pages,
        pdfs.low_tokens,
        pdfs.expected_tokens,
        pdfs.high_tokens,
    )


def _tool_summary(
    tools: ServerToolTally | None,
    buckets: list[Any],
    table: PriceTable,
    code_execution: CodeExecutionRate | None,
) -> ServerToolUse:
    if tools is None:
        return ServerToolUse()
    searches = sum(b.web_searches for b in buckets)
    code_requests = sum(b.code_execution_requests for b in buckets)
    with localcontext(EXACT):
        search_usd = searches * table.rules.web_search.usd_per_1000_searches / 1000
        hours = code_requests * code_execution.hours if code_execution is not None else Decimal(0)
        code_usd = hours * code_execution.usd_per_hour if code_execution is not None else None
    return ServerToolUse(
        web_search_requests=tools.web_search_requests,
        web_searches_expected=searches,
        web_searches_high=sum(b.web_searches_high for b in buckets),
        web_search_usd_expected=search_usd,
        web_fetch_requests=tools.web_fetch_requests,
        code_execution_requests=tools.code_execution_requests,
        code_execution_free_requests=tools.code_execution_free_requests,
        code_execution_hours=hours,
        code_execution_usd=code_usd,
    )


def _sum_ranges(ranges: Sequence[tuple[ModeRange, ...]]) -> tuple[ModeRange, ...]:
    totals = []
    for mode in MODES:
        found = [next(r for r in group if r.mode == mode) for group in ranges]
        missing = [r.unavailable_reason for r in found if not r.available]
        if missing:
            totals.append(ModeRange(mode, None, None, None, "; ".join(sorted({m for m in missing if m}))))
            continue
        with localcontext(Context(prec=40)):
            totals.append(
                ModeRange(
                    mode,
                    sum((r.low_usd or Decimal(0) for r in found), Decimal(0)),
                    sum((r.expected_usd or Decimal(0) for r in found), Decimal(0)),
                    sum((r.high_usd or Decimal(0) for r in found), Decimal(0)),
                )
            )
    return tuple(totals)


def _assumption_texts(
    hit_rate: Decimal,
    assumptions: OutputAssumptions,
    models: Sequence[ModelDryRun],
    code_execution: CodeExecutionRate | None,
) -> tuple[str, ...]:
    texts = [
        f"repeated cached prefixes are read at a {format_percent(hit_rate * 100)} hit rate (--hit-rate)",
        assumptions.output_text,
    ]
    if any(m.thinking_requests for m in models):
        texts.append(assumptions.thinking_text + " (--thinking-ratio)")
    if any(m.server_tools.web_search_requests for m in models):
        texts.append(
            f"web search: {assumptions.web_searches} search{'es' if assumptions.web_searches != 1 else ''} per "
            "request that carries the tool, at most its max_uses; the high end takes max_uses (--web-searches)"
        )
    if any(m.server_tools.code_execution_requests for m in models):
        if code_execution is None:
            texts.append("code execution: not priced (the price table has no code-execution rate)")
        else:
            texts.append(
                f"code execution: {code_execution.minutes:f} container minutes per request at "
                f"${code_execution.usd_per_hour} an hour (at least the minimum session; --code-execution-minutes); the "
                "monthly free hours are not subtracted"
            )
    return tuple(texts)


def _media_notes(models: Sequence[ModelDryRun]) -> list[str]:
    notes = []
    for m in models:
        media = m.media
        if media.images:
            tokens = _range_words(media.image_tokens_low, media.image_tokens_expected, media.image_tokens_high)
            notes.append(
                f"{m.model_id}: {media.images:,} image{'s' if media.images != 1 else ''} counted from their size "
                f"({tokens}): an estimate by the documented rule; large images are upper bounds"
            )
        if media.pdfs:
            tokens = _range_words(media.pdf_tokens_low, media.pdf_tokens_expected, media.pdf_tokens_high)
            notes.append(
                f"{m.model_id}: {media.pdfs:,} PDF{'s' if media.pdfs != 1 else ''} of {media.pdf_pages:,} pages "
                f"({tokens}): 1,500–3,000 text tokens a page plus the page image"
            )
    return notes


def _range_words(low: int, expected: int, high: int) -> str:
    if low == high:
        return f"~{expected:,} tokens"
    return f"~{expected:,} tokens, {low:,}–{high:,}"


def _conversation_notes(models: Sequence[ModelDryRun]) -> list[str]:
    conversations = sum(m.multi_turn_requests for m in models)
    if not conversations:
        return []
    return [
        f"{conversations:,} multi-turn request{'s' if conversations != 1 else ''}: each request's cache "
        "breakpoints are priced as they are written; an entry is read only by a request with the identical prefix "
        "(the API's 20-block lookback is not modelled)"
    ]
