"""DuckDB, embedded: the pricing SQL run on one machine, memory bounded by DuckDB's own limits.

`memory_limit` caps what DuckDB holds in RAM; beyond it, joins and aggregates spill to `temp_directory`
(a fresh directory under the system's temp dir unless given), so the memory used depends on the settings,
not on the size of the data. Parquet is scanned in place (with its row numbers); CSV and JSON files are
first copied into DuckDB tables in file order, which numbers their rows.

DuckDB is imported when an engine is created, never when `estimator` is.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any

from estimator.bulk.inputs import InputFile, InputKind, flat_json_keys, group_by_kind
from estimator.bulk.rates import ModelName, RateRow, tier_thresholds
from estimator.bulk.sql import (
    JSON_SCHEMA,
    JUDGED,
    MODEL_NAMES,
    PRICED,
    RATES,
    RECORDS,
    RECORDS_UNNUMBERED,
    ROLLUP,
    FlatColumns,
    TypeClass,
    flat_records_sql,
    json_records_sql,
    judged_sql,
    longest_iterations_sql,
    model_names_sql,
    priced_sql,
    rates_sql,
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


class DuckDBEngine:
    """One DuckDB connection pricing one set of files (use as a context manager, or call `close`)."""

    name = "duckdb"

    def __init__(
        self,
        *,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        temp_directory: str | None = None,
        threads: int | None = None,
    ) -> None:
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
        """Register the rates, the model names and the files, and define `usage_priced` over them."""
        self._run(f"CREATE TEMP TABLE {RATES} AS {rates_sql(rows, scale)}")
        self._run(f"CREATE TEMP TABLE {MODEL_NAMES} AS {model_names_sql(names)}")
        selects: list[tuple[str, str]] = []
        for kind, group in group_by_kind(files).items():
            selects += self._records(kind, group, default_day=default_day, default_model=default_model)
        self._run(f"CREATE TEMP VIEW {RECORDS} AS " + " UNION ALL ".join(f"({full})" for full, _ in selects))
        self._run(f"CREATE TEMP VIEW {RECORDS_UNNUMBERED} AS " + " UNION ALL ".join(f"({fast})" for _, fast in selects))
        # Staging needed the file order; the queries do not (DuckDB then streams with less memory).
        self._run("SET preserve_insertion_order = false")
        self._run(f"CREATE TEMP VIEW {JUDGED} AS {judged_sql()}")
        self._run(f"CREATE TEMP VIEW {PRICED} AS {priced_sql(scale)}")
        self._run(f"CREATE TEMP VIEW {ROLLUP} AS {rollup_sql(scale, tier_thresholds(rows), RECORDS_UNNUMBERED)}")

    def _records(
        self, kind: InputKind, group: list[InputFile], *, default_day: dt.date, default_model: str | None
    ) -> list[tuple[str, str]]:
        """(with file and row, without) `usage_records` selects for a group of files of one kind: the totals
        need no row numbers, and Parquet is scanned faster without them."""
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
            flat = {"default_day": default_day, "default_model": default_model}
            return [(self._flat(columns, numbered, **flat), self._flat(columns, unnumbered, **flat))]  # type: ignore[arg-type]
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
            selects.append((select, select))
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
        return self._fetch(f"SELECT * FROM {ROLLUP}", on_progress)

    def samples(self, per_kind: int) -> list[dict[str, Any]]:
        return self._fetch(samples_sql(per_kind), None)

    def records(self, columns: Sequence[str] = ("*",)) -> list[dict[str, Any]]:
        """Every priced record (for tests and small inputs: this holds them all in memory)."""
        return self._fetch(f"SELECT {', '.join(columns)} FROM {PRICED} ORDER BY source_file, source_row", None)

    def export_records(self, path: str) -> None:
        """Write every priced record to a Parquet file (streamed by DuckDB)."""
        self._run(f"COPY (SELECT * FROM {PRICED}) TO {_literal(path)} (FORMAT PARQUET)")

    def _fetch(self, sql: str, on_progress: Progress | None) -> list[dict[str, Any]]:
        done = threading.Event()
        watcher = None
        if on_progress is not None:
            watcher = threading.Thread(target=self._watch, args=(on_progress, done), daemon=True)
            watcher.start()
        try:
            cursor = self._run(sql)
            names = [column[0] for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            done.set()
            if watcher is not None:
                watcher.join()
            if on_progress is not None:
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


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
