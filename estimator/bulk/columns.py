"""Columns of usage priced by DuckDB: `estimator.usage.price_columns`' contract at engine speed.

    from estimator.bulk import price_columns_bulk, price_arrow_bulk
    priced = price_columns_bulk(models, days, input_tokens=inp, output_tokens=out, cache_read_tokens=reads)
    priced = price_arrow_bulk(arrow_table)  # columns named model, day, input_tokens, ... (as in a Parquet file)
    priced.total_usd, priced.category_usd, priced.problems  # a PricedUsage, as price_columns gives

`price_columns_bulk` takes what `price_columns` takes, one column per field, as Python lists, NumPy arrays or
pyarrow Arrays / ChunkedArrays; `price_arrow_bulk` takes a pyarrow Table whose columns carry the flat usage
names (`FLAT_ALIASES`: ours, or the SDK's such as `cache_read_input_tokens`). The columns become one Arrow
table (NumPy and Arrow integer columns without a copy), DuckDB reads it where it lies, and the file path's SQL
prices it: the records summed per key in one scan (`sql.FastGroups`), the few thousand groups priced by the
DECIMAL pricing SQL, the rollup turned into a `PricedUsage` by `actuals.priced_usage`.

Counts are checked here first, as `price_columns` checks them: a count that is not an int ≥ 0 (None, a bool,
a float, 1.0 and NaN included, a negative, text) refuses its row, named from 1 with its first bad field, in
`price_columns`' words. A float column (NumPy float64, Arrow double) is refused row by row, never truncated.
NumPy and Arrow integer columns of any width are counts (`price_columns` reads them as the Python ints they
hold, a list's worth of objects; here they stay arrays). Only the other rows reach DuckDB.

The same as `price_columns` on the same columns, `==` (`tests/test_bulk_columns.py` holds it):

- `total_usd`, `category_usd`, `tokens` and every line's figures: its key, sums, rate values, categories, total,
  unsplit-writes upper bound and what-ifs (and which modes have none);
- `requests_by_result`, `priced_records`, `unpriced_records`, `undated_records` (0), `default_day` (today),
  `not_billed`, `cost_rows` (none) and `what_if_model` (None);
- the refused counts: each row's problem (row, code, message), the first `MAX_LISTED` listed, the rest in
  `problems_not_listed`;
- the refusals of a key (an unknown model, a date before the model's first price, a service tier, geo or
  speed without a price): the same codes and messages, every refused record counted, the first row of each
  message named as its `line`.

Where it differs, and why:

- `lines` come in the engine's order (day, model, service tier, mode, then speed, geo, tier): `price_columns`
  breaks those ties by first appearance, which the engine does not track. Compare them sorted.
- a line's `rates` hold the same rates without their provenance notes (`provenance`, `derived_fields`), and
  a what-if's reason may name another day of the same rates range: `priced_usage` rebuilds both from the
  engine's rates table (so does `price_files_bulk`).
- a refusal's further rows ("also lines ...") are the engine's sample (up to ten per kind of record, not the
  first ten of the message); its count of records is exact, per message.
- warnings name no row (line 0) and count the records they concern, where `price_columns` names the first
  row and counts keys; the warnings themselves (code and message) are the same.
- the engine's reader refuses what no request carries, as it does in files: thinking tokens above output
  tokens (`inconsistent_thinking`) and a count above 10^15 (`count_too_large`); `price_columns` prices them.
- models must be text and days dates (or timestamps: their UTC day); service tiers, geos and speeds text or
  None. A column holding anything else is a `ColumnError` naming its first such row (`price_columns`
  refuses such a row, `invalid_key`, and prices the others).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from estimator.bulk.actuals import SAMPLES_PER_KIND, priced_usage
from estimator.bulk.rates import model_names, rate_rows, rate_scale
from estimator.bulk.sql import FlatColumns, TypeClass
from estimator.errors import EstimatorError
from estimator.usage.columns import all_counts, bad_count_problem
from estimator.usage.pricer import MAX_LISTED, PricedUsage
from estimator.usage.readers import MAX_REPORT_TOKENS
from estimator.usage.records import COUNT_FIELDS, UsageProblem
from pricing import PriceTable, load_price_table

__all__ = ["ColumnError", "price_arrow_bulk", "price_columns_bulk"]

_TEXT_FIELDS = ("model", "service_tier", "inference_geo", "speed")
_FIELDS = ("model", "day", "service_tier", "inference_geo", "speed", *COUNT_FIELDS)
"""The flat usage fields these functions read (`FLAT_ALIASES` names them)."""
_NOT_READ = ("result_type", "cache_creation_input_tokens")
"""Flat fields that change a row's price and that `price_columns` has no column for: refused, never ignored."""

_INT64_MAX = 2**63 - 1
_BEYOND_ANY_REQUEST = MAX_REPORT_TOKENS + 1
"""A count too large for a 64-bit integer enters as this: the engine refuses it (`count_too_large`) as it
refuses every count above `MAX_REPORT_TOKENS`."""


class ColumnError(EstimatorError):
    """A column cannot be priced at all (another length, values of the wrong kind, a missing column); the
    message names it, and `column` holds its name. Bad counts are not raised: their rows are refused."""

    def __init__(self, message: str, *, column: str) -> None:
        super().__init__(message)
        self.column = column


def price_columns_bulk(
    models: Sequence[str] | Any,
    days: Sequence[dt.date] | Any,
    *,
    input_tokens: Sequence[int] | Any,
    output_tokens: Sequence[int] | Any,
    cache_write_5m_tokens: Sequence[int] | Any | None = None,
    cache_write_1h_tokens: Sequence[int] | Any | None = None,
    cache_write_unsplit_tokens: Sequence[int] | Any | None = None,
    cache_read_tokens: Sequence[int] | Any | None = None,
    thinking_tokens: Sequence[int] | Any | None = None,
    web_search_requests: Sequence[int] | Any | None = None,
    web_fetch_requests: Sequence[int] | Any | None = None,
    requests: Sequence[int] | Any | None = None,
    service_tiers: Sequence[str | None] | Any | None = None,
    inference_geos: Sequence[str | None] | Any | None = None,
    speeds: Sequence[str | None] | Any | None = None,
    table: PriceTable | None = None,
    source: str = "<columns>",
    threads: int | None = None,
    memory_limit: str | None = None,
) -> PricedUsage:
    """Price usage given as columns, as `estimator.usage.price_columns` does, on DuckDB (row i of every
    column is one request; lists, NumPy arrays or pyarrow Arrays / ChunkedArrays, of equal lengths).

    A row with a count that is not an int ≥ 0 is refused with its row number (from 1); the figures equal
    `price_columns`' on the same columns, and the module docstring says where the result differs.
    `threads` and `memory_limit` are DuckDB's (default: every core, 1GB). Raises `ColumnError` for a column
    of another length or of values that are not counts, text or dates as the field needs.

        >>> from decimal import Decimal
        >>> priced = price_columns_bulk(["claude-sonnet-4-6"], [dt.date(2026, 11, 25)],
        ...                             input_tokens=[1000], output_tokens=[200])
        >>> priced.total_usd == Decimal("0.006")  # exact (the engine's DECIMAL keeps trailing zeros)
        True
    """
    rows = len(models)
    given: dict[str, tuple[str, Any]] = {}
    counts: list[Any] = [input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_write_unsplit_tokens]
    counts += [cache_read_tokens, output_tokens, thinking_tokens, web_search_requests, web_fetch_requests, requests]
    for field, values in zip(COUNT_FIELDS, counts, strict=True):
        if values is not None:
            given[field] = (field, _same_length(values, field, rows))
    given["day"] = ("days", _same_length(days, "days", rows))
    keys = (("service_tier", "service_tiers", service_tiers), ("inference_geo", "inference_geos", inference_geos))
    for field, name, values in (*keys, ("speed", "speeds", speeds)):
        if values is not None:
            given[field] = (name, _same_length(values, name, rows))
    given["model"] = ("models", models)
    return _price(given, rows, table=table, source=source, threads=threads, memory_limit=memory_limit)


def price_arrow_bulk(
    data: Any,
    *,
    table: PriceTable | None = None,
    source: str = "<table>",
    threads: int | None = None,
    memory_limit: str | None = None,
) -> PricedUsage:
    """`price_columns_bulk` on a pyarrow Table of flat usage rows: its columns are found by name as in a
    Parquet file (`model`, `day` or `created_at` ..., `input_tokens`, `cache_read_tokens` or the SDK's
    `cache_read_input_tokens`, ...; case-insensitive), and the others are ignored. A `result_type` or
    `cache_creation_input_tokens` column is refused (`ColumnError`): `price_columns` has no such column,
    and ignoring it would price errored requests or lose cache writes."""
    pa = _pyarrow()
    if not isinstance(data, pa.Table):
        raise ColumnError(f"price_arrow_bulk takes a pyarrow Table, not {type(data).__name__}", column="")
    untyped: list[tuple[str, TypeClass]] = [(name, "other") for name in data.column_names]
    found = FlatColumns.match(untyped).found
    for field in _NOT_READ:
        if field in found:
            name = found[field][0]
            raise ColumnError(
                f"column {name} is not read by price_arrow_bulk (every row is priced as a succeeded request with "
                "its cache writes in the split columns): filter or convert the table first, or price it as a "
                "Parquet file with price_files_bulk",
                column=name,
            )
    missing = [field for field in ("model", "day", "input_tokens", "output_tokens") if field not in found]
    if missing:
        raise ColumnError(
            f"the table needs columns {', '.join(missing)} (found: {', '.join(data.column_names) or 'none'})",
            column=missing[0],
        )
    given = {field: (found[field][0], data.column(found[field][0])) for field in _FIELDS if field in found}
    return _price(given, data.num_rows, table=table, source=source, threads=threads, memory_limit=memory_limit)


def _same_length(values: Any, name: str, rows: int) -> Any:
    if len(values) != rows:
        raise ColumnError(f"column {name} has {len(values):,} rows, models has {rows:,}", column=name)
    return values


# --- pricing ---------------------------------------------------------------------------------------------


def _price(
    given: dict[str, tuple[str, Any]],
    rows: int,
    *,
    table: PriceTable | None,
    source: str,
    threads: int | None,
    memory_limit: str | None,
) -> PricedUsage:
    """The columns checked and made one Arrow table, the rows with a bad count set aside, the rest priced by
    the engine; the refused rows' problems put back among the engine's."""
    pa = _pyarrow()
    prices = table or load_price_table()
    today = dt.date.today()  # price_columns' default day: the result carries it, no row is undated
    arrays: dict[str, Any] = {}
    counts: dict[str, _Counts] = {}
    for field, (name, values) in given.items():
        if field == "day":
            arrays[field] = _days(values, name)
        elif field in _TEXT_FIELDS:
            arrays[field] = _text(values, name, required=field == "model")
        else:
            counts[field] = _counts(values, name, rows)
            arrays[field] = counts[field].array
    for field in ("input_tokens", "output_tokens"):  # absent: 0 in every row, as price_columns reads it
        if field not in arrays:
            arrays[field] = _compute().fill_null(pa.nulls(rows, pa.int64()), 0)
    data = pa.table(arrays)
    refused = _Refused.of(counts, source)
    if refused.rows:
        data = refused.keep(data)
    rates = rate_rows(prices)
    rollup: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    if data.num_rows:
        from estimator.bulk.duckdb_engine import ARROW_ROW_COLUMN, DEFAULT_MEMORY_LIMIT, DuckDBEngine

        engine = DuckDBEngine(memory_limit=memory_limit or DEFAULT_MEMORY_LIMIT, threads=threads)
        with engine:
            engine.load_arrow(
                data,
                rates,
                model_names(prices),
                rate_scale(rates),
                default_day=today,
                source=source,
                numbered=ARROW_ROW_COLUMN in data.column_names,
            )
            rollup = engine.rollup()
            if any(row["problem"] is not None or row["result_type"] != "succeeded" for row in rollup):
                engine.number_arrow_rows()  # only now: rows are numbered for listing, never for pricing
                samples = engine.samples(SAMPLES_PER_KIND)
    priced = priced_usage(rollup, samples, rates, table=prices, default_day=today)
    return refused.put_back(priced)


@dataclass(frozen=True)
class _Refused:
    """The rows refused for a bad count: where they are (a BooleanArray over every row, or None) and the
    first `MAX_LISTED` of them as `price_columns` lists them."""

    mask: Any
    rows: int
    problems: tuple[UsageProblem, ...]

    @classmethod
    def of(cls, counts: dict[str, _Counts], source: str) -> _Refused:
        pc = _compute()
        masks = [column.bad for column in counts.values() if column.bad is not None]
        if not masks:
            return cls(None, 0, ())
        mask = masks[0]
        for other in masks[1:]:
            mask = pc.or_(mask, other)
        positions = pc.indices_nonzero(mask)
        listed = positions.slice(0, MAX_LISTED).to_pylist()
        ordered = [(field, counts[field]) for field in COUNT_FIELDS if field in counts]
        problems = tuple(_bad_count(index, ordered, source) for index in listed)
        return cls(mask, len(positions), problems)

    def keep(self, data: Any) -> Any:
        """The table without the refused rows, each other row numbered as it was given (from 1)."""
        from estimator.bulk.duckdb_engine import ARROW_ROW_COLUMN

        pa = _pyarrow()
        pc = _compute()
        kept = pc.invert(self.mask)
        numbers = pc.add(pc.cast(pc.indices_nonzero(kept), pa.int64()), 1)
        return data.filter(kept).append_column(ARROW_ROW_COLUMN, numbers)

    def put_back(self, priced: PricedUsage) -> PricedUsage:
        if not self.rows:
            return priced
        problems = sorted([*self.problems, *priced.problems], key=lambda p: (p.severity != "error", p.source, p.line))
        return replace(
            priced,
            problems=tuple(problems),
            problems_not_listed=priced.problems_not_listed + self.rows - len(self.problems),
            unpriced_records=priced.unpriced_records + self.rows,
        )


def _bad_count(index: int, ordered: Sequence[tuple[str, _Counts]], source: str) -> UsageProblem:
    """Row `index`'s problem in `price_columns`' words: its first bad count, in `COUNT_FIELDS` order."""
    for field, column in ordered:
        if column.bad is not None and column.bad[index].as_py():
            return bad_count_problem(source, index + 1, field, column.value(index))
    raise AssertionError(f"row {index + 1} refused without a bad count")


# --- the columns as Arrow ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
    """A count column for the engine (Arrow integers; a refused row's value there does not matter), the rows
    it refuses (a BooleanArray, None when none), and a row's value as `price_columns` reads it."""

    array: Any
    bad: Any
    value: Callable[[int], object]


def _counts(values: Any, name: str, rows: int) -> _Counts:
    pa = _pyarrow()
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return _arrow_counts(values)
    numpy = _numpy_array(values, name)
    if numpy is not None and numpy.dtype.kind != "O":
        return _numpy_counts(numpy)
    if numpy is not None:
        values = numpy.tolist()  # Python objects: each read as price_columns reads it
    return _list_counts(values if isinstance(values, list | tuple) else list(values))


def _arrow_counts(values: Any) -> _Counts:
    pa = _pyarrow()
    pc = _compute()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    kind = values.type
    if not pa.types.is_integer(kind):  # floats, bools, decimals, text: no row holds an int
        return _all_refused(len(values), lambda index: values[index].as_py())
    bad = None
    negative = pa.types.is_signed_integer(kind) and (pc.min(values).as_py() or 0) < 0
    if values.null_count or negative:
        bad = pc.fill_null(pc.less(values, 0), True)
    if kind == pa.uint64() and (pc.max(values).as_py() or 0) > _INT64_MAX:
        values = pc.cast(pc.min_element_wise(values, pa.scalar(_BEYOND_ANY_REQUEST, pa.uint64())), pa.int64())
    return _Counts(values, bad, lambda index: values[index].as_py())


def _numpy_counts(values: Any) -> _Counts:
    pa = _pyarrow()
    kind = values.dtype.kind
    if kind not in "iu":  # floats (1.0 and NaN), bools, text, dates: no row holds an int
        return _all_refused(len(values), lambda index: values[index].item())
    bad = None
    if kind == "i" and len(values) and values.min() < 0:
        bad = pa.array(values < 0)
    elif values.dtype.itemsize == 8 and kind == "u":  # 64-bit unsigned: as signed, without a copy when it fits
        if len(values) and values.max() > _INT64_MAX:
            values = values.clip(max=_BEYOND_ANY_REQUEST)
        values = values.view(values.dtype.str.replace("u", "i"))
    return _Counts(pa.array(values), bad, lambda index: values[index].item())


def _list_counts(values: Sequence[Any]) -> _Counts:
    """Python values: checked at C speed when all are ints ≥ 0 (`price_columns`' own check), else row by
    row."""
    pa = _pyarrow()
    if all_counts(values):
        return _Counts(_int64(values), None, values.__getitem__)
    flags = [type(value) is not int or value < 0 for value in values]
    usable = [0 if flag else value for flag, value in zip(flags, values, strict=True)]
    bad = pa.array(flags, type=pa.bool_()) if any(flags) else None
    return _Counts(_int64(usable), bad, values.__getitem__)


def _int64(values: Sequence[int]) -> Any:
    pa = _pyarrow()
    try:
        return pa.array(values, type=pa.int64())
    except OverflowError:  # past 64 bits: no request has so many; the engine refuses it as too large
        return pa.array([min(value, _BEYOND_ANY_REQUEST) for value in values], type=pa.int64())


def _all_refused(rows: int, value: Callable[[int], object]) -> _Counts:
    pa = _pyarrow()
    placeholder = pa.nulls(rows, pa.int64())  # every row is set aside: the engine never reads it
    return _Counts(placeholder, _compute().is_null(placeholder), value)


def _text(values: Any, name: str, *, required: bool) -> Any:
    """A key column as Arrow text (a dictionary-encoded column stays so: the engine reads it fastest)."""
    pa = _pyarrow()
    if isinstance(values, pa.Array | pa.ChunkedArray):
        kind = values.type
        inner = kind.value_type if pa.types.is_dictionary(kind) else kind
        if pa.types.is_null(kind) and not required:
            return pa.nulls(len(values), pa.string())
        if not (pa.types.is_string(inner) or pa.types.is_large_string(inner) or pa.types.is_string_view(inner)):
            raise ColumnError(f"column {name} must hold text, not {kind}", column=name)
        if required and values.null_count:
            _first_bad_row(name, values.to_pylist(), _is_text, "a model name")
        return values
    numpy = _numpy_array(values, name)
    if numpy is not None:
        if numpy.dtype.kind == "U":
            return pa.array(numpy)
        values = numpy.tolist()
    listed = values if isinstance(values, list | tuple) else list(values)
    allowed = {str} if required else {str, type(None)}
    if not allowed.issuperset(map(type, listed)):
        if required:
            _first_bad_row(name, listed, _is_text, "a model name")
        _first_bad_row(name, listed, lambda value: value is None or _is_text(value), "text or None")
    return pa.array(listed, type=pa.string())


def _days(values: Any, name: str) -> Any:
    """The days column as Arrow dates or timestamps (a timestamp's day is its UTC day, as in files)."""
    pa = _pyarrow()
    if isinstance(values, pa.Array | pa.ChunkedArray):
        if not (pa.types.is_date(values.type) or pa.types.is_timestamp(values.type)):
            raise ColumnError(f"column {name} must hold dates or timestamps, not {values.type}", column=name)
        if values.null_count:
            _first_bad_row(name, values.to_pylist(), _is_day, "a date")
        return values
    numpy = _numpy_array(values, name)
    if numpy is not None:
        if numpy.dtype.kind == "M":
            try:
                days = pa.array(numpy)
            except pa.ArrowNotImplementedError:  # a unit Arrow lacks (minutes, weeks, ...): seconds say the day
                days = pa.array(numpy.astype("datetime64[s]"))
            if days.null_count:
                _first_bad_row(name, days.to_pylist(), _is_day, "a date")
            return days
        values = numpy.tolist()
    listed = values if isinstance(values, list | tuple) else list(values)
    kinds = set(map(type, listed))
    if kinds <= {dt.date}:
        return pa.array(listed, type=pa.date32())
    if all(isinstance(value, dt.datetime) for value in listed):
        try:
            return pa.array(listed)
        except (pa.ArrowException, TypeError, ValueError) as error:  # e.g. naive and aware timestamps mixed
            raise ColumnError(f"column {name}: its timestamps cannot be read together ({error})", column=name) from None
    _first_bad_row(name, listed, _is_day, "a date")
    raise ColumnError(f"column {name} mixes dates and timestamps: give one kind", column=name)


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_day(value: object) -> bool:
    return isinstance(value, dt.date)


def _first_bad_row(name: str, values: Sequence[Any], good: Callable[[object], bool], expected: str) -> None:
    """Raise `ColumnError` naming the first row whose value is not `good` (returns when every row is)."""
    for index, value in enumerate(values):
        if not good(value):
            raise ColumnError(f"column {name}: row {index + 1} is {value!r}, not {expected}", column=name)


def _numpy_array(values: Any, name: str) -> Any | None:
    """`values` as a one-dimensional NumPy array when it is one (NumPy is imported by whoever made it)."""
    numpy = sys.modules.get("numpy")
    if numpy is None or not isinstance(values, numpy.ndarray):
        return None
    if values.ndim != 1:
        raise ColumnError(f"column {name} must be one-dimensional, not of shape {values.shape}", column=name)
    if isinstance(values, numpy.ma.MaskedArray):
        return numpy.array(values.tolist(), dtype=object)  # masked rows read as None
    return values


def _pyarrow() -> Any:
    try:
        import pyarrow  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise EstimatorError(
            "pricing columns on DuckDB needs pyarrow: pip install 'claude-cost-planner[bulk]'"
        ) from None
    return pyarrow


def _compute() -> Any:
    _pyarrow()
    import pyarrow.compute  # type: ignore[import-untyped,unused-ignore]

    return pyarrow.compute
