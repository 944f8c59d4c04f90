"""`price_files_bulk`: usage files priced by DuckDB or Spark, returned as the Python path's `ActualCosts`.

The engine runs the pricing SQL and one aggregate query (the rollup: sums per day, model, price period,
service tier, geo, speed, prompt tier and cache use, and per problem), so what comes back to Python is a
few hundred rows whatever the input's size. Each rollup row becomes a `PricedLine` exactly as the Python
pricer builds it (its sums, its per-category cost, its what-ifs), and `estimator.usage.actuals.summarize`
makes the `ActualCosts`: the JSON, tables and CSV of `python -m estimator actual` are the same whichever
engine priced.

Problems keep the Python pricer's codes and words: the message of each kind is asked of the Python pricer
on one record of that kind (a handful of calls), and the first records of each kind are listed with their
file and row. Nothing is priced at $0 on a guess: every record not priced is counted in `unpriced_records`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, localcontext
from functools import partial
from operator import attrgetter, is_, itemgetter
from typing import Any, Literal, Protocol, cast

from estimator.bulk.inputs import TABULAR, InputFile, InputKind, discover, total_bytes
from estimator.bulk.rates import Billing, ModelName, RateRow, model_names, rate_rows, rate_scale
from estimator.bulk.sql import COUNT_FIELDS, SAMPLE_GROUP_FIELDS
from estimator.costs import EXACT
from estimator.errors import EstimatorError
from estimator.rates import ModeRates
from estimator.results import CATEGORIES, Category
from estimator.usage.actuals import ActualCosts, summarize
from estimator.usage.pricer import MAX_LISTED, NotBilled, PricedLine, PricedUsage, TokenSums, price_usage
from estimator.usage.records import RESULT_TYPES, ResultType, UsageProblem, UsageRecord
from estimator.workload import MODES, Mode
from pricing import PriceTable, load_price_table

__all__ = [
    "AUTO_THRESHOLD_BYTES",
    "ENGINES",
    "BulkEngine",
    "EngineName",
    "choose_engine",
    "engine_for",
    "price_files_bulk",
    "priced_usage",
]

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")

AUTO_THRESHOLD_BYTES = 64_000_000
"""Inputs above this size go to DuckDB when no engine is named; below it the Python path starts faster
(DuckDB's fixed cost is ~0.1 s, the Python pricer's ~1 µs per record beyond reading)."""

SAMPLES_PER_KIND = 10
"""Records listed (file and row) for each kind of problem and each not-billed result type."""

Progress = Callable[[int, int], None]
"""on_progress(done, total), as `estimator.usage.readers.Progress`: here, bytes of input priced."""


class BulkEngine(Protocol):
    name: str

    def load(
        self,
        files: Sequence[InputFile],
        rows: Sequence[RateRow],
        names: Sequence[ModelName],
        scale: int,
        *,
        default_day: dt.date,
        default_model: str | None,
    ) -> None: ...

    def rollup(self, on_progress: Callable[[float], None] | None = None) -> list[dict[str, Any]]: ...

    def samples(self, per_kind: int) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


def choose_engine(
    paths: Iterable[str | os.PathLike[str]], *, threshold_bytes: int = AUTO_THRESHOLD_BYTES
) -> Literal["python", "duckdb"]:
    """The engine `--engine auto` uses: DuckDB when the inputs are large (or include Parquet or CSV, which only
    the bulk engines read) and DuckDB is installed; the Python path otherwise."""
    try:
        files = discover(paths)
    except EstimatorError:  # unreadable inputs: the Python path reports them as it always has
        return "python"
    return engine_for([item.kind for item in files], total_bytes(files), threshold_bytes=threshold_bytes)


def engine_for(
    kinds: Iterable[InputKind], size_bytes: int, *, threshold_bytes: int = AUTO_THRESHOLD_BYTES
) -> Literal["python", "duckdb"]:
    """`choose_engine`'s rule on files already looked at (`inputs.kind_of`): DuckDB for flat usage tables
    (only the bulk engines read them) or more than `threshold_bytes` in all, when DuckDB is installed."""
    if not TABULAR & set(kinds) and size_bytes <= threshold_bytes:
        return "python"
    try:
        import duckdb  # noqa: F401  (only whether it is installed)
    except ImportError:
        return "python"
    return "duckdb"


def price_files_bulk(
    paths: Iterable[str | os.PathLike[str]],
    *,
    engine: EngineName = "duckdb",
    model: str | None = None,
    as_of: dt.date | None = None,
    table: PriceTable | None = None,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    threads: int | None = None,
    spark: Any | None = None,
    on_progress: Progress | None = None,
) -> ActualCosts:
    """Price usage files with DuckDB (`engine="duckdb"`, one machine) or Spark (`engine="spark"`; `spark` is a
    SparkSession, else a local one is started). `paths` are files, directories or glob patterns of Parquet,
    CSV or JSON (flat usage rows, Message Batches results, Messages responses); `model` names the model of
    rows that carry none; `as_of` dates undated rows (default today). DuckDB's memory is capped by
    `memory_limit` (default 1GB), spilling to `temp_directory`.

    Returns the same `ActualCosts` as `estimator.usage.actual_costs`. Unreadable inputs raise
    `UsageFileError`; bad records are problems (listed with file and row), never priced at $0."""
    table = table or load_price_table()
    files = discover(paths)
    day = as_of or dt.date.today()
    rows = rate_rows(table)
    bulk = _engine(engine, memory_limit=memory_limit, temp_directory=temp_directory, threads=threads, spark=spark)
    try:
        bulk.load(files, rows, model_names(table), rate_scale(rows), default_day=day, default_model=model)
        size = total_bytes(files)
        progress = None if on_progress is None else _fraction_to_bytes(on_progress, size)
        rollup = bulk.rollup(progress)
        needs_samples = any(row["problem"] is not None or row["result_type"] != "succeeded" for row in rollup)
        samples = bulk.samples(SAMPLES_PER_KIND) if needs_samples else []
    finally:
        bulk.close()
    priced = priced_usage(rollup, samples, rows, table=table, default_day=day, default_model=model)
    return summarize(priced, table, tuple(item.path for item in files))


def _engine(
    name: EngineName, *, memory_limit: str | None, temp_directory: str | None, threads: int | None, spark: Any | None
) -> BulkEngine:
    if name == "duckdb":
        from estimator.bulk.duckdb_engine import DEFAULT_MEMORY_LIMIT, DuckDBEngine

        return DuckDBEngine(
            memory_limit=memory_limit or DEFAULT_MEMORY_LIMIT, temp_directory=temp_directory, threads=threads
        )
    if name == "spark":
        from estimator.bulk.spark_engine import SparkEngine

        return SparkEngine(spark)
    raise EstimatorError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")


def _fraction_to_bytes(on_progress: Progress, size: int) -> Callable[[float], None]:
    return lambda fraction: on_progress(int(fraction * size), size)


# --- from the rollup to the Python pricer's result ----------------------------------------------------


_LineKey = tuple[
    dt.date,  # day
    str,  # model_id
    dt.date,  # prices_effective_from
    Literal["standard", "batch"],  # service_tier
    Literal["global", "us"],  # geo
    Literal["standard", "fast"],  # speed
    int | None,  # tier_above_tokens
    int,  # cached
]
"""A line's key: a plain tuple (hashed at C speed; thousands of rollup rows are keyed)."""

_CATEGORY_COLUMNS: dict[Category, str] = {
    "uncached_input": "uncached_input_usd",
    "cache_write_5m": "cache_write_5m_usd",
    "cache_write_1h": "cache_write_1h_usd",
    "cache_read": "cache_read_usd",
    "output": "output_usd",
    "web_search": "web_search_usd",
}
_WHAT_IF_COLUMNS: dict[Mode, str] = {mode: f"what_if_{mode}_usd" for mode in MODES}
_SUMMED = ("requests", "records", *COUNT_FIELDS, *_CATEGORY_COLUMNS.values(), "total_usd", "unsplit_write_extra_usd")
_ZERO = Decimal(0)
_UNBILLED_USD = (_ZERO,) * (len(CATEGORIES) - len(_CATEGORY_COLUMNS))
if CATEGORIES[: len(_CATEGORY_COLUMNS)] != tuple(_CATEGORY_COLUMNS):  # `_line` builds `usd` in CATEGORIES' order
    raise AssertionError("the rollup's categories must come first in CATEGORIES, in its order")

# A rollup row's values read a tuple at a time (C speed), each in the order its consumer takes them.
_key_values = itemgetter(
    "day", "model_id", "prices_effective_from", "service_tier", "geo", "speed", "tier_above_tokens"
)
_token_values = itemgetter("requests", "records", *COUNT_FIELDS)  # `TokenSums`' fields, in order
_usd_values = itemgetter(*_CATEGORY_COLUMNS.values())
_what_if_values = itemgetter(*_WHAT_IF_COLUMNS.values())
_total_usd = attrgetter("total_usd")
_is_none = partial(is_, None)
"""By identity: `None in values` asks each Decimal to compare itself with None, through an isinstance check on
`numbers.Rational` (a tenth of the lines' time, measured)."""


def priced_usage(
    rollup: Sequence[Mapping[str, Any]],
    samples: Sequence[Mapping[str, Any]],
    rows: Sequence[RateRow],
    *,
    table: PriceTable,
    default_day: dt.date,
    default_model: str | None = None,
) -> PricedUsage:
    """The Python pricer's `PricedUsage` from an engine's rollup and samples."""
    lines = _lines(rollup, rows, table)
    requests: dict[ResultType, int] = dict.fromkeys(RESULT_TYPES, 0)
    undated = unpriced = 0
    for row in rollup:
        kind = row["result_type"]
        if kind in requests:
            requests[kind] += int(row["request_count"] or 0)
        undated_kind = row["problem"] not in _NOT_A_REQUEST and row["result_type"] == "succeeded"
        if row["undated"] and undated_kind:
            undated += int(row["records"])
        if row["problem"] is not None:
            unpriced += int(row["records"])
    problems, not_listed = _problems(rollup, samples, table, default_day)
    problems += _warnings(rollup, lines, table)
    problems.sort(key=lambda p: (p.severity != "error", p.source, p.line))
    with localcontext(EXACT):
        total = sum(map(_total_usd, lines), Decimal(0))
    return PricedUsage(
        lines=tuple(lines),
        total_usd=total,
        requests_by_result=requests,
        not_billed=tuple(_not_billed(samples)),
        cost_rows=(),
        problems=tuple(problems),
        problems_not_listed=not_listed,
        unpriced_records=unpriced,
        what_if_model=None,
        default_day=default_day,
        undated_records=undated,
    )


def _lines(rollup: Sequence[Mapping[str, Any]], rows: Sequence[RateRow], table: PriceTable) -> list[PricedLine]:
    merged: dict[_LineKey, Mapping[str, Any]] = {}
    copied: set[_LineKey] = set()  # keys whose sums are our own copy (a first row is read, never written)
    with localcontext(EXACT):
        for row in rollup:
            if row["problem"] is not None or row["result_type"] != "succeeded":
                continue
            key: _LineKey = (*_key_values(row), int(row["cached"]))
            found = merged.get(key)
            if found is None:
                merged[key] = row
                continue
            if key not in copied:
                found = merged[key] = dict(found)
                copied.add(key)
            _merge(cast(dict[str, Any], found), row)
    index = _RateIndex(rows, table)
    lines = [_line(key, sums, index) for key, sums in merged.items()]
    # The Python pricer's order, then the rest of the key: the same lines whichever engine gave them.
    lines.sort(
        key=lambda line: (
            line.day, line.model_id, line.service_tier, line.billed_mode, line.speed, line.inference_geo,
            -1 if line.tier_above_tokens is None else line.tier_above_tokens, line.tokens.cache_write_1h_tokens > 0,
        )
    )  # fmt: skip
    return lines


def _merge(found: dict[str, Any], row: Mapping[str, Any]) -> None:
    """Add a rollup row to the sums of its line (in the EXACT context)."""
    for column in _SUMMED:
        found[column] = found[column] + row[column]
    for column in _WHAT_IF_COLUMNS.values():  # a mode without a price for part of the line has none
        both = found[column] is not None and row[column] is not None
        found[column] = found[column] + row[column] if both else None


class _RateIndex:
    """The rate rows by model and geo, to find the row a line was priced with (for its rates and reasons);
    the rates and model names the lines share are made once (thousands of lines, a few dozen of each)."""

    def __init__(self, rows: Sequence[RateRow], table: PriceTable) -> None:
        self._rows: dict[tuple[str, str], list[RateRow]] = defaultdict(list)
        for row in rows:
            self._rows[(row.model_id, row.geo)].append(row)
        self._table = table
        self._names: dict[str, str] = {}
        self._rates: dict[tuple[int, Billing, bool], ModeRates | None] = {}
        self._found: dict[tuple[str, str, dt.date, int | None], RateRow] = {}

    def billed(self, key: _LineKey) -> tuple[RateRow, ModeRates]:
        """The rates row a line was priced with, and its mode's rates."""
        day, model_id, _, service_tier, geo, speed, tier_above_tokens, cached = key
        row = self.find(model_id, geo, day, tier_above_tokens)
        rates = self.mode_rates(row, "batch" if service_tier == "batch" else speed, bool(cached))
        if rates is None:  # the rollup priced this line, so its rates exist: guard the invariant
            raise AssertionError(f"line {key} priced without rates")
        return row, rates

    def model_name(self, model_id: str) -> str:
        name = self._names.get(model_id)
        if name is None:
            name = self._names[model_id] = self._table.model(model_id).name
        return name

    def mode_rates(self, row: RateRow, billing: Billing, cached: bool) -> ModeRates | None:
        key = (id(row), billing, cached)  # rows live as long as the index
        if key not in self._rates:
            self._rates[key] = row.billing(billing).mode_rates(cached=cached)
        return self._rates[key]

    def find(self, model_id: str, geo: str, day: dt.date, tier_above_tokens: int | None) -> RateRow:
        key = (model_id, geo, day, tier_above_tokens)  # lines of a day share it across modes and cache use
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._search(*key)
        return found

    def _search(self, model_id: str, geo: str, day: dt.date, tier_above_tokens: int | None) -> RateRow:
        for row in self._rows[(model_id, geo)]:
            in_range = row.valid_from <= day and (row.valid_to is None or day < row.valid_to)
            if in_range and row.tier_above_tokens == tier_above_tokens:
                return row
        raise AssertionError(f"no rate row for {model_id} {geo} on {day} (tier {tier_above_tokens})")


def _line(key: _LineKey, sums: Mapping[str, Any], index: _RateIndex) -> PricedLine:
    day, model_id, prices_effective_from, service_tier, geo, speed, tier_above_tokens, cached = key
    row, rates = index.billed(key)
    spent = _usd_values(sums)
    if any(map(_is_none, spent)):  # no sum: zero, as `_exact` reads it
        spent = tuple(map(_exact, spent))
    what_if: dict[Mode, Decimal | None] = dict(zip(_WHAT_IF_COLUMNS, _what_if_values(sums), strict=True))
    reasons: dict[Mode, str] = {}
    if any(map(_is_none, what_if.values())):
        reasons = {mode: _what_if_reason(row, mode, key) for mode, value in what_if.items() if value is None}
    return PricedLine(
        day=day,
        model_id=model_id,
        model_name=index.model_name(model_id),
        prices_effective_from=prices_effective_from,
        service_tier=service_tier,
        inference_geo=geo,
        speed=speed,
        tier_above_tokens=tier_above_tokens,
        billed_mode=("batch" if service_tier == "batch" else "realtime") + ("_cached" if cached else ""),  # type: ignore[arg-type]
        tokens=TokenSums(*map(int, _token_values(sums))),
        rates=rates,
        # Categories the usage pricer does not bill on their own (if any: thinking is billed inside output)
        # are zero, as in its lines.
        usd=dict(zip(CATEGORIES, spent + _UNBILLED_USD, strict=True)),
        total_usd=_exact(sums["total_usd"]),
        unsplit_write_extra_usd=_exact(sums["unsplit_write_extra_usd"]),
        what_if_usd=what_if,
        what_if_reasons=reasons,
    )


def _what_if_reason(row: RateRow, mode: Mode, key: _LineKey) -> str:
    day, model_id, speed = key[0], key[1], key[5]
    billing: Billing = "batch" if mode.startswith("batch") else speed
    rates = row.billing(billing)
    if rates.reason is not None:
        return rates.reason
    if mode.endswith("cached") and rates.cache_reason is not None:
        return rates.cache_reason
    return rates.cache_1h_reason or f"no {mode} price for {model_id} on {day}"


def _exact(value: Decimal | None) -> Decimal:
    """A sum from the engine (a DECIMAL(38, S): trailing zeros are kept, and `decimal_text` drops them on
    output, as for the Python pricer's figures)."""
    return Decimal(0) if value is None else value


# --- problems, warnings, not billed ----------------------------------------------------------------------

_READ_PROBLEM_WORDS = {
    "missing_field": "is missing",
    "invalid_count": "must be a whole number of tokens ≥ 0",
    "negative_count": "is negative",
    "count_too_large": "is beyond any real usage",
    "invalid_date": "is not a date (YYYY-MM-DD..., or Unix seconds)",
    "inconsistent_cache_creation": "is less than the TTL split it should total",
    "inconsistent_thinking": "exceeds output_tokens, which includes thinking",
}
_SHAPE_WORDS = {
    "missing_model": "the record names no model (pass --model / model=...)",
    "missing_usage": "the response has no usage object, so it cannot be priced",
    "unknown_shape": "not a batch result, Messages response, usage object or usage row",
    "unknown_result_type": "result.type is not succeeded, errored, canceled or expired",
    "batch_request_not_result": (
        "this is a batch request line ({custom_id, params}), not a result: give the results file, or both to "
        "`reconcile`"
    ),
    "report_page": "an Admin API report page: the bulk engines do not read reports (use --engine python)",
}
_NOT_A_REQUEST = frozenset(
    {"missing_model", "missing_usage", "unknown_shape", "report_page", "batch_request_not_result", "missing_field"}
)
"""Problems found before the reader takes a record's date: such records are not counted as undated."""
_REFUSALS = frozenset(
    {
        "unknown_model",
        "before_release",
        "priority_tier",
        "unknown_service_tier",
        "unknown_speed",
        "fast_in_batch",
        "unknown_inference_geo",
        "inference_geo_unavailable",
        "not_priced",
    }
)


def _problems(
    rollup: Sequence[Mapping[str, Any]], samples: Sequence[Mapping[str, Any]], table: PriceTable, default_day: dt.date
) -> tuple[list[UsageProblem], int]:
    counts: dict[tuple[str, str | None], int] = defaultdict(int)
    for row in rollup:
        if row["problem"] is not None:
            counts[(row["problem"], row["problem_detail"])] += int(row["records"])
    by_kind: dict[tuple[str, str | None], list[Mapping[str, Any]]] = defaultdict(list)
    for sample in samples:
        if sample["problem"] is not None:
            by_kind[(sample["problem"], sample["problem_detail"])].append(sample)
    problems: list[UsageProblem] = []
    listed = 0
    for (code, detail), records in sorted(counts.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        examples = by_kind.get((code, detail), [])
        if code in _REFUSALS:
            problems += _refusals(code, examples, records, table, default_day)
            listed += records
            continue
        for example in examples:  # problems of the input itself: one per record, as the Python reader lists them
            problems.append(_read_problem(code, detail, example))
        listed += len(examples)
    unlisted = sum(counts.values()) - listed
    if len(problems) > MAX_LISTED:
        unlisted += len(problems) - MAX_LISTED
        problems = problems[:MAX_LISTED]
    return problems, unlisted


def _read_problem(code: str, detail: str | None, sample: Mapping[str, Any]) -> UsageProblem:
    if code in _SHAPE_WORDS:
        message = _SHAPE_WORDS[code]
    else:
        field = detail or "a count"
        message = f"usage.{field} {_READ_PROBLEM_WORDS.get(code, 'cannot be read')}"
    return UsageProblem(
        str(sample["source_file"]), int(sample["source_row"] or 0), "error", code, message, sample["custom_id"]
    )


def _refusals(
    code: str, examples: Sequence[Mapping[str, Any]], records: int, table: PriceTable, default_day: dt.date
) -> list[UsageProblem]:
    """One problem per distinct message, in the Python pricer's words (asked of it on the first record of
    each kind), with the first lines and the count of records: the records of every sample group whose
    message it is (exact), and on the last message any the samples did not reach (none unless a kind has
    more than `samples_sql`'s `per_kind` groups)."""
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    counted: dict[str, dict[tuple[Any, ...], int]] = defaultdict(dict)
    for example in examples:
        message = _refusal_message(code, example, table, default_day)
        grouped[message].append(example)
        counted[message][tuple(example[field] for field in _SAMPLE_GROUP_FIELDS)] = int(example["group_records"])
    if not grouped:
        return [UsageProblem("", 0, "error", code, code.replace("_", " "), None, records)]
    problems = []
    unreached = records - sum(sum(groups.values()) for groups in counted.values())
    for position, (message, group) in enumerate(grouped.items()):
        first = group[0]
        others = [
            str(g["source_row"] or 0) if g["source_file"] == first["source_file"] else _where(g) for g in group[1:]
        ]
        more = f"; also line{'s' if len(others) > 1 else ''} {', '.join(others)}" if others else ""
        count = sum(counted[message].values()) + (max(unreached, 0) if position == len(grouped) - 1 else 0)
        if count > len(group) and others:
            more += ", ..."
        problems.append(
            UsageProblem(
                str(first["source_file"]),
                int(first["source_row"] or 0),
                "error",
                code,
                message + more,
                first["custom_id"],
                max(count, len(group)),
            )
        )
    return problems


_SAMPLE_GROUP_FIELDS = ("problem", "result_type", *SAMPLE_GROUP_FIELDS)
"""A sample's group (`sql.samples_sql`): its `group_records` are counted once per group."""


def _where(sample: Mapping[str, Any]) -> str:
    return f"{sample['source_file']}:{sample['source_row'] or 0}"


def _refusal_message(code: str, sample: Mapping[str, Any], table: PriceTable, default_day: dt.date) -> str:
    """The Python pricer's message for this record's refusal, asked of it on a record of the same kind."""
    cached = int(sample["cached"] or 0)
    prompt = int(sample["prompt_tokens"] or 0)
    record = UsageRecord(
        model=sample["model_raw"],
        day=sample["day"] or default_day,
        service_tier=sample["service_tier_raw"],
        inference_geo=sample["geo_raw"],
        speed=sample["speed_raw"],
        input_tokens=max(prompt - (1 if cached else 0), 0),
        cache_write_5m_tokens=1 if cached == 1 else 0,
        cache_write_1h_tokens=1 if cached == 2 else 0,
    )
    found = [p for p in price_usage(record, table=table).problems if p.severity == "error"]
    return found[0].message if found else code.replace("_", " ")


def _warnings(
    rollup: Sequence[Mapping[str, Any]], lines: Sequence[PricedLine], table: PriceTable
) -> list[UsageProblem]:
    """The Python pricer's warnings about priced records (a model used after its retirement, derived
    rates), asked of it once per kind of line and counted over the records they concern, and the note about
    batch results that carry another service tier."""
    said: dict[tuple[object, ...], list[tuple[str, str]]] = {}
    counted: dict[tuple[str, str], tuple[str, int]] = {}  # (code, model) → the last message, the records
    retirements: dict[str, dt.date | None] = {}  # per model (thousands of lines, a few models)
    for line in lines:
        model_id = line.model_id
        if model_id not in retirements:
            retirements[model_id] = table.model(model_id).lifecycle.retired
        retired = retirements[model_id]
        after = retired is not None and line.day >= retired
        tokens = line.tokens
        # Which cache categories the line used: a warning may concern their rates (derived fast-mode ones).
        cache = (
            int(tokens.cache_write_5m_tokens > 0),
            int(tokens.cache_write_1h_tokens > 0),
            int(tokens.cache_write_unsplit_tokens > 0),
            int(tokens.cache_read_tokens > 0),
        )
        kind = (model_id, after, line.speed, line.service_tier, line.inference_geo, line.tier_above_tokens, cache)
        if kind not in said:
            record = UsageRecord(
                model=model_id,
                day=line.day,
                service_tier=line.service_tier,
                inference_geo=line.inference_geo,
                speed=line.speed,
                # The line's mean prompt, so that the record falls in the line's prompt tier.
                input_tokens=max(tokens.prompt_tokens // max(tokens.records, 1) - sum(cache), 0),
                cache_write_5m_tokens=cache[0],
                cache_write_1h_tokens=cache[1],
                cache_write_unsplit_tokens=cache[2],
                cache_read_tokens=cache[3],
            )
            found = price_usage(record, table=table).problems
            said[kind] = [(p.code, p.message) for p in found if p.severity == "warning"]
        for code, message in said[kind]:
            previous = counted.get((code, model_id))
            counted[(code, model_id)] = (message, tokens.records + (previous[1] if previous else 0))
    warnings = {
        subject: UsageProblem("", 0, "warning", subject[0], message, None, records)
        for subject, (message, records) in counted.items()
    }
    for tier in sorted({row["batch_tier_given"] for row in rollup if row["batch_tier_given"]}):
        count = sum(int(row["records"]) for row in rollup if row["batch_tier_given"] == tier)
        warnings[("batch_result_tier", tier)] = UsageProblem(
            "",
            0,
            "warning",
            "batch_result_tier",
            f"batch results carrying service_tier {tier!r} are billed at batch rates (every result in a Message "
            "Batches results file is)",
            None,
            count,
        )
    return list(warnings.values())


def _not_billed(samples: Sequence[Mapping[str, Any]]) -> list[NotBilled]:
    kept = [
        NotBilled(
            sample["result_type"], sample["custom_id"], str(sample["source_file"]), int(sample["source_row"] or 0)
        )
        for sample in samples
        if sample["problem"] is None and sample["result_type"] in ("errored", "canceled", "expired")
    ]
    return kept[:MAX_LISTED]
