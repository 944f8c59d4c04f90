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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from estimator.bulk.inputs import InputFile, InputKind, flat_json_keys, group_by_kind
from estimator.bulk.rates import ModelName, RateRow, tier_thresholds
from estimator.bulk.sql import (
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

__all__ = ["DEFAULT_MEMORY_LIMIT", "DuckDBEngine", "duckdb_type_class"]

DEFAULT_MEMORY_LIMIT = "1GB"
"""DuckDB's RAM budget for a run: enough to price billions of rows (the rollup is small), and well under the
2 GB the benchmark allows for the whole process."""

_PROGRESS_SECONDS = 0.25

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


class DuckDBEngine:
    """One DuckDB connection pricing one set of files (use as a context manager, or call `close`)."""

    name = "duckdb"

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
        """Register the rates, the model names and the files, and define `usage_priced` over them (the
        rollup is defined when asked for: its fast path decides on what it finds)."""
        self._load_rates(rows, scale)
        self._run(f"CREATE TEMP TABLE {MODEL_NAMES} AS {model_names_sql(names)}")
        self._scale, self._thresholds = scale, tier_thresholds(rows)
        spellings = [name.name_key for name in names]
        for kind, group in group_by_kind(files).items():
            self._parts += self._records(
                kind, group, default_day=default_day, default_model=default_model, spellings=spellings
            )
        self._run(f"CREATE TEMP VIEW {RECORDS} AS " + " UNION ALL ".join(f"({p.numbered})" for p in self._parts))
        unnumbered = " UNION ALL ".join(f"({part.unnumbered})" for part in self._parts)
        self._run(f"CREATE TEMP VIEW {RECORDS_UNNUMBERED} AS {unnumbered}")
        # Staging needed the file order; the queries do not (DuckDB then streams with less memory).
        self._run("SET preserve_insertion_order = false")
        self._run(f"CREATE TEMP VIEW {JUDGED} AS {judged_sql()}")
        self._run(f"CREATE TEMP VIEW {PRICED} AS {priced_sql(scale)}")

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
            )
            if fast is None:
                return [part]
            slow = self._flat(
                columns, fast.slow_source(unnumbered), default_day=default_day, default_model=default_model
            )
            return [_Part(part.numbered, part.unnumbered, fast, unnumbered, slow)]
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
            # DECIMAL and HUGEINT travel as text, parsed in Python: the same values, digit for digit, in half
            # the time DuckDB's own conversion takes (measured on the rollup's few thousand rows).
            parsers = dict.fromkeys(ROLLUP_MONEY, Decimal) | dict.fromkeys(ROLLUP_COUNTS, int)
            columns = [f"CAST({name} AS VARCHAR) AS {name}" if name in parsers else name for name in ROLLUP_READ]
            return self._fetch(f"SELECT {', '.join(columns)} FROM ({rollup}) AS {ROLLUP}", parsers)

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
        return self._fetch(samples_sql(per_kind))

    def records(self, columns: Sequence[str] = ("*",)) -> list[dict[str, Any]]:
        """Every priced record (for tests and small inputs: this holds them all in memory)."""
        return self._fetch(f"SELECT {', '.join(columns)} FROM {PRICED} ORDER BY source_file, source_row")

    def export_records(self, path: str) -> None:
        """Write every priced record to a Parquet file (streamed by DuckDB)."""
        self._run(f"COPY (SELECT * FROM {PRICED}) TO {_literal(path)} (FORMAT PARQUET)")

    def _fetch(self, sql: str, parsers: Mapping[str, Callable[[str], Any]] | None = None) -> list[dict[str, Any]]:
        """The rows as dicts, the columns named in `parsers` parsed from their text."""
        cursor = self._run(sql)
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
            where = f"{path}: " if path else ""
            raise UsageFileError(
                f"{where}DuckDB could not read the usage: {_first_line(error)} (the Python engine, --engine python, "
                "reads line by line and names each bad line)"
            ) from None


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
