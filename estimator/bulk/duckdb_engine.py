"""DuckDB, embedded: the pricing SQL run on one machine, memory bounded by DuckDB's own limits.

`memory_limit` caps what DuckDB holds in RAM; beyond it, joins and aggregates spill to `temp_directory`
(a fresh directory under the system's temp dir unless given), so the memory used depends on the settings,
not on the size of the data. Parquet is scanned in place (with its row numbers); CSV and JSON files are
first copied into DuckDB tables in file order, which numbers their rows.

DuckDB is imported when an engine is created, never when `estimator` is.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from estimator.bulk.inputs import InputFile, InputKind, flat_json_keys, group_by_kind
from estimator.bulk.rates import ModelName, RateRow, tier_thresholds
from estimator.bulk.sql import (
    CODED_FIELDS,
    COUNT_FIELDS,
    FAST_COUNT_LIMIT,
    FAST_GROUP_RECORDS,
    FAST_KEY,
    JSON_SCHEMA,
    JUDGED,
    MODEL_NAMES,
    PRICED,
    RATES,
    RECORDS,
    RECORDS_UNNUMBERED,
    ROLLUP,
    ROLLUP_COUNTS,
    ROLLUP_MONEY,
    ROLLUP_READ,
    FastGroups,
    FlatColumns,
    TypeClass,
    fast_groups,
    flat_records_sql,
    json_records_sql,
    judged_sql,
    key_spellings,
    longest_iterations_sql,
    model_names_sql,
    priced_sql,
    rate_columns,
    rate_types,
    rate_values,
    raw_groups_sql,
    rollup_sql,
    samples_sql,
)
from estimator.usage.errors import UsageFileError
from estimator.usage.readers import MAX_REPORT_TOKENS, MAX_REQUEST_TOKENS

__all__ = ["ARROW_ROW_COLUMN", "DEFAULT_MEMORY_LIMIT", "DuckDBEngine", "duckdb_type_class"]

DEFAULT_MEMORY_LIMIT = "1GB"
"""DuckDB's RAM budget for a run: enough to price billions of rows (the rollup is small), and well under the
2 GB the benchmark allows for the whole process."""

ARROW_ROW_COLUMN = "usage_row_number"
"""The column of an Arrow table (`DuckDBEngine.load_arrow`) that numbers its rows, when it has one."""
_ARROW_TABLE = "usage_arrow"
_ARROW_NUMBERED = "usage_arrow_numbered"
_ARROW_CODED = "usage_arrow_coded"
_CODE_COLUMN = "usage_code_{field}"
_NOT_NUMBERED = "the Arrow table's rows are not numbered yet: call DuckDBEngine.number_arrow_rows() first"

_PROGRESS_SECONDS = 0.25
_LINE_ORDER = (
    "day, model_id, service_tier, cached > 0, speed, geo, tier_above_tokens NULLS FIRST, cache_write_1h_tokens > 0"
)
"""The order of `estimator.bulk.actuals`' lines (day, model, tier, mode, speed, geo, prompt tier), in SQL."""

Progress = Callable[[float], None]
"""on_progress(fraction done, 0.0–1.0) while a query runs."""


def duckdb_type_class(type_name: str) -> TypeClass:
    """What a DuckDB column type means for reading counts and dates."""
    name = type_name.upper()
    if name in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return "int"
    if name in ("HUGEINT", "UHUGEINT"):
        return "decimal"
    if name in ("FLOAT", "DOUBLE", "REAL"):
        return "float"
    if name.startswith("DECIMAL"):
        return "decimal"
    if name == "VARCHAR":
        return "string"
    if name == "DATE":
        return "date"
    if name.startswith("TIMESTAMP"):
        return "timestamp"
    if name == "BOOLEAN":
        return "bool"
    return "other"


def _duckdb_schema(node: object) -> str:
    if node is None:
        return "VARCHAR"
    if isinstance(node, list):
        return _duckdb_schema(node[0]) + "[]"
    if isinstance(node, dict):
        fields = ", ".join(f'"{key}" {_duckdb_schema(value)}' for key, value in node.items())
        return f"STRUCT({fields})"
    raise TypeError(node)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class _Part:
    """The records of one group of files, as the queries read them."""

    numbered: str
    """`usage_records` with file and row (samples, records)."""
    unnumbered: str
    """The same records without file and row (what the rollup reads: Parquet scans faster without them)."""
    fast: FastGroups | None = None
    fast_source: str = ""
    """The raw rows `fast` keys."""
    slow: str = ""
    """`usage_records` of the rows `fast` leaves without a key."""


@dataclass(frozen=True)
class _ArrowSource:
    """What `DuckDBEngine.load_arrow` loaded, kept to number its rows later."""

    data: Any
    columns: FlatColumns
    default_day: dt.date
    source: str
    numbered: bool


def _dictionary_codes(
    data: Any, columns: FlatColumns, spellings: Mapping[str, Sequence[str | None]]
) -> tuple[Any, dict[str, str]]:
    """`data` with, for each dictionary-encoded text column of the fast key, a column of its records' codes
    (`sql.key_spellings`: the position from 1, 0 when not listed, which the key reads as NULL), found once
    per dictionary entry and spread by the entries' indices at C speed: the scan then reads an integer, not
    a string to look up (on Arrow, DuckDB looks each record's string up: on ten million records that was
    half the scan's time, measured). A NULL record takes the code of NULL's place in the list. Without
    NumPy the strings are looked up as before."""
    try:
        import numpy
    except ImportError:
        return data, {}
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    coded: dict[str, str] = {}
    for field in CODED_FIELDS:
        found = columns.found.get(field)
        if found is None or found[1] != "string":
            continue
        values = data.column(found[0])
        kind = values.type
        if not pa.types.is_dictionary(kind) or not pa.types.is_string(kind.value_type):
            continue
        listed = pa.array(spellings[field], type=pa.string())
        null_code = spellings[field].index(None) + 1 if None in spellings[field] else 0
        # Codes as small as the list allows: a tenth of a second of fresh memory less on ten million rows.
        width = numpy.int8 if len(spellings[field]) < 127 else numpy.int32
        chunks = []
        for chunk in values.chunks:
            found_at = pc.index_in(chunk.dictionary, value_set=listed, skip_nulls=False)
            per_entry: Any = numpy.asarray(pc.fill_null(found_at, -1).to_numpy(), dtype=width) + 1
            indices = chunk.indices
            # The indices' own buffer, read in place: a NULL record's slot holds any valid-looking number.
            positions = numpy.frombuffer(
                indices.buffers()[1], dtype=indices.type.to_pandas_dtype(), count=len(indices) + indices.offset
            )[indices.offset :]
            if len(per_entry):  # "clip": a NULL record's slot may hold a number past the entries
                codes = numpy.take(per_entry, positions, mode="clip")
            else:
                codes = numpy.zeros(len(positions), dtype=width)
            if chunk.null_count:
                numpy.copyto(codes, width(null_code), where=pc.is_null(indices).to_numpy(zero_copy_only=False))
            chunks.append(pa.array(codes))
        name = _CODE_COLUMN.format(field=field)
        data = data.append_column(name, pa.chunked_array(chunks, type=pa.from_numpy_dtype(width)))
        coded[field] = name
    return data, coded


def _counts_within_limits(data: Any, columns: FlatColumns) -> frozenset[str]:
    """The count fields of an Arrow table with no NULL and every value from 0 to `FAST_COUNT_LIMIT`, by the
    column's minimum and maximum (computed at C speed): the fast key need not check them record by record."""
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    within: set[str] = set()
    for field in (*COUNT_FIELDS, "requests"):
        found = columns.found.get(field)
        if found is None or found[1] != "int":
            continue
        values = data.column(found[0])
        if values.null_count:
            continue
        extremes = pc.min_max(values).as_py()
        low, high = extremes["min"], extremes["max"]
        if low is None or (isinstance(low, int) and isinstance(high, int) and low >= 0 and high <= FAST_COUNT_LIMIT):
            within.add(field)  # (an empty column: nothing to check)
    return frozenset(within)


def _arrow_rows(relation: str, row: str, source: str | None) -> str:
    """A registered Arrow table's rows with the `source_file` and `source_row` the record queries read."""
    where = "CAST(NULL AS VARCHAR)" if source is None else _literal(source)
    return f"(SELECT *, {where} AS source_file, {row} AS source_row FROM {relation})"


class DuckDBEngine:
    """One DuckDB connection pricing one set of files (use as a context manager, or call `close`)."""

    name = "duckdb"
    _arrow: _ArrowSource | None = None
    """The table `load_arrow` loaded (None for files)."""
    _viewed = False
    """Whether the views over the records are defined (`_views`)."""

    def __init__(
        self,
        *,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        temp_directory: str | None = None,
        threads: int | None = None,
        fast: bool = True,
    ) -> None:
        """`fast=False` sums every record through the per-record path (the tests compare both)."""
        try:
            import duckdb
        except ImportError:
            raise UsageFileError(
                "the DuckDB engine needs the duckdb package: pip install 'claude-cost-planner[bulk]'"
            ) from None
        self._duckdb = duckdb
        self._own_temp = temp_directory is None
        self.temp_directory = temp_directory or tempfile.mkdtemp(prefix="claude-cost-duckdb-")
        config: dict[str, Any] = {
            "memory_limit": memory_limit,
            "temp_directory": self.temp_directory,
            "preserve_insertion_order": True,
        }
        if threads is not None:
            config["threads"] = threads
        try:
            self.con = duckdb.connect(config=config)
            # Progress is read by `query_progress()` from a watcher thread, never printed by DuckDB.
            self.con.execute(
                "SET TimeZone = 'UTC'; SET enable_progress_bar = true; SET enable_progress_bar_print = false"
            )
        except duckdb.Error as error:
            self._cleanup()
            raise UsageFileError(f"DuckDB could not start: {_first_line(error)}") from None
        self._staged = 0
        self._fast = fast
        self._parts: list[_Part] = []
        self._scale = 0
        self._thresholds: tuple[int, ...] = ()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        if self._own_temp:
            shutil.rmtree(self.temp_directory, ignore_errors=True)

    # --- loading ---------------------------------------------------------------------------------------

    def load(
        self,
        files: Sequence[InputFile],
        rows: Sequence[RateRow],
        names: Sequence[ModelName],
        scale: int,
        *,
        default_day: dt.date,
        default_model: str | None,
    ) -> None:
        """Register the rates, the model names and the files (`usage_priced` over them is defined when a query
        reads it; the rollup is defined when asked for: its fast path decides on what it finds)."""
        self._load_tables(rows, names, scale)
        spellings = [name.name_key for name in names]
        for kind, group in group_by_kind(files).items():
            self._parts += self._records(
                kind, group, default_day=default_day, default_model=default_model, spellings=spellings
            )
        self._ready_queries()

    def load_arrow(
        self,
        data: Any,
        rows: Sequence[RateRow],
        names: Sequence[ModelName],
        scale: int,
        *,
        default_day: dt.date,
        source: str,
        numbered: bool = False,
    ) -> None:
        """`load` for usage held in memory: `data` is a pyarrow Table of flat usage columns (named as in
        `FLAT_ALIASES`), which DuckDB reads where it lies (no copy), as it reads a Parquet file: typed
        columns are summed per key in one scan, and the rows without a key go through the per-record path.

        Its rows are listed as `source`, numbered by its `ARROW_ROW_COLUMN` with `numbered=True` (a table some
        of whose rows were set aside), else from 1 in the table's order once `number_arrow_rows()` has been
        called: pricing needs no numbers, and a column of them costs 8 bytes a row, so they are made only
        when rows are listed (`samples` and `records` fail with that remedy before)."""
        self._load_tables(rows, names, scale)
        self._register(_ARROW_TABLE, data)
        not_yet = f"CAST(error({_literal(_NOT_NUMBERED)}) AS BIGINT)"
        numbered_rows = _arrow_rows(_ARROW_TABLE, ARROW_ROW_COLUMN if numbered else not_yet, source)
        unnumbered = _arrow_rows(_ARROW_TABLE, "CAST(NULL AS BIGINT)", None)
        columns = self._columns(numbered_rows)
        spellings = self._spellings_in(_ARROW_TABLE, columns) or [name.name_key for name in names]
        with_codes, coded = _dictionary_codes(data, columns, key_spellings(spellings, None))
        checked = _counts_within_limits(data, columns)
        if coded:  # the scan reads the codes; the per-record path and the listings read the table as given
            self._register(_ARROW_CODED, with_codes)
            unnumbered = _arrow_rows(_ARROW_CODED, "CAST(NULL AS BIGINT)", None)
        self._parts = [
            self._typed_part(
                columns,
                numbered_rows,
                unnumbered,
                default_day=default_day,
                default_model=None,
                spellings=spellings,
                coded=coded,
                within_limits=checked,
            )
        ]
        self._arrow = _ArrowSource(data, columns, default_day, source, numbered)
        self._ready_queries()

    def number_arrow_rows(self) -> None:
        """Number the rows of `load_arrow`'s table from 1, in its order, for `samples` and `records` (once; a
        table that came with `ARROW_ROW_COLUMN` needs nothing)."""
        arrow = self._arrow
        if arrow is None:
            raise UsageFileError("number_arrow_rows() numbers the table of load_arrow(): none was loaded")
        if arrow.numbered:
            return
        import pyarrow  # type: ignore[import-untyped,unused-ignore]  # the table's own library
        import pyarrow.compute  # type: ignore[import-untyped,unused-ignore]

        try:
            import numpy  # C speed and one buffer: 1..n without a temporary column

            numbers = pyarrow.array(numpy.arange(1, arrow.data.num_rows + 1, dtype=numpy.int64))
        except ImportError:
            ones = pyarrow.compute.fill_null(pyarrow.nulls(arrow.data.num_rows, pyarrow.int64()), 1)
            numbers = pyarrow.compute.cumulative_sum(ones)
        self._register(_ARROW_NUMBERED, arrow.data.append_column(ARROW_ROW_COLUMN, numbers))
        numbered = _arrow_rows(_ARROW_NUMBERED, ARROW_ROW_COLUMN, arrow.source)
        records = self._flat(arrow.columns, numbered, default_day=arrow.default_day, default_model=None)
        self._views()
        self._run(f"CREATE OR REPLACE TEMP VIEW {RECORDS} AS {records}")
        self._arrow = replace(arrow, numbered=True)

    def _load_tables(self, rows: Sequence[RateRow], names: Sequence[ModelName], scale: int) -> None:
        """The rates and the model names every query joins, and what the rollup needs of them."""
        self._load_rates(rows, scale)
        self._run(f"CREATE TEMP TABLE {MODEL_NAMES} AS {model_names_sql(names)}")
        self._scale, self._thresholds = scale, tier_thresholds(rows)

    def _ready_queries(self) -> None:
        """Ready the queries: the views over the records are defined when a query reads them (`_views`)."""
        # Staging needed the file order and rows carry their numbers: the queries need no order (DuckDB then
        # streams with less memory).
        self._run("SET preserve_insertion_order = false")

    def _views(self) -> None:
        """`usage_records` (numbered and not) over the loaded parts, then the judged and priced records, once,
        for the queries that read them (samples, records): the rollup reads the parts itself, and defining the
        views takes half of `load`'s time (~18 ms, measured), which a job without problems never needs."""
        if self._viewed:
            return
        self._run(f"CREATE TEMP VIEW {RECORDS} AS " + " UNION ALL ".join(f"({p.numbered})" for p in self._parts))
        unnumbered = " UNION ALL ".join(f"({part.unnumbered})" for part in self._parts)
        self._run(f"CREATE TEMP VIEW {RECORDS_UNNUMBERED} AS {unnumbered}")
        self._run(f"CREATE TEMP VIEW {JUDGED} AS {judged_sql()}")
        self._run(f"CREATE TEMP VIEW {PRICED} AS {priced_sql(self._scale)}")
        self._viewed = True

    def _register(self, name: str, data: Any) -> None:
        """An in-memory Arrow table as a relation DuckDB reads where it lies."""
        try:
            self.con.register(name, data)
        except self._duckdb.Error as error:
            raise self._failure(error) from None

    def _spellings_in(self, relation: str, columns: FlatColumns) -> list[str]:
        """The model spellings of `relation` that the price table knows, the most frequent first. The fast key
        finds each record's model in this list: a short list, in that order, costs a record a comparison or
        two rather than one per spelling of the table (a quarter of the scan's CPU time on ten million Arrow
        rows, measured; Parquet is spared it, the key being computed once per dictionary entry)."""
        found = columns.found.get("model")
        if found is None or found[1] != "string":
            return []
        model = '"' + found[0].replace('"', '""') + '"'
        counted = f"SELECT {model} AS name_key, COUNT(*) AS records FROM {relation} GROUP BY {model}"
        known = f"SELECT name_key FROM {MODEL_NAMES}"
        rows = self._run(
            f"SELECT name_key FROM ({counted}) WHERE name_key IN ({known}) ORDER BY records DESC, name_key"
        ).fetchall()
        return [str(row[0]) for row in rows]

    def _typed_part(
        self,
        columns: FlatColumns,
        numbered: str,
        unnumbered: str,
        *,
        default_day: dt.date,
        default_model: str | None,
        spellings: Sequence[str],
        coded: Mapping[str, str] | None = None,
        within_limits: frozenset[str] = frozenset(),
    ) -> _Part:
        """A typed flat table's records (Arrow, as Parquet): keyed for the fast path when its columns allow
        (`coded`: the text fields whose codes `unnumbered` holds, see `sql.fast_groups`)."""
        part = _Part(
            self._flat(columns, numbered, default_day=default_day, default_model=default_model),
            self._flat(columns, unnumbered, default_day=default_day, default_model=default_model),
        )
        fast = fast_groups(
            columns,
            model_spellings=spellings,
            thresholds=self._thresholds,
            default_day=default_day,
            default_model=default_model,
            limit=MAX_REPORT_TOKENS,
            coded=coded,
            within_limits=within_limits,
        )
        if fast is None:
            return part
        slow = self._flat(columns, fast.slow_source(unnumbered), default_day=default_day, default_model=default_model)
        return _Part(part.numbered, part.unnumbered, fast, unnumbered, slow)

    def _load_rates(self, rows: Sequence[RateRow], scale: int) -> None:
        """`usage_rates` from the same values as `rates_sql`'s VALUES list, through a CSV file DuckDB reads
        with the columns' types: exact (DECIMAL parsed from the text) and ten times faster to load than
        thousands of literals (measured)."""
        descriptor, path = tempfile.mkstemp(suffix=".csv", prefix="usage-rates-")
        try:
            with open(descriptor, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                for values in rate_values(rows):
                    writer.writerow([_csv_cell(value) for value in values])
            types = ", ".join(
                f"{_literal(name)}: {_literal(kind)}"
                for name, kind in zip(rate_columns(), rate_types(scale), strict=True)
            )
            options = f"header = false, delim = ',', quote = '\"', nullstr = '', columns = {{{types}}}"
            reader = f"read_csv({_literal(path)}, {options})"
            self._run(f"CREATE TEMP TABLE {RATES} AS SELECT * FROM {reader}")
        finally:
            with contextlib.suppress(OSError):
                os.remove(path)

    def _records(
        self,
        kind: InputKind,
        group: list[InputFile],
        *,
        default_day: dt.date,
        default_model: str | None,
        spellings: Sequence[str],
    ) -> list[_Part]:
        """The records of a group of files of one kind: Parquet scanned in place (and keyed for the fast
        path when its columns allow), CSV and JSON staged in file order."""
        paths = "[" + ", ".join(_literal(item.path) for item in group) + "]"
        if kind == "parquet":
            numbered = (
                f"(SELECT *, filename AS source_file, file_row_number + 1 AS source_row FROM read_parquet({paths}, "
                "filename = true, file_row_number = true, union_by_name = true))"
            )
            unnumbered = (
                "(SELECT *, CAST(NULL AS VARCHAR) AS source_file, CAST(NULL AS BIGINT) AS source_row "
                f"FROM read_parquet({paths}, union_by_name = true))"
            )
            columns = self._columns(numbered)
            typed = self._typed_part(
                columns, numbered, unnumbered, default_day=default_day, default_model=default_model, spellings=spellings
            )
            return [typed]
        selects = []
        for item in group:
            if kind == "csv":
                reader = f"read_csv({_literal(item.path)}, header = true, all_varchar = true)"
            elif kind == "json_flat":
                keys = flat_json_keys(item.path)
                columns_spec = "{" + ", ".join(f"{_literal(key)}: 'VARCHAR'" for key in keys) + "}"
                reader = f"read_json({_literal(item.path)}, columns = {columns_spec}, format = 'auto')"
            else:
                spec = "{" + ", ".join(f"{_literal(k)}: {_literal(_duckdb_schema(v))}" for k, v in JSON_SCHEMA.items())
                reader = f"read_json({_literal(item.path)}, columns = {spec}}}, format = 'auto')"
            source = self._stage(item, reader)
            if kind == "json_usage":
                longest = self._run(longest_iterations_sql(source)).fetchone()
                select = json_records_sql(
                    default_day=default_day,
                    default_model=default_model,
                    limit=MAX_REQUEST_TOKENS,
                    max_iterations=int(longest[0]) if longest else 0,
                    source=source,
                )
            else:
                select = self._flat(self._columns(source), source, default_day=default_day, default_model=default_model)
            selects.append(_Part(select, select))
        return selects

    def _flat(self, columns: FlatColumns, source: str, *, default_day: dt.date, default_model: str | None) -> str:
        missing = columns.missing_required()
        if missing:
            raise UsageFileError(
                f"a flat usage table needs columns {', '.join(missing)} (found: "
                f"{', '.join(name for name, _ in columns.found.values()) or 'none of the usage columns'})"
            )
        return flat_records_sql(
            columns, default_day=default_day, default_model=default_model, limit=MAX_REPORT_TOKENS, source=source
        )

    def _columns(self, source: str) -> FlatColumns:
        described = self._run(f"DESCRIBE SELECT * FROM {source}").fetchall()
        return FlatColumns.match((str(row[0]), duckdb_type_class(str(row[1]))) for row in described)

    def _stage(self, item: InputFile, reader: str) -> str:
        """Copy a CSV or JSON file into a table in file order: its rowid is then the row's place in the file."""
        self._staged += 1
        name = f"usage_staged_{self._staged}"
        self._run(f"CREATE TEMP TABLE {name} AS SELECT * FROM {reader}", item.path)
        return f"(SELECT *, {_literal(item.path)} AS source_file, rowid + 1 AS source_row FROM {name})"

    # --- queries -----------------------------------------------------------------------------------------

    def rollup(self, on_progress: Progress | None = None) -> list[dict[str, Any]]:
        """`usage_rollup`: the first step (records summed per raw group) runs here, keyed where it can be,
        then the few thousand groups are judged and priced."""
        with self._progress(on_progress):
            groups = self._groups()
            # Read once, as written (no view to bind again), and only the columns the Python side reads.
            rollup = rollup_sql(self._scale, self._thresholds, groups=groups)
            # DECIMAL travels as text, parsed in Python: the same values, digit for digit, in half the time
            # DuckDB's own conversion takes; the HUGEINT counts as BIGINT, a quarter faster again (measured
            # on the rollup's few thousand rows), and as text in the rare rollup whose sums do not fit.
            money = dict.fromkeys(ROLLUP_MONEY, Decimal)
            try:
                return self._rows(self.con.execute(self._rollup_select(rollup, money, "BIGINT")), money)
            except self._duckdb.ConversionException:  # a sum past 2^63 - 1
                counts = money | dict.fromkeys(ROLLUP_COUNTS, int)
                return self._fetch(self._rollup_select(rollup, counts, "VARCHAR"), counts)
            except self._duckdb.Error as error:
                raise self._failure(error) from None

    @staticmethod
    def _rollup_select(rollup: str, parsed: Mapping[str, Callable[[str], Any]], counts_as: str) -> str:
        """The columns the Python side reads: those in `parsed` as text, the other counts as `counts_as`."""
        columns = []
        for name in ROLLUP_READ:
            if name in parsed:
                columns.append(f"CAST({name} AS VARCHAR) AS {name}")
            elif name in ROLLUP_COUNTS:
                columns.append(f"CAST({name} AS {counts_as}) AS {name}")
            else:
                columns.append(name)
        # In the order of the lines `priced_usage` makes (it sorts them again, so the order is only for speed):
        # the rows' values, made in this order, then lie in memory in the order the lines are read, and the
        # Python side's passes over thousands of lines take a third less time, summarize's a half (measured).
        return f"SELECT {', '.join(columns)} FROM ({rollup}) AS {ROLLUP} ORDER BY {_LINE_ORDER}"

    def _groups(self) -> str:
        """The records summed per raw group: each keyed part summed per key in one scan (into a small table),
        and every record without a key (or in a part that cannot be keyed) through the per-record path."""
        selects: list[str] = []
        slow: list[str] = []
        summing = self._summing() if any(part.fast is not None for part in self._parts) else "SUM"
        for index, part in enumerate(self._parts):
            if part.fast is None or not self._fast:
                slow.append(part.unnumbered)
                continue
            table = f"usage_fast_groups_{index + 1}"
            try:
                self._run(f"CREATE OR REPLACE TEMP TABLE {table} AS {part.fast.groups_sql(part.fast_source, summing)}")
            except UsageFileError:
                if summing == "SUM":
                    raise
                # The records without a key are summed too (and not used): a count near 2^63 among them can
                # overflow 64-bit sums. Sum in 128 bits instead.
                summing = "SUM"
                self._run(f"CREATE OR REPLACE TEMP TABLE {table} AS {part.fast.groups_sql(part.fast_source)}")
            unkeyed, largest = self._run(
                f"SELECT COUNT(*) FILTER (WHERE {FAST_KEY} IS NULL), COALESCE(MAX(records), 0) FROM {table}"
            ).fetchall()[0]
            if summing != "SUM" and largest >= FAST_GROUP_RECORDS:  # 64-bit sums could have wrapped: sum again
                self._run(f"CREATE OR REPLACE TEMP TABLE {table} AS {part.fast.groups_sql(part.fast_source)}")
            selects.append(part.fast.decoded_sql(table))
            if unkeyed:
                slow.append(part.slow)
        if slow:
            records = " UNION ALL ".join(f"({select})" for select in slow)
            selects.append(raw_groups_sql(self._thresholds, f"({records}) AS slow_records"))
        return " UNION ALL ".join(f"({select})" for select in selects)

    def _summing(self) -> str:
        """DuckDB's `sum_no_overflow` where it has one (64-bit sums: a sixth faster on the fast path than
        `SUM`'s 128-bit ones, measured), else `SUM`."""
        try:
            self.con.execute("SELECT sum_no_overflow(CAST(1 AS BIGINT))").fetchall()
        except self._duckdb.Error:
            return "SUM"
        return "sum_no_overflow"

    def samples(self, per_kind: int) -> list[dict[str, Any]]:
        self._views()
        return self._fetch(samples_sql(per_kind))

    def records(self, columns: Sequence[str] = ("*",)) -> list[dict[str, Any]]:
        """Every priced record (for tests and small inputs: this holds them all in memory)."""
        self._views()
        return self._fetch(f"SELECT {', '.join(columns)} FROM {PRICED} ORDER BY source_file, source_row")

    def export_records(self, path: str) -> None:
        """Write every priced record to a Parquet file (streamed by DuckDB)."""
        self._views()
        self._run(f"COPY (SELECT * FROM {PRICED}) TO {_literal(path)} (FORMAT PARQUET)")

    def _fetch(self, sql: str, parsers: Mapping[str, Callable[[str], Any]] | None = None) -> list[dict[str, Any]]:
        """The rows as dicts, the columns named in `parsers` parsed from their text."""
        return self._rows(self._run(sql), parsers)

    @staticmethod
    def _rows(cursor: Any, parsers: Mapping[str, Callable[[str], Any]] | None = None) -> list[dict[str, Any]]:
        names = [column[0] for column in cursor.description or ()]
        rows = cursor.fetchall()
        parsed = [(index, parsers[name]) for index, name in enumerate(names) if parsers and name in parsers]
        result = []
        for row in rows:
            values = list(row)
            for index, parse in parsed:
                if values[index] is not None:
                    values[index] = parse(values[index])
            result.append(dict(zip(names, values, strict=True)))
        return result

    @contextmanager
    def _progress(self, on_progress: Progress | None) -> Iterator[None]:
        """Report the running query's progress from a watcher thread while the block runs."""
        if on_progress is None:
            yield
            return
        done = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(on_progress, done), daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()
            on_progress(1.0)

    def _watch(self, on_progress: Progress, done: threading.Event) -> None:
        while not done.wait(_PROGRESS_SECONDS):
            percent = self.con.query_progress()
            if percent >= 0:
                on_progress(min(percent, 100.0) / 100)

    def _run(self, sql: str, path: str | None = None) -> Any:
        try:
            return self.con.execute(sql)
        except self._duckdb.Error as error:
            raise self._failure(error, path) from None

    @staticmethod
    def _failure(error: BaseException, path: str | None = None) -> UsageFileError:
        where = f"{path}: " if path else ""
        return UsageFileError(
            f"{where}DuckDB could not read the usage: {_first_line(error)} (the Python engine, --engine python, "
            "reads line by line and names each bad line)"
        )


def _csv_cell(value: object) -> str:
    """A rates-table value as CSV text (empty: NULL; no value of the table is an empty string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    text = str(value)
    if not text:
        raise AssertionError("an empty string in the rates table would read back as NULL")
    return text


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
