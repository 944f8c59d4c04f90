"""The pricing rules as SQL, written once in DuckDB's dialect and transpiled to Spark SQL with `sqlglot`.

The relations, each a SELECT generated here, each built on the one before:

    usage_rates        the dated rates table (`estimator.bulk.rates`): a VALUES list of exact DECIMALs
    usage_model_names  every spelling of every model → its id
    usage_records      the input normalized: one row per request (or iteration), every count checked as the
                       Python reader checks it, and the problem of a record that cannot be read
    usage_judged       each record's model, its rates row (model, date, prompt tier, geo) and its problem,
                       in the Python pricer's order of checks (unknown model, no price that day, tier, speed,
                       geo, a feature that did not exist): no money yet
    usage_priced       each record priced (`_costed`): each category's cost, the total, the upper bound of
                       unsplit cache writes and the what-ifs in the four modes
    usage_rollup       the counts summed per raw group, judged and priced by the same steps, then summed per
                       line key and problem: the whole answer in a few thousand rows

On DuckDB the first step of the rollup (the records summed per raw group) has a fast path for typed flat
tables (`FastGroups`, Parquet as warehouses write it): each record's raw group packed into one BIGINT by
functions of one column each (which DuckDB evaluates once per Parquet dictionary entry) and summed per key
in one scan; the few thousand keys are decoded into the same raw groups. A record that fails any of the
reader's checks, or is spelled outside the lists, gets no key and goes through `usage_records` with its
problem; the tests hold the two paths to the same rollup.

and the samples (the first records of each problem and not-billed kind, with file and row). The rules
exist once: `judged_sql` and `_costed` are applied to records and to sums alike (prices are linear in the
counts within a rates row).

Money is DECIMAL(38, S) throughout, S being the decimal places of the smallest per-token rate in the table
(`rates.rate_scale`): tokens × rate is then exact, and so are the sums. No DOUBLE ever holds money. On
Spark, `spark.sql.decimalOperations.allowPrecisionLoss` must be false (the engines set it), or Spark would
round products of wide decimals.

The semantics are those of `estimator.usage.pricer` (the oracle the tests hold both engines to): the same
problem codes in the same order, the same what-if rules. Where the readers differ, `DIFFERENCES` says how.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from estimator.bulk.rates import BILLING, RATE_CATEGORIES, ModelName, RateRow

__all__ = [
    "CODED_FIELDS",
    "COUNT_FIELDS",
    "DIFFERENCES",
    "FAST_COUNT_LIMIT",
    "FAST_GROUP_RECORDS",
    "FAST_KEY",
    "FLAT_ALIASES",
    "JSON_SCHEMA",
    "JUDGED",
    "MODEL_NAMES",
    "PRICED",
    "RATES",
    "RECORDS",
    "RECORDS_UNNUMBERED",
    "ROLLUP",
    "ROLLUP_COLUMNS",
    "ROLLUP_COUNTS",
    "ROLLUP_MONEY",
    "ROLLUP_READ",
    "SAMPLE_GROUP_FIELDS",
    "FastGroups",
    "FlatColumns",
    "TypeClass",
    "daily_sql",
    "daily_what_if_sql",
    "fast_groups",
    "flat_records_sql",
    "json_records_sql",
    "judged_sql",
    "key_spellings",
    "longest_iterations_sql",
    "model_names_sql",
    "priced_sql",
    "rate_columns",
    "rate_types",
    "rate_values",
    "rates_sql",
    "raw_groups_sql",
    "rollup_sql",
    "samples_sql",
    "to_spark",
]

RATES = "usage_rates"
MODEL_NAMES = "usage_model_names"
RECORDS = "usage_records"
RECORDS_UNNUMBERED = "usage_records_unnumbered"
"""The same records without file and row (what the totals read: Parquet scans faster without them)."""
PRICED = "usage_priced"

TypeClass = Literal["int", "float", "decimal", "string", "date", "timestamp", "bool", "other"]
"""What an engine's column type is, as far as reading counts and dates is concerned."""

COUNT_FIELDS = (
    "input_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_write_unsplit_tokens",
    "cache_read_tokens",
    "output_tokens",
    "thinking_tokens",
    "web_search_requests",
    "web_fetch_requests",
)
"""The integer columns of `usage_records`, in the order of `estimator.usage.pricer.TokenSums`."""

DIFFERENCES = (
    'a JSON count written as a string of digits ("12") is read as the number: both engines read JSON leaves as text',
    "a JSON `null` input_tokens or output_tokens is reported as missing (the Python reader takes null as 0)",
    "a bad count inside `usage.iterations` is reported once per iteration, not once per request",
    "a line that is not JSON stops the bulk engines with an error naming the file (and the line, on DuckDB); "
    "the Python reader lists it and reads on",
    "flat rows use their own `model` column; the Python reader takes such a row as a bare usage object, whose "
    "model comes from --model",
    "Admin API report pages are not read by the bulk engines (they are small: use the Python engine)",
)
"""Where the bulk engines read input differently from the Python reader (pricing is identical)."""

FLAT_ALIASES: dict[str, tuple[str, ...]] = {
    "model": ("model", "model_id"),
    "day": ("day", "created_at", "timestamp", "date", "time"),
    "service_tier": ("service_tier",),
    "inference_geo": ("inference_geo",),
    "speed": ("speed",),
    "custom_id": ("custom_id",),
    "result_type": ("result_type",),
    "input_tokens": ("input_tokens", "uncached_input_tokens"),
    "output_tokens": ("output_tokens",),
    "cache_write_5m_tokens": ("cache_write_5m_tokens", "ephemeral_5m_input_tokens"),
    "cache_write_1h_tokens": ("cache_write_1h_tokens", "ephemeral_1h_input_tokens"),
    "cache_write_unsplit_tokens": ("cache_write_unsplit_tokens",),
    "cache_creation_input_tokens": ("cache_creation_input_tokens",),
    "cache_read_tokens": ("cache_read_tokens", "cache_read_input_tokens"),
    "thinking_tokens": ("thinking_tokens",),
    "web_search_requests": ("web_search_requests",),
    "web_fetch_requests": ("web_fetch_requests",),
    "requests": ("requests",),
}
"""Flat-table column names (case-insensitive), ours first, then the SDK's `usage` names."""

# The JSON shapes the Python reader knows, as one schema whose leaves are all read as text, so that a
# count's validity (a whole number, not 1.5 or true) is judged by the SQL, as the reader judges it.
_CACHE_SPLIT = {"ephemeral_5m_input_tokens": None, "ephemeral_1h_input_tokens": None}
_ITERATION = {
    "type": None,
    "model": None,
    "input_tokens": None,
    "output_tokens": None,
    "cache_creation_input_tokens": None,
    "cache_read_input_tokens": None,
    "cache_creation": _CACHE_SPLIT,
}
_USAGE = {
    "input_tokens": None,
    "output_tokens": None,
    "cache_creation_input_tokens": None,
    "cache_read_input_tokens": None,
    "cache_creation": _CACHE_SPLIT,
    "server_tool_use": {"web_search_requests": None, "web_fetch_requests": None},
    "output_tokens_details": {"thinking_tokens": None},
    "service_tier": None,
    "inference_geo": None,
    "speed": None,
    "iterations": [_ITERATION],
}
_DATES = {"created_at": None, "timestamp": None, "date": None, "time": None}
_MESSAGE = {"type": None, "model": None, "usage": _USAGE, **_DATES}
JSON_SCHEMA: dict[str, object] = {
    "custom_id": None,
    "type": None,
    "model": None,
    "result": {"type": None, "message": _MESSAGE, "error": {"type": None, "message": None}},
    "usage": _USAGE,
    "response": _MESSAGE,
    "message": _MESSAGE,
    "data": None,
    "params": None,
    **_DATES,
    **_USAGE,
}
"""Every key the readers look at: None is a text leaf, a dict a struct, a one-item list a list of structs.
Engines render it as their own schema (DuckDB `columns=`, a Spark `StructType`)."""

_DATE_KEYS = ("created_at", "timestamp", "date", "time")


@dataclass(frozen=True)
class FlatColumns:
    """A flat table's columns matched to the fields: field → (column name, type class)."""

    found: Mapping[str, tuple[str, TypeClass]]

    @classmethod
    def match(cls, columns: Iterable[tuple[str, TypeClass]]) -> FlatColumns:
        by_lower = {name.lower(): (name, kind) for name, kind in columns}
        found: dict[str, tuple[str, TypeClass]] = {}
        for field, aliases in FLAT_ALIASES.items():
            for alias in aliases:
                if alias in by_lower:
                    found[field] = by_lower[alias]
                    break
        return cls(found)

    def missing_required(self) -> list[str]:
        return [field for field in ("input_tokens", "output_tokens") if field not in self.found]


# --- small SQL helpers -----------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _date(value: dt.date | None) -> str:
    return "CAST(NULL AS DATE)" if value is None else f"DATE '{value.isoformat()}'"


def _int(value: int | None) -> str:
    return "CAST(NULL AS BIGINT)" if value is None else f"CAST({value} AS BIGINT)"


def _money(expression: str, scale: int) -> str:
    return f"CAST({expression} AS DECIMAL(38, {scale}))"


def to_spark(sql: str) -> str:
    """The same statement in Spark SQL (sqlglot's DuckDB → Spark transpiler)."""
    import sqlglot  # imported here: only the Spark engine needs it

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


# --- the rates and the model names -------------------------------------------------------------------


def rate_columns() -> list[str]:
    columns = [
        "model_id",
        "prices_effective_from",
        "valid_from",
        "valid_to",
        "prompt_above_tokens",
        "prompt_upto_tokens",
        "tier_above_tokens",
        "geo",
        "web_search_usd_per_request",
    ]
    for billing in BILLING:
        columns += [f"{billing}_{category}" for category in RATE_CATEGORIES]
        columns += [f"{billing}_problem", f"{billing}_cache_missing"]
    return columns


RateValue = str | int | bool | dt.date | Decimal | None


def rate_values(rows: Sequence[RateRow]) -> list[tuple[RateValue, ...]]:
    """The rates table's rows as plain values, in the order of `rate_columns()` (with `rate_types`)."""
    values = []
    for row in rows:
        cells: list[RateValue] = [
            row.model_id,
            row.prices_effective_from,
            row.valid_from,
            row.valid_to,
            row.prompt_above_tokens,
            row.prompt_upto_tokens,
            row.tier_above_tokens,
            row.geo,
            row.web_search_usd_per_request,
        ]
        for billing in BILLING:
            rates = row.billing(billing)
            cells += [rates.rate(category) for category in RATE_CATEGORIES]
            cells += [rates.problem, rates.cache_reason is not None]
        values.append(tuple(cells))
    return values


def rate_types(scale: int) -> list[str]:
    """The SQL type of each column of `rate_columns()`: rates are DECIMAL(18, scale), exact."""
    types = ["VARCHAR", "DATE", "DATE", "DATE", "BIGINT", "BIGINT", "BIGINT", "VARCHAR", f"DECIMAL(18, {scale})"]
    for _ in BILLING:
        types += [f"DECIMAL(18, {scale})"] * len(RATE_CATEGORIES) + ["VARCHAR", "BOOLEAN"]
    return types


def rates_sql(rows: Sequence[RateRow], scale: int) -> str:
    """`usage_rates` as a SELECT over a VALUES list: the table travels inside the SQL (DuckDB; Spark builds
    the same rows as a DataFrame from `rate_values`, which it analyses much faster than 7,000 literals)."""
    lines = []
    for values in rate_values(rows):
        cells = [_literal(value, kind) for value, kind in zip(values, rate_types(scale), strict=True)]
        lines.append("(" + ", ".join(cells) + ")")
    columns = ", ".join(rate_columns())
    return f"SELECT * FROM (VALUES {', '.join(lines)}) AS {RATES}({columns})"


def _literal(value: RateValue, kind: str) -> str:
    if value is None:
        return f"CAST(NULL AS {kind})"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.date):
        return _date(value)
    if isinstance(value, Decimal):
        return f"CAST('{value:f}' AS {kind})"
    if isinstance(value, int):
        return _int(value)
    return _text(value)


def model_names_sql(names: Sequence[ModelName]) -> str:
    values = ", ".join(f"({_text(name.name_key)}, {_text(name.model_id)})" for name in names)
    return f"SELECT * FROM (VALUES {values}) AS {MODEL_NAMES}(name_key, model_id)"


# --- reading counts and dates ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Count:
    """How to read one count: `usable` (TRUE when the value is a whole number in range, or absent), the
    `problem` code when it is not, and its `value` (BIGINT, 0 when absent or unusable).

    Numeric columns (Parquet's) are checked with comparisons only; text (CSV, JSON) needs the problem first,
    so `usable` and `value` then refer to the `p_<field>` column the first step computes."""

    usable: str
    problem: str
    value: str
    precomputed: bool = False


def _count(column: str, kind: TypeClass, limit: int, field: str) -> _Count:
    """A count as the Python reader reads it: a whole number ≥ 0 and ≤ limit, or a problem."""
    in_range = f"{column} >= 0 AND {column} <= {limit}"
    if kind == "int":
        problem = f"CASE WHEN {column} < 0 THEN 'negative_count' WHEN {column} > {limit} THEN 'count_too_large' END"
        value = f"CASE WHEN {in_range} THEN CAST({column} AS BIGINT) ELSE 0 END"
        return _Count(f"({column} IS NULL OR ({in_range}))", problem, value)
    if kind in ("float", "decimal"):
        nan = f"isnan({column}) OR " if kind == "float" else ""
        problem = (
            f"CASE WHEN {nan}{column} <> FLOOR({column}) THEN 'invalid_count' "
            f"WHEN {column} < 0 THEN 'negative_count' WHEN {column} > {limit} THEN 'count_too_large' END"
        )
        whole = f"NOT isnan({column}) AND " if kind == "float" else ""
        usable = f"{whole}{column} = FLOOR({column}) AND {in_range}"
        value = f"CASE WHEN {usable} THEN CAST({column} AS BIGINT) ELSE 0 END"
        return _Count(f"({column} IS NULL OR ({usable}))", problem, value)
    checked = f"p_{field}"
    if kind == "string":
        text = f"TRIM({column})"
        digits = f"regexp_replace({text}, '^-?0*', '')"
        problem = (
            f"CASE WHEN NOT regexp_matches({text}, '^-?[0-9]+$') THEN 'invalid_count' "
            f"WHEN {text} LIKE '-%' AND {digits} <> '' THEN 'negative_count' "
            f"WHEN length({digits}) > 18 THEN 'count_too_large' "
            f"WHEN CAST({text} AS BIGINT) > {limit} THEN 'count_too_large' END"
        )
        value = f"CASE WHEN {column} IS NOT NULL AND {checked} IS NULL THEN CAST({text} AS BIGINT) ELSE 0 END"
        return _Count(f"{checked} IS NULL", problem, value, precomputed=True)
    problem = f"CASE WHEN {column} IS NOT NULL THEN 'invalid_count' END"
    return _Count(f"{checked} IS NULL", problem, "CAST(0 AS BIGINT)", precomputed=True)


def _day(expression: str, kind: TypeClass) -> tuple[str, str]:
    """(the DATE, the problem code) of a date or timestamp value: ISO text (its first 10 characters, the
    calendar day written in it) or Unix seconds (UTC), as the Python reader reads them."""
    if kind == "date":
        return expression, "CAST(NULL AS VARCHAR)"
    if kind == "timestamp":
        return f"CAST({expression} AS DATE)", "CAST(NULL AS VARCHAR)"
    if kind in ("int", "float", "decimal"):
        day = f"CAST(to_timestamp(CAST({expression} AS DOUBLE)) AS DATE)"
        return day, "CAST(NULL AS VARCHAR)"
    if kind == "string":
        numeric = f"regexp_matches({expression}, '^-?[0-9]+(\\.[0-9]+)?$')"
        iso = f"regexp_matches({expression}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
        day = (
            f"CASE WHEN {numeric} THEN CAST(to_timestamp(CAST({expression} AS DOUBLE)) AS DATE) "
            f"WHEN {iso} THEN TRY_CAST(substr({expression}, 1, 10) AS DATE) END"
        )
        problem = f"CASE WHEN {expression} IS NOT NULL AND ({day}) IS NULL THEN 'invalid_date' END"
        return day, problem
    return "CAST(NULL AS DATE)", f"CASE WHEN {expression} IS NOT NULL THEN 'invalid_date' END"


def _text_of(expression: str, kind: TypeClass) -> str:
    return expression if kind == "string" else f"CAST({expression} AS VARCHAR)"


@dataclass(frozen=True)
class _RawRecord:
    """The raw fields of one kind of input, as SQL expressions over `usage_input` (and their kinds)."""

    model: str
    day: tuple[str, TypeClass] | None
    service_tier: str
    inference_geo: str
    speed: str
    custom_id: str
    counts: Mapping[str, tuple[str, TypeClass]]
    """input/output/cache_read/5m/1h/total/unsplit/thinking/search/fetch/requests → raw expression."""
    split_present: str
    """TRUE when the source gives the TTL split of cache writes (then the total only tops it up)."""
    result_type: str
    """'succeeded' / 'errored' / 'canceled' / 'expired', or NULL when unknown (a problem)."""
    shape_problem: str
    """A problem with the record's shape (code), NULL when none."""
    batch_result: str
    """TRUE for a Message Batches result (billed at batch rates whatever its usage says)."""
    request_count: str
    """How many requests this row adds to `requests["succeeded"]` before any check (the reader's count)."""
    first_of_request: str
    """TRUE on a request's first row (its only one, but for iterations): undated requests are counted there."""
    limit: int


# Order of the count checks, as `estimator.usage.readers._usage_counts` makes them.
_CHECK_ORDER = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_creation_input_tokens",
    "web_search_requests",
    "web_fetch_requests",
    "thinking_tokens",
    "requests",
)
_FIELD_NAMES = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_tokens": "cache_read_input_tokens",
    "cache_write_5m_tokens": "cache_creation.ephemeral_5m_input_tokens",
    "cache_write_1h_tokens": "cache_creation.ephemeral_1h_input_tokens",
    "cache_creation_input_tokens": "cache_creation_input_tokens",
    "cache_write_unsplit_tokens": "cache_write_unsplit_tokens",
    "web_search_requests": "server_tool_use.web_search_requests",
    "web_fetch_requests": "server_tool_use.web_fetch_requests",
    "thinking_tokens": "output_tokens_details.thinking_tokens",
    "requests": "requests",
}


def _records_select(raw: _RawRecord, source: str, *, default_day: dt.date, default_model: str | None) -> str:
    """`usage_records` from raw fields, in steps that each name what the next uses: the raw values (and the
    problems of text counts); the counts; the record's problem (checked at once for a usable record, and in
    the reader's order only for the others); the columns."""
    checked = {field: _count(f"c_{field}", kind, raw.limit, field) for field, (_, kind) in raw.counts.items()}
    model = f"COALESCE(NULLIF({raw.model}, ''), {_text(default_model)})"
    day_value, day_problem = _day(*raw.day) if raw.day is not None else ("CAST(NULL AS DATE)", "NULL")
    step_raw = [
        "source_file",
        "source_row",
        f"{raw.custom_id} AS custom_id",
        f"{raw.result_type} AS result_type",
        f"{raw.shape_problem} AS shape_problem",
        f"{model} AS model_raw",
        f"{day_value} AS day_value",
        f"{day_problem} AS day_problem",
        f"CASE WHEN {raw.batch_result} THEN 'batch' ELSE {raw.service_tier} END AS service_tier_raw",
        f"CASE WHEN {raw.batch_result} AND {raw.service_tier} <> 'batch' THEN {raw.service_tier} END "
        "AS batch_tier_given",
        f"{raw.inference_geo} AS geo_raw",
        f"{raw.speed} AS speed_raw",
        f"{raw.split_present} AS split_present",
        f"{raw.first_of_request} AS first_of_request",
        f"{1 if raw.request_count == _VALID_REQUESTS else raw.request_count} AS raw_request_count",
    ]
    step_raw += [f"{expression} AS c_{field}" for field, (expression, _) in raw.counts.items()]
    step_text = ["*"] + [f"{check.problem} AS p_{field}" for field, check in checked.items() if check.precomputed]

    def value(field: str) -> str:
        return f"v_{field}" if field in checked else "CAST(0 AS BIGINT)"

    step_values = ["*"] + [f"{check.value} AS v_{field}" for field, check in checked.items()]
    problems: list[tuple[str, str, str]] = [("shape_problem IS NOT NULL", "shape_problem", "NULL")]
    problems.append(("model_raw IS NULL", "'missing_model'", "NULL"))
    problems.append(("day_problem IS NOT NULL", "day_problem", "'date'"))
    for required in ("input_tokens", "output_tokens"):
        problems.append((f"c_{required} IS NULL", "'missing_field'", f"'{_FIELD_NAMES[required]}'"))
    for field in _CHECK_ORDER:
        if field in checked:
            check = checked[field]
            code = f"p_{field}" if check.precomputed else check.problem
            problems.append((f"NOT ({check.usable})", code, f"'{_FIELD_NAMES[field]}'"))
    split = f"({value('cache_write_5m_tokens')} + {value('cache_write_1h_tokens')})"
    unsplit = "CAST(0 AS BIGINT)"
    if "cache_write_unsplit_tokens" in checked:
        unsplit = value("cache_write_unsplit_tokens")
    elif "cache_creation_input_tokens" in checked:
        # As the reader does: the total alone is all unsplit; beside a split it only tops the split up.
        total = value("cache_creation_input_tokens")
        unsplit = (
            f"CASE WHEN c_cache_creation_input_tokens IS NULL THEN 0 WHEN NOT split_present THEN {total} "
            f"WHEN {total} > {split} THEN {total} - {split} ELSE 0 END"
        )
        problems.append(
            (
                f"c_cache_creation_input_tokens IS NOT NULL AND split_present AND {total} < {split}",
                "'inconsistent_cache_creation'",
                "'cache_creation_input_tokens'",
            )
        )
    thinking, output = value("thinking_tokens"), value("output_tokens")
    problems.append(
        (
            _thinking_exceeds_output(thinking, output),
            "'inconsistent_thinking'",
            "'output_tokens_details.thinking_tokens'",
        )
    )
    # A usable record passes every check at once; only the others walk the checks in the reader's order.
    usable = " AND ".join(f"NOT ({when})" for when, _, _ in problems)
    chain = " ".join(f"WHEN {when} THEN {code}" for when, code, _ in problems)
    fields = " ".join(f"WHEN {when} THEN {name}" for when, _, name in problems)
    step_problem = [
        "*",
        f"CASE WHEN result_type <> 'succeeded' OR ({usable}) THEN NULL ELSE CASE {chain} END END AS read_problem",
    ]
    requests = value("requests") if "requests" in checked else "CAST(1 AS BIGINT)"
    request_count = "raw_request_count"
    if raw.request_count == _VALID_REQUESTS:  # a flat row adds its requests only when usable, as price_columns
        request_count = f"CASE WHEN result_type <> 'succeeded' OR read_problem IS NULL THEN {requests} ELSE 0 END"
    final = f"""SELECT source_file, source_row, custom_id, result_type, read_problem,
  CASE WHEN read_problem IS NULL THEN NULL ELSE CASE {fields} END END AS read_problem_field,
  model_raw,
  COALESCE(day_value, {_date(default_day)}) AS day,
  first_of_request AND day_value IS NULL AND day_problem IS NULL AS undated,
  service_tier_raw, batch_tier_given, geo_raw, speed_raw,
  {request_count} AS request_count,
  {requests} AS requests,
  {value("input_tokens")} AS input_tokens,
  {value("cache_write_5m_tokens")} AS cache_write_5m_tokens,
  {value("cache_write_1h_tokens")} AS cache_write_1h_tokens,
  {unsplit} AS cache_write_unsplit_tokens,
  {value("cache_read_tokens")} AS cache_read_tokens,
  {output} AS output_tokens,
  {thinking} AS thinking_tokens,
  {value("web_search_requests")} AS web_search_requests,
  {value("web_fetch_requests")} AS web_fetch_requests"""
    query = f"SELECT {', '.join(step_raw)} FROM {source}"
    for step, name in ((step_text, "text"), (step_values, "counted"), (step_problem, "judged")):
        query = f"SELECT {', '.join(step)} FROM ({query}) AS {name}_step"
    return f"{final} FROM ({query}) AS records_step"


def _thinking_exceeds_output(thinking: str, output: str) -> str:
    """Thinking is billed as output and counted inside `output_tokens`: more thinking than output is wrong."""
    return f"{thinking} > {output}"


_VALID_REQUESTS = "<requests when valid>"


def flat_records_sql(
    columns: FlatColumns, *, default_day: dt.date, default_model: str | None, limit: int, source: str
) -> str:
    """`usage_records` from a flat usage table (Parquet, CSV, JSONL of flat rows): one row per request."""
    found = columns.found

    def text(field: str) -> str:
        if field not in found:
            return "CAST(NULL AS VARCHAR)"
        name, kind = found[field]
        return _text_of(_quote(name), kind)

    counts = {
        field: (_quote(found[field][0]), found[field][1])
        for field in (*COUNT_FIELDS, "cache_creation_input_tokens", "requests")
        if field in found
    }
    split = [_quote(found[f][0]) for f in ("cache_write_5m_tokens", "cache_write_1h_tokens") if f in found]
    split_present = " OR ".join(f"{name} IS NOT NULL" for name in split) or "FALSE"
    result = text("result_type")
    known = "('succeeded', 'errored', 'canceled', 'expired')"
    result_type = f"CASE WHEN {result} IS NULL THEN 'succeeded' WHEN {result} IN {known} THEN {result} END"
    raw = _RawRecord(
        model=text("model"),
        day=(_quote(found["day"][0]), found["day"][1]) if "day" in found else None,
        service_tier=text("service_tier"),
        inference_geo=text("inference_geo"),
        speed=text("speed"),
        custom_id=text("custom_id"),
        counts=counts,
        split_present=split_present,
        result_type=f"COALESCE({result_type}, 'succeeded')",
        shape_problem=f"CASE WHEN ({result_type}) IS NULL THEN 'unknown_result_type' END",
        batch_result="FALSE",
        request_count=_VALID_REQUESTS,
        first_of_request="TRUE",
        limit=limit,
    )
    return _records_select(raw, source, default_day=default_day, default_model=default_model)


def longest_iterations_sql(source: str) -> str:
    """The length of the longest `usage.iterations` list in a JSON input (how many iteration steps to read)."""
    paths = ("usage", "result.message.usage", "response.usage", "message.usage")
    sizes = ", ".join(f"COALESCE(array_length({path}.iterations), 0)" for path in paths)
    return f"SELECT COALESCE(MAX(GREATEST({sizes})), 0) AS longest FROM {source}"


def json_records_sql(
    *, default_day: dt.date, default_model: str | None, limit: int, max_iterations: int, source: str
) -> str:
    """`usage_records` from JSON values of any of the shapes the Python reader knows (batch results,
    responses plain or wrapped, bare usage objects), read with `JSON_SCHEMA`. A request with
    `usage.iterations` becomes one row per iteration, each with its own model; the request counts once,
    on its first iteration, which also carries the server-tool and thinking counts."""
    shape = (
        "CASE WHEN result IS NOT NULL THEN 'result' "
        "WHEN usage IS NOT NULL AND (model IS NOT NULL OR type = 'message') THEN 'message' "
        "WHEN data IS NOT NULL THEN 'report' "
        "WHEN response.usage IS NOT NULL THEN 'response' "
        "WHEN message.usage IS NOT NULL THEN 'wrapped' "
        "WHEN usage IS NOT NULL OR (input_tokens IS NOT NULL AND output_tokens IS NOT NULL) THEN 'bare' "
        "WHEN type = 'error' THEN 'error' "
        "WHEN params IS NOT NULL AND custom_id IS NOT NULL THEN 'request' "
        "ELSE 'unknown' END"
    )

    def by_shape(result: str, message: str, response: str, wrapped: str, bare: str) -> str:
        return (
            f"CASE shape WHEN 'result' THEN {result} WHEN 'message' THEN {message} "
            f"WHEN 'response' THEN {response} WHEN 'wrapped' THEN {wrapped} WHEN 'bare' THEN {bare} END"
        )

    def usage(path: str) -> str:
        top = f"CASE WHEN usage IS NOT NULL THEN usage.{path} ELSE {path} END"
        return by_shape(
            f"result.message.usage.{path}", f"usage.{path}", f"response.usage.{path}", f"message.usage.{path}", top
        )

    def dated(prefix: str) -> str:
        return "COALESCE(" + ", ".join(f"{prefix}{key}" for key in _DATE_KEYS) + ")"

    top_dates = dated("")
    day = by_shape(
        dated("result.message."),
        top_dates,
        f"COALESCE({top_dates}, {dated('response.')})",
        f"COALESCE({top_dates}, {dated('message.')})",
        top_dates,
    )
    model = by_shape("result.message.model", "model", "response.model", "message.model", "CAST(NULL AS VARCHAR)")
    usage_present = by_shape("result.message.usage IS NOT NULL", "TRUE", "TRUE", "TRUE", "TRUE")
    result_type = (
        "CASE WHEN shape = 'result' THEN (CASE WHEN result.type IN ('succeeded', 'errored', 'canceled', 'expired') "
        "THEN result.type END) WHEN shape = 'error' THEN 'errored' ELSE 'succeeded' END"
    )
    shape_problem = (
        "CASE WHEN shape = 'report' THEN 'report_page' "
        "WHEN shape = 'request' THEN 'batch_request_not_result' "
        "WHEN shape = 'unknown' THEN 'unknown_shape' "
        "WHEN shape = 'result' AND result_type IS NULL THEN 'unknown_result_type' "
        "WHEN shape = 'result' AND result_type = 'succeeded' AND result.message IS NULL THEN 'missing_field' "
        "WHEN NOT usage_present THEN 'missing_usage' END"
    )
    fields = {
        "input_tokens": "input_tokens",
        "output_tokens": "output_tokens",
        "cache_read_tokens": "cache_read_input_tokens",
        "cache_write_5m_tokens": "cache_creation.ephemeral_5m_input_tokens",
        "cache_write_1h_tokens": "cache_creation.ephemeral_1h_input_tokens",
        "cache_creation_input_tokens": "cache_creation_input_tokens",
        "thinking_tokens": "output_tokens_details.thinking_tokens",
        "web_search_requests": "server_tool_use.web_search_requests",
        "web_fetch_requests": "server_tool_use.web_fetch_requests",
    }
    shaped = f"""SELECT *, {usage("iterations")} AS iterations_list
FROM (
  SELECT *, {result_type} AS result_type, {usage_present} AS usage_present
  FROM (SELECT *, {shape} AS shape FROM {source}) AS shaped_input
) AS typed_input"""
    common = (
        f"source_file, source_row, custom_id, shape, result_type, {shape_problem} AS shape_problem, "
        f"{day} AS day_raw, {usage('service_tier')} AS service_tier_raw, "
        f"{usage('inference_geo')} AS geo_raw, {usage('speed')} AS speed_raw"
    )
    counted = "CASE WHEN shape IN ('result', 'message', 'response', 'wrapped', 'bare', 'error') THEN 1 ELSE 0 END"
    plain_counts = ", ".join(f"{usage(path)} AS raw_{field}" for field, path in fields.items())
    branches = [
        f"SELECT {common}, {model} AS model_raw, {usage('cache_creation')} IS NOT NULL AS split_present, "
        f"{plain_counts}, CAST(1 AS BIGINT) AS raw_requests, {counted} AS request_count "
        "FROM shaped WHERE iterations_list IS NULL OR array_length(iterations_list) = 0"
    ]
    for k in range(1, max_iterations + 1):
        # Indexing is guarded by CASE, which Spark evaluates lazily: an index past the end is an error there.
        item = f"iterations_list[{k}]"
        first = k == 1
        counts = []
        for field, path in fields.items():
            if field in ("thinking_tokens", "web_search_requests", "web_fetch_requests"):
                counts.append(f"{usage(path) if first else 'CAST(NULL AS VARCHAR)'} AS raw_{field}")
            else:
                counts.append(f"{item}.{path} AS raw_{field}")
        branches.append(
            f"SELECT {common}, COALESCE({item}.model, {model}) AS model_raw, "
            f"{item}.cache_creation IS NOT NULL AS split_present, {', '.join(counts)}, "
            f"CAST({1 if first else 0} AS BIGINT) AS raw_requests, {counted if first else 0} AS request_count "
            f"FROM shaped WHERE array_length(iterations_list) >= {k}"
        )
    expanded = " UNION ALL ".join(branches)
    raw = _RawRecord(
        model="model_raw",
        day=("day_raw", "string"),
        service_tier="service_tier_raw",
        inference_geo="geo_raw",
        speed="speed_raw",
        custom_id="custom_id",
        counts={field: (f"raw_{field}", "string") for field in fields} | {"requests": ("raw_requests", "int")},
        split_present="split_present",
        result_type="COALESCE(result_type, 'succeeded')",
        shape_problem="shape_problem",
        batch_result="shape = 'result'",
        request_count="request_count",
        first_of_request="raw_requests = 1",
        limit=limit,
    )
    records = _records_select(raw, "expanded", default_day=default_day, default_model=default_model)
    # Only requests that carried a message count toward "succeeded", as in the reader; the WITH clause names
    # the steps so that the generated SQL reads top to bottom.
    return f"WITH shaped AS ({shaped}), expanded AS ({expanded}) {records}"


# --- pricing -------------------------------------------------------------------------------------------


def _pick(column: str, rates: str = "") -> str:
    """The rate of the way the request was billed: batch, fast, or standard (`rates`: the rates' alias)."""
    return (
        f"CASE WHEN service_tier = 'batch' THEN {rates}batch_{column} "
        f"WHEN speed = 'fast' THEN {rates}fast_{column} ELSE {rates}standard_{column} END"
    )


def _realtime(column: str) -> str:
    """The real-time rate at the request's own speed (the real-time what-ifs keep fast mode)."""
    return f"CASE WHEN speed = 'fast' THEN fast_{column} ELSE standard_{column} END"


JUDGED = "usage_judged"
ROLLUP = "usage_rollup"

SERVICE_TIERS: dict[str | None, str] = {None: "standard", "standard": "standard", "batch": "batch"}
"""A record's `service_tier` as written → how it is billed (any other value is a problem)."""
SPEEDS: dict[str | None, str] = {None: "standard", "standard": "standard", "fast": "fast"}
GEOS: dict[str | None, str] = {None: "global", "global": "global", "not_available": "global", "us": "us"}


def _normalized(column: str, spellings: Mapping[str | None, str]) -> str:
    """The value a raw spelling stands for, NULL for a spelling not in `spellings`."""
    whens = " ".join(
        f"WHEN {column} {'IS NULL' if raw is None else '= ' + _text(raw)} THEN {_text(value)}"
        for raw, value in spellings.items()
    )
    return f"CASE {whens} END"


_RATE_KEY = ("model_id", "geo", "rate_valid_from", "rate_prompt_above")
"""What identifies the rates row a record joined (with the line key, it fixes every rate the record pays)."""


def judged_sql(source: str = RECORDS, prompt: str = "prompt_tokens") -> str:
    """`usage_judged`: every record of `usage_records` with its model, the rates row it falls in (model, date,
    prompt tier, geo), its problem (NULL when priced, in the Python pricer's order of checks) and whether it
    used the cache (`cached`: 0 no, 1 yes, 2 with 1-hour writes). No money yet: costs are linear in the
    counts within a rates row, so they are applied per record (`priced_sql`) or to sums (`rollup_sql`).

    The same steps judge groups of records (`rollup_sql`): then `source` holds sums and `prompt` is a prompt
    length inside the group's tier bucket, which decides the tier exactly as each record's prompt would."""
    return f"""WITH keyed AS (
  SELECT *, writes_5m_tokens + cache_write_1h_tokens + cache_read_tokens AS cache_tokens, {prompt} AS tier_prompt
  FROM (
    SELECT *,
      cache_write_5m_tokens + cache_write_unsplit_tokens AS writes_5m_tokens,
      input_tokens + cache_write_5m_tokens + cache_write_1h_tokens + cache_write_unsplit_tokens + cache_read_tokens
        AS prompt_tokens,
      {_normalized("service_tier_raw", SERVICE_TIERS)} AS service_tier,
      {_normalized("speed_raw", SPEEDS)} AS speed,
      {_normalized("geo_raw", GEOS)} AS geo
    FROM {source}
  ) AS normalized
), named AS (
  -- Ids are matched as written; any other spelling is normalized as `pricing.normalize_model_name` does
  -- (and tried with "claude-" in front), only for the records that need it.
  SELECT spelled.*, COALESCE(normal_name.model_id, prefixed_name.model_id) AS model_id
  FROM (
    SELECT keyed.*, exact_name.model_id AS exact_model_id,
      CASE WHEN exact_name.model_id IS NULL THEN
        regexp_replace(regexp_replace(lower(model_raw), '^\\s+|\\s+$', '', 'g'), '[\\s._]+', '-', 'g') END AS model_key
    FROM keyed LEFT JOIN {MODEL_NAMES} AS exact_name ON exact_name.name_key = keyed.model_raw
  ) AS spelled
  LEFT JOIN {MODEL_NAMES} AS normal_name ON normal_name.name_key = COALESCE(spelled.model_key, spelled.model_raw)
  LEFT JOIN {MODEL_NAMES} AS prefixed_name ON prefixed_name.name_key = 'claude-' || spelled.model_key
), joined AS (
  SELECT k.*, r.model_id IS NOT NULL AS has_price, r.prices_effective_from, r.tier_above_tokens,
    r.valid_from AS rate_valid_from, r.prompt_above_tokens AS rate_prompt_above,
    {_pick("problem", "r.")} AS billed_problem,
    {_pick("cache_missing", "r.")} AS billed_cache_missing,
    {_pick("cache_write_1h", "r.")} IS NULL AS billed_1h_missing
  FROM named AS k
  LEFT JOIN {RATES} AS r
    ON r.model_id = k.model_id AND r.geo = COALESCE(k.geo, 'global')
    AND k.day >= r.valid_from AND (r.valid_to IS NULL OR k.day < r.valid_to)
    AND k.tier_prompt > r.prompt_above_tokens
    AND (r.prompt_upto_tokens IS NULL OR k.tier_prompt <= r.prompt_upto_tokens)
)
SELECT *, problem IS NULL AND result_type = 'succeeded' AS priced
FROM (
  SELECT *,
    CASE
      WHEN read_problem IS NOT NULL THEN read_problem
      WHEN result_type <> 'succeeded' THEN NULL
      WHEN model_id IS NULL THEN 'unknown_model'
      WHEN NOT has_price THEN 'before_release'
      WHEN service_tier IS NULL THEN CASE WHEN service_tier_raw = 'priority' THEN 'priority_tier'
        ELSE 'unknown_service_tier' END
      WHEN speed IS NULL THEN 'unknown_speed'
      WHEN speed = 'fast' AND service_tier = 'batch' THEN 'fast_in_batch'
      WHEN geo IS NULL THEN 'unknown_inference_geo'
      WHEN billed_problem IS NOT NULL THEN billed_problem
      WHEN cache_tokens > 0 AND billed_cache_missing THEN 'not_priced'
      WHEN cache_write_1h_tokens > 0 AND billed_1h_missing THEN 'not_priced'
    END AS problem,
    CASE WHEN cache_write_1h_tokens > 0 THEN 2 WHEN cache_tokens > 0 THEN 1 ELSE 0 END AS cached
  FROM joined
) AS problems"""


_COST_CATEGORIES = {
    "uncached_input_usd": ("input_tokens", "input"),
    "cache_write_5m_usd": ("writes_5m_tokens", "cache_write_5m"),
    "cache_write_1h_usd": ("cache_write_1h_tokens", "cache_write_1h"),
    "cache_read_usd": ("cache_read_tokens", "cache_read"),
    "output_usd": ("output_tokens", "output"),
}
_WHAT_IFS = (
    ("realtime", "rt", False),
    ("realtime_cached", "rt", True),
    ("batch", "b", False),
    ("batch_cached", "b", True),
)


def _costed(source: str, scale: int) -> str:
    """The pricing rules, once: each category's cost, the total, the upper-bound extra of unsplit writes and
    the four what-ifs, for every row of `source`. A row is a record, or the sums of records that share a
    line key and a rates row (costs are linear in the counts there, so pricing the sums equals summing the
    prices, exactly). `source` has the counts, `cache_tokens`, `cached`, `priced`, `service_tier`, `speed`
    and the rates row's columns."""

    def money(expression: str) -> str:
        return _money(expression, scale)

    def cost(tokens: str, rate: str) -> str:
        """tokens × rate, and 0 without looking at the rate when there are no tokens (the rate may be NULL)."""
        return f"CASE WHEN {tokens} = 0 THEN {money('0')} ELSE {money(f'{tokens} * {rate}')} END"

    search = money("web_search_requests * web_search_usd_per_request")

    def cached_cost(prefix: str) -> str:
        parts = [cost(tokens, f"{prefix}_{rate}") for tokens, rate in _COST_CATEGORIES.values()]
        return money(" + ".join([*parts, search]))

    def uncached_cost(prefix: str) -> str:
        """The uncached modes take every cache token as input (what the usage costs without caching)."""
        parts = [cost("(input_tokens + cache_tokens)", f"{prefix}_input"), cost("output_tokens", f"{prefix}_output")]
        return money(" + ".join([*parts, search]))

    def what_if(prefix: str, cached: bool) -> str:
        """A mode's cost, NULL when the mode has no price for it (a cached mode also when a cache category
        used has no rate there)."""
        if not cached:
            return f"CASE WHEN {prefix}_problem IS NULL THEN {uncached_cost(prefix)} END"
        missing = f"{prefix}_cache_missing OR (cache_write_1h_tokens > 0 AND {prefix}_cache_write_1h IS NULL)"
        return (
            f"CASE WHEN {prefix}_problem IS NOT NULL THEN NULL WHEN cache_tokens = 0 THEN {uncached_cost(prefix)} "
            f"WHEN {missing} THEN NULL ELSE {cached_cost(prefix)} END"
        )

    picked = []
    for column in (*RATE_CATEGORIES, "problem", "cache_missing"):
        picked += [f"{_pick(column)} AS a_{column}", f"{_realtime(column)} AS rt_{column}"]
        picked.append(f"batch_{column} AS b_{column}")
    costs = ",\n  ".join(
        f"CASE WHEN priced THEN {cost(tokens, f'a_{rate}')} END AS {name}"
        for name, (tokens, rate) in _COST_CATEGORIES.items()
    )
    extra = money("cache_write_unsplit_tokens * (a_cache_write_1h - a_cache_write_5m)")
    what_ifs = ",\n  ".join(
        f"CASE WHEN priced THEN {what_if(prefix, cached)} END AS what_if_{mode}_usd"
        for mode, prefix, cached in _WHAT_IFS
    )
    total = money(" + ".join([*_COST_CATEGORIES, "web_search_usd"]))
    return f"""SELECT *,
  CASE WHEN priced THEN {total} END AS total_usd,
  CASE WHEN priced AND cache_write_unsplit_tokens > 0 AND a_cache_write_1h IS NOT NULL THEN {extra}
    WHEN priced THEN {money("0")} END AS unsplit_write_extra_usd,
  {what_ifs}
FROM (
  SELECT *,
    CASE WHEN priced THEN {search} END AS web_search_usd,
    {costs}
  FROM (SELECT *, {", ".join(picked)} FROM {source}) AS picked
) AS costed"""


def priced_sql(scale: int) -> str:
    """`usage_priced`: every record of `usage_judged` with its rates, each category's cost, the total, the
    unsplit-writes extra and the four what-if costs (NULL for a record that is not priced)."""
    rates = ", ".join(f"r.{column}" for column in rate_columns() if column not in ("model_id", "geo"))
    rates = rates.replace("r.prices_effective_from, ", "").replace("r.tier_above_tokens, ", "")
    source = f"""(SELECT j.*, {rates} FROM {JUDGED} AS j LEFT JOIN {RATES} AS r
  ON r.model_id = j.model_id AND r.geo = j.geo AND r.valid_from = j.rate_valid_from
  AND r.prompt_above_tokens = j.rate_prompt_above) AS rated"""
    return _costed(source, scale)


_SUMMED = ("requests", *COUNT_FIELDS, "writes_5m_tokens", "cache_tokens")
_MONEY = (
    "uncached_input_usd",
    "cache_write_5m_usd",
    "cache_write_1h_usd",
    "cache_read_usd",
    "output_usd",
    "web_search_usd",
    "total_usd",
    "unsplit_write_extra_usd",
    "what_if_realtime_usd",
    "what_if_realtime_cached_usd",
    "what_if_batch_usd",
    "what_if_batch_cached_usd",
)
ROLLUP_KEYS = (
    "result_type",
    "problem",
    "problem_detail",
    "priced",
    "day",
    "model_id",
    "prices_effective_from",
    "service_tier",
    "geo",
    "speed",
    "tier_above_tokens",
    "cached",
    "undated",
    "batch_tier_given",
)
"""What the rollup groups by: the pricer's line key, plus result type, problem and the field a problem
concerns."""

_DETAIL = "CASE WHEN read_problem IS NOT NULL THEN read_problem_field END"


_GROUP_KEYS = (
    "result_type",
    "read_problem",
    "read_problem_field",
    "day",
    "model_raw",
    "service_tier_raw",
    "geo_raw",
    "speed_raw",
    "undated",
    "batch_tier_given",
    "cached_level",
    "tier_bucket",
)
_GROUP_SUMS = ("requests", *COUNT_FIELDS)


def _cached_level(cache: str | None, one_hour: str | None, unit: int = 1) -> str:
    """A record's cache use as the Python pricer keys its lines (times `unit`): 0 without cache tokens (`cache`:
    their sum, None when the table has none), 2 with 1-hour writes, 1 with other cache tokens only. The
    first test settles the records that use no cache at once."""
    if cache is None:
        return "0"
    with_one_hour = f"WHEN {one_hour} > 0 THEN {2 * unit} " if one_hour is not None else ""
    return f"CASE WHEN {cache} = 0 THEN 0 {with_one_hour}ELSE {unit} END"


def _tier_bucket(prompt: str, thresholds: Sequence[int], unit: int = 1) -> str:
    """How many of the table's tier thresholds a prompt exceeds (times `unit`). Every model's thresholds are
    among them, so the bucket decides the tier of every model, as the prompt does. Short prompts (most)
    are settled by the first test."""
    if not thresholds:
        return "0"
    whens = " ".join(f"WHEN {prompt} <= {threshold} THEN {index * unit}" for index, threshold in enumerate(thresholds))
    return f"CASE {whens} ELSE {len(thresholds) * unit} END"


def _inside_bucket(thresholds: Sequence[int]) -> str:
    """A prompt length inside a group's bucket (`judged_sql` finds the tier from it)."""
    if not thresholds:
        return "CAST(0 AS BIGINT)"
    inside = " ".join(
        f"WHEN tier_bucket = {index} THEN {threshold + 1}" for index, threshold in enumerate(thresholds, 1)
    )
    return f"CAST(CASE {inside} ELSE 0 END AS BIGINT)"


_CACHE_FIELDS = ("cache_write_5m_tokens", "cache_write_1h_tokens", "cache_write_unsplit_tokens", "cache_read_tokens")


def raw_groups_sql(thresholds: Sequence[int], source: str = RECORDS) -> str:
    """The first step of `usage_rollup`: `usage_records` summed per raw group (day, model as written, service
    tier, geo, speed, result type, problem found in reading, cache use, prompt-tier bucket): integers only."""
    raw_keys = ", ".join(_GROUP_KEYS)
    sums = ", ".join(f"SUM({column}) AS {column}" for column in _GROUP_SUMS)
    level = _cached_level("cache_sum", "cache_write_1h_tokens")
    bucket = _tier_bucket("(input_tokens + cache_sum)", thresholds)
    return f"""SELECT {raw_keys}, {sums}, COUNT(*) AS records, SUM(request_count) AS request_count
FROM (
  SELECT *, {level} AS cached_level, {bucket} AS tier_bucket
  FROM (SELECT *, {" + ".join(_CACHE_FIELDS)} AS cache_sum FROM {source}) AS summed
) AS bucketed
GROUP BY {raw_keys}"""


ROLLUP_COUNTS = (*_SUMMED, "records", "request_count")
"""The integer sums of `usage_rollup` (HUGEINT on DuckDB)."""
ROLLUP_MONEY = _MONEY
"""Its money columns (DECIMAL)."""
ROLLUP_COLUMNS = (*ROLLUP_KEYS, *ROLLUP_COUNTS, *ROLLUP_MONEY)
"""The columns of `usage_rollup`, in order."""
ROLLUP_READ = tuple(column for column in ROLLUP_COLUMNS if column not in ("priced", "writes_5m_tokens", "cache_tokens"))
"""The columns the Python side reads (`estimator.bulk.actuals.priced_usage`): the rest serve `daily_sql`."""


def rollup_sql(scale: int, thresholds: Sequence[int], source: str = RECORDS, groups: str | None = None) -> str:
    """`usage_rollup`: the whole answer in a few thousand rows, whatever the input.

    1. One pass over the records sums their counts per raw group (`raw_groups_sql`, or `groups`: the same
       columns made another way, as `FastGroups` makes them).
    2. The groups (few) are judged and priced by the very steps that judge and price single records
       (`judged_sql`, `_costed`): prices are linear in the counts within a rates row, so pricing the sums
       equals summing the prices, exactly.
    3. The priced groups are summed per line key and problem. A problem's detail is the field it concerns (a
       bounded set): what makes its message (a model name nobody knows) comes with the samples."""
    grouped = groups if groups is not None else raw_groups_sql(thresholds, source)
    judged = f"({judged_sql(f'({grouped}) AS raw_groups', _inside_bucket(thresholds))})"
    rates = ", ".join(f"r.{column}" for column in rate_columns() if column not in ("model_id", "geo"))
    rates = rates.replace("r.prices_effective_from, ", "").replace("r.tier_above_tokens, ", "")
    rated = f"""(SELECT j.*, {_DETAIL} AS problem_detail, {rates} FROM {judged} AS j LEFT JOIN {RATES} AS r
  ON r.model_id = j.model_id AND r.geo = j.geo AND r.valid_from = j.rate_valid_from
  AND r.prompt_above_tokens = j.rate_prompt_above) AS rated"""
    keys = ", ".join(ROLLUP_KEYS)
    counts = ROLLUP_COUNTS
    money = [column for column in _MONEY if not column.startswith("what_if")]
    what_ifs = [column for column in _MONEY if column.startswith("what_if")]
    totals = [f"SUM({column}) AS {column}" for column in (*counts, *money)]
    totals += [f"CASE WHEN COUNT({column}) = COUNT(*) THEN SUM({column}) END AS {column}" for column in what_ifs]
    return f"""SELECT {keys}, {", ".join(totals)}
FROM ({_costed(rated, scale)}) AS priced_groups
GROUP BY {keys}"""


# --- the fast path: a flat table's records summed per one integer key --------------------------------------

FAST_KEY = "usage_fast_key"
_EPOCH = "DATE '1970-01-01'"

FAST_COUNT_LIMIT = 2**31 - 1
"""The largest count the fast path sums (a request's counts are far below it; a larger one, as in a table of
daily totals, takes the per-record path). With fewer than `FAST_GROUP_RECORDS` records in a group, no sum
of such counts can pass 2^63, so the sums may run in 64-bit integers (`FastGroups.groups_sql`)."""
FAST_GROUP_RECORDS = 2**32


@dataclass(frozen=True)
class _KeyField:
    """One field of the fast key, `bits` wide at `shift`: a raw spelling (code i + 1 for `spellings[i]`,
    decoded to `decoded[i]`), or a small number computed from the counts (`spellings` empty)."""

    name: str
    bits: int
    shift: int = 0
    spellings: tuple[str | None, ...] = ()
    decoded: tuple[str | None, ...] = ()

    def code(self, expression: str) -> str:
        """The spelling's code, shifted into place; NULL for a spelling not listed.

        `list_position` finds NULL too (DuckDB matches a NULL to a NULL element; were it not to, such records
        would take the per-record path, exact either way). Looking the shifted code up in a second constant
        list (`[...][i]`: `list_extract(...)` is slower, measured) keeps the expression a function of one
        column, which DuckDB evaluates once per entry of a Parquet dictionary rather than once per record;
        NULL goes last in the list (first, it cost a sixth more, measured)."""
        spellings = _list(self.spellings)
        codes = "[" + ", ".join(str(index << self.shift) for index in range(1, len(self.spellings) + 1)) + "]"
        return f"{codes}[list_position({spellings}, {expression})]"

    def number(self, key: str) -> str:
        return f"CAST(({key} >> {self.shift}) & {(1 << self.bits) - 1} AS INTEGER)"

    def decode(self, key: str) -> str:
        return f"list_extract(CAST({_list(self.decoded)} AS VARCHAR[]), {self.number(key)})"


def _null_last(spellings: Iterable[str | None]) -> tuple[str | None, ...]:
    listed = tuple(spellings)
    return tuple(value for value in listed if value is not None) + ((None,) if None in listed else ())


def _list(values: Sequence[str | None]) -> str:
    return "[" + ", ".join("NULL" if value is None else _text(value) for value in values) + "]"


@dataclass(frozen=True)
class FastGroups:
    """A flat table's first rollup step, fast: each record's raw group (model as written, day, service tier,
    geo, speed, cache use, prompt-tier bucket) packed into one BIGINT, the counts summed per key, and the
    keys decoded, on the few thousand groups, into the columns `raw_groups_sql` gives.

    Only a record that passes every check of the reader gets a key: the checks are the same `_count` rules
    (and a count must be present). A record with a bad or missing count, or a spelling outside the lists (a
    model the table does not spell that way, a service tier the pricer refuses), gets NULL and goes through
    the per-record path (`slow_source`), which finds its problem. On a Parquet file whose statistics rule out
    bad counts, DuckDB folds the checks away."""

    key: str
    """The key of a record of `with_cache(source)` (NULL: the per-record path)."""
    cache: str
    """The sum of the record's cache counts (0 when the table has none), as `usage_fast_cache`."""
    summed: tuple[tuple[str, str], ...]
    """(field, column): the counts the table has."""
    fields: tuple[_KeyField, ...]
    day_shift: int
    undated: bool

    def with_cache(self, source: str) -> str:
        """The source's rows with `usage_fast_cache` (the level and the prompt tier both use it: summed once)."""
        return f"(SELECT *, {self.cache} AS usage_fast_cache FROM {source}) AS cached"

    def groups_sql(self, source: str, summing: str = "SUM") -> str:
        """The source's records summed per key (with the NULL key: the records the per-record path reads).
        `summing` may be DuckDB's `sum_no_overflow` (64-bit sums, no overflow check): exact when no group
        holds `FAST_GROUP_RECORDS` records or more (every count is at most `FAST_COUNT_LIMIT`), which the
        caller checks on the result."""
        sums = ", ".join(f"{summing}({column}) AS {field}" for field, column in self.summed)
        keyed = f"(SELECT {self.key} AS {FAST_KEY}, * FROM {self.with_cache(source)}) AS keyed"
        return f"SELECT {FAST_KEY}, COUNT(*) AS records, {sums} FROM {keyed} GROUP BY {FAST_KEY}"

    def slow_source(self, source: str) -> str:
        """The source's records without a key."""
        return f"(SELECT * FROM {self.with_cache(source)} WHERE ({self.key}) IS NULL)"

    def decoded_sql(self, table: str) -> str:
        """The keyed groups of `table` (made by `groups_sql`) as `raw_groups_sql`'s columns, in its order."""
        field = {item.name: item for item in self.fields}
        summed = {name for name, _ in self.summed}
        requests = "requests" if "requests" in summed else "records"
        columns = {
            "result_type": "'succeeded'",
            "read_problem": "CAST(NULL AS VARCHAR)",
            "read_problem_field": "CAST(NULL AS VARCHAR)",
            "day": f"CAST({_EPOCH} + CAST({FAST_KEY} >> {self.day_shift} AS INTEGER) AS DATE)",
            "model_raw": field["model_raw"].decode(FAST_KEY),
            "service_tier_raw": field["service_tier_raw"].decode(FAST_KEY),
            "geo_raw": field["geo_raw"].decode(FAST_KEY),
            "speed_raw": field["speed_raw"].decode(FAST_KEY),
            "undated": "TRUE" if self.undated else "FALSE",
            "batch_tier_given": "CAST(NULL AS VARCHAR)",
            "cached_level": field["cached_level"].number(FAST_KEY),
            "tier_bucket": field["tier_bucket"].number(FAST_KEY),
            "requests": requests,
        }
        columns |= {name: name if name in summed else "CAST(0 AS BIGINT)" for name in COUNT_FIELDS}
        columns |= {"records": "records", "request_count": requests}
        select = ", ".join(f"{value} AS {name}" for name, value in columns.items())
        return f"SELECT {select} FROM {table} WHERE {FAST_KEY} IS NOT NULL"


CODED_FIELDS = ("model", "service_tier", "inference_geo", "speed")
"""The text fields of the fast key: each spelling listed in `key_spellings` is a code in the key."""


def key_spellings(model_spellings: Sequence[str], default_model: str | None) -> dict[str, tuple[str | None, ...]]:
    """The spellings the fast key lists for each text field, in order (a record's code is its spelling's
    position, from 1): `fast_groups` builds its key from them, and an engine that computes the codes itself
    (`coded`) must use the same lists."""
    models: list[str | None] = list(model_spellings)
    if default_model is not None:  # a record without a model is the default model's, as the reader reads it
        models += ["", None]
    return {
        "model": tuple(models),
        "service_tier": _null_last(SERVICE_TIERS),
        "inference_geo": _null_last(GEOS),
        "speed": _null_last(SPEEDS),
    }


def fast_groups(
    columns: FlatColumns,
    *,
    model_spellings: Sequence[str],
    thresholds: Sequence[int],
    default_day: dt.date,
    default_model: str | None,
    limit: int,
    coded: Mapping[str, str] | None = None,
    within_limits: frozenset[str] = frozenset(),
) -> FastGroups | None:
    """The fast first step for a flat table whose counts are integer columns and whose day is a date or
    timestamp column (Parquet, as warehouses write it), or None: other tables (text counts of CSV and
    JSON, an unsplit cache-creation total per row) take the per-record path whole.

    `model_spellings` are the model names the key encodes (the price table's, as `usage_model_names`
    holds them); a record whose model is written otherwise takes the per-record path. `coded` names, for
    some of `CODED_FIELDS`, a column holding each record's code already (its spelling's position in
    `key_spellings`, from 1; 0 or NULL when not listed): an engine that can compute it once per dictionary entry
    of an in-memory column spares the scan a string look-up per record. `within_limits` names the count
    fields the engine knows to hold no NULL and only values from 0 to `FAST_COUNT_LIMIT` (from a column's
    minimum and maximum): their checks are left out of the key, as DuckDB leaves out a Parquet file's by its
    statistics."""
    found = columns.found
    count_fields = (*COUNT_FIELDS, "requests")
    if "cache_creation_input_tokens" in found:
        return None
    if any(found[field][1] != "int" for field in count_fields if field in found):
        return None
    texts = ("model", "service_tier", "inference_geo", "speed", "result_type")
    if any(found[field][1] != "string" for field in texts if field in found):
        return None
    if "day" in found and found["day"][1] not in ("date", "timestamp"):
        return None
    if "input_tokens" not in found or "output_tokens" not in found:
        return None  # the per-record path names the missing column

    def column(field: str) -> str | None:
        return _quote(found[field][0]) if field in found else None

    def text(field: str) -> str:
        return column(field) or "CAST(NULL AS VARCHAR)"

    checks = []
    if "result_type" in found:  # a succeeded request (as the reader reads the column: absent means succeeded)
        checks.append(f"{text('result_type')} IS NULL OR {text('result_type')} = 'succeeded'")
    for field in count_fields:
        name = column(field)
        if name is not None and field not in within_limits:  # present, a whole number in range
            checks.append(f"{name} IS NOT NULL AND {_count(name, 'int', limit, field).usable}")
            checks.append(f"{name} <= {FAST_COUNT_LIMIT}")
    thinking, output = column("thinking_tokens"), column("output_tokens")
    if thinking is not None and output is not None:
        checks.append(f"NOT ({_thinking_exceeds_output(thinking, output)})")
    spellings = key_spellings(model_spellings, default_model)
    decoded_models: list[str | None] = list(model_spellings)
    if default_model is not None:
        decoded_models += [default_model, default_model]
    bucket_bits = len(thresholds).bit_length()
    layout = [
        _KeyField("tier_bucket", bucket_bits),
        _KeyField("cached_level", 2),
        _KeyField("speed_raw", 0, spellings=spellings["speed"]),
        _KeyField("geo_raw", 0, spellings=spellings["inference_geo"]),
        _KeyField("service_tier_raw", 0, spellings=spellings["service_tier"]),
        _KeyField("model_raw", 0, spellings=spellings["model"], decoded=tuple(decoded_models)),
    ]
    fields: list[_KeyField] = []
    shift = 0
    for item in layout:
        bits = item.bits or len(item.spellings).bit_length()
        decoded = item.decoded or item.spellings
        fields.append(_KeyField(item.name, bits, shift, item.spellings, decoded))
        shift += bits
    if shift > 31:  # a day (int32) shifted past the fields must fit a BIGINT
        return None
    placed = {item.name: item for item in fields}

    def counted(field: str) -> str | None:
        """A count as the per-record path reads it: a BIGINT (a 32-bit column's sum could overflow)."""
        name = column(field)
        return None if name is None else f"CAST({name} AS BIGINT)"

    cache_counts = [name for name in map(counted, _CACHE_FIELDS) if name is not None]
    cache = " + ".join(cache_counts) or "CAST(0 AS BIGINT)"
    one_hour = counted("cache_write_1h_tokens")
    level = _cached_level("usage_fast_cache" if cache_counts else None, one_hour, 1 << placed["cached_level"].shift)
    bucket = _tier_bucket(
        f"({counted('input_tokens')} + usage_fast_cache)", thresholds, 1 << placed["tier_bucket"].shift
    )
    day = _day(column("day") or "", found["day"][1])[0] if "day" in found else _date(default_day)
    given_codes = coded or {}

    def code(field: str, placed_field: _KeyField) -> str:
        """The field's code in place: looked up in its spellings, or read from the engine's code column."""
        if field in given_codes:  # 0: a spelling not listed
            return f"(CAST(NULLIF({_quote(given_codes[field])}, 0) AS BIGINT) * {1 << placed_field.shift})"
        return placed_field.code(text(field))

    parts = [
        f"({day} - {_EPOCH}) * {1 << shift}",
        code("model", placed["model_raw"]),
        code("service_tier", placed["service_tier_raw"]),
        code("inference_geo", placed["geo_raw"]),
        code("speed", placed["speed_raw"]),
        f"({level})",
        f"({bucket})",
    ]
    key = " + ".join(parts)
    if checks:
        key = f"CASE WHEN {' AND '.join(f'({check})' for check in checks)} THEN {key} END"
    summed = tuple((name, column(name) or "") for name in count_fields if column(name) is not None)
    return FastGroups(key, cache, summed, tuple(fields), shift, undated="day" not in found)


SAMPLE_GROUP_FIELDS = (
    "read_problem_field", "model_raw", "day", "service_tier_raw", "geo_raw", "speed_raw", "cached",
)  # fmt: skip
"""With the problem (or the result type), what decides a problem's message: a sample's group."""

_SAMPLE_GROUP = ", ".join(("COALESCE(problem, result_type)", *SAMPLE_GROUP_FIELDS))
"""What decides a problem's message: its records are listed together (the first few of each group)."""


def samples_sql(per_group: int, per_kind: int = 10_000) -> str:
    """The first records (by file and row) of each kind of problem and of each not-billed result type: up
    to `per_group` for each distinct message, and `per_kind` in all for a kind; `group_records` counts all
    the records of the sample's group (what decides its message), so a message's count is exact."""
    kind = "COALESCE(problem, result_type)"
    columns = (
        "source_file, source_row, custom_id, result_type, problem, read_problem_field, model_raw, model_id, day, "
        "service_tier_raw, geo_raw, speed_raw, service_tier, geo, speed, tier_above_tokens, cached, prompt_tokens"
    )
    return f"""SELECT {columns}, problem_detail, group_records
FROM (
  SELECT *, {_DETAIL} AS problem_detail,
    COUNT(*) OVER (PARTITION BY {_SAMPLE_GROUP}) AS group_records,
    row_number() OVER (PARTITION BY {_SAMPLE_GROUP} ORDER BY source_file, source_row) AS in_group,
    row_number() OVER (PARTITION BY {kind}, {_DETAIL} ORDER BY source_file, source_row) AS in_kind
  FROM {JUDGED}
  WHERE problem IS NOT NULL OR result_type <> 'succeeded'
) AS ranked
WHERE in_group <= {per_group} AND in_kind <= {per_kind}
ORDER BY source_file, source_row"""


_BILLED_MODE = "CASE WHEN service_tier = 'batch' THEN 'batch' WHEN speed = 'fast' THEN 'fast' ELSE 'standard' END"
_CATEGORY_SUMS = {
    "uncached_input": ("input_tokens", "uncached_input_usd"),
    "cache_write_5m": ("writes_5m_tokens", "cache_write_5m_usd"),
    "cache_write_1h": ("cache_write_1h_tokens", "cache_write_1h_usd"),
    "cache_read": ("cache_read_tokens", "cache_read_usd"),
    "output": ("output_tokens", "output_usd"),
    "web_search": ("web_search_requests", "web_search_usd"),
}


def daily_sql() -> str:
    """The actual cost per (day, model, mode, geo, category) from `usage_rollup`: tokens (searches for
    web_search) and USD."""
    tokens = " ".join(f"WHEN '{name}' THEN {count}" for name, (count, _) in _CATEGORY_SUMS.items())
    usd = " ".join(f"WHEN '{name}' THEN {money}" for name, (_, money) in _CATEGORY_SUMS.items())
    categories = ", ".join(f"('{name}')" for name in _CATEGORY_SUMS)
    return f"""SELECT day, model_id, {_BILLED_MODE} AS mode, geo AS inference_geo, categories.category,
  SUM(CASE categories.category {tokens} END) AS tokens,
  SUM(CASE categories.category {usd} END) AS usd
FROM {ROLLUP} CROSS JOIN (VALUES {categories}) AS categories(category)
WHERE priced
GROUP BY day, model_id, {_BILLED_MODE}, geo, categories.category"""


def daily_what_if_sql() -> str:
    """The actual cost per (day, model, mode, geo) beside the same usage repriced in each of the four modes
    (NULL when some of it has no price in that mode), from `usage_rollup`."""
    what_ifs = ", ".join(
        f"CASE WHEN COUNT({column}) = COUNT(*) THEN SUM({column}) END AS {column}"
        for column in _MONEY
        if column.startswith("what_if")
    )
    return f"""SELECT day, model_id, {_BILLED_MODE} AS mode, geo AS inference_geo, SUM(records) AS records,
  SUM(requests) AS requests, SUM(total_usd) AS total_usd, {what_ifs}
FROM {ROLLUP}
WHERE priced
GROUP BY day, model_id, {_BILLED_MODE}, geo"""
