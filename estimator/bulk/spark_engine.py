"""Apache Spark: the same pricing SQL, transpiled from DuckDB's dialect by `sqlglot`, on a SparkSession.

Locally (`local[2]` in the tests) or on a cluster (`spark_job.py`, through `spark-submit`), over Parquet,
CSV or JSON anywhere Spark reads (local paths, `s3a://`, `gs://`, `abfss://`, HDFS). Parquet rows carry their
row number (`_metadata.row_index`); Spark gives none for CSV and JSON, so their problems name the file only.

The session is given (`spark=`) or created; either way the engine sets the two SQL options exactness needs:
`spark.sql.decimalOperations.allowPrecisionLoss=false` (Spark would otherwise round products of wide
DECIMALs) and `spark.sql.ansi.enabled=true` (an overflow is an error, never a NULL), and the session time
zone to UTC (dates are UTC calendar days, as in the Python reader).

PySpark is imported when an engine is created, never when `estimator` is.
"""

from __future__ import annotations

import datetime as dt
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
    ROLLUP,
    FlatColumns,
    TypeClass,
    flat_records_sql,
    json_records_sql,
    judged_sql,
    longest_iterations_sql,
    priced_sql,
    rate_columns,
    rate_types,
    rate_values,
    rollup_sql,
    samples_sql,
    to_spark,
)
from estimator.usage.errors import UsageFileError
from estimator.usage.readers import MAX_REPORT_TOKENS, MAX_REQUEST_TOKENS
from pricing.files import open_regular_file

__all__ = [
    "EXACT_SPARK_CONF",
    "LOCAL_SPARK_CONF",
    "SMALL_DATA_CONF",
    "SparkEngine",
    "local_session",
    "spark_type_class",
]

EXACT_SPARK_CONF = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
}
"""Runtime SQL options the pricing needs on any session (set by the engine)."""

LOCAL_SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.showConsoleProgress": "false",
}
"""A small, quiet local session bound to 127.0.0.1 only (tests, and `--engine spark` on one machine)."""

SMALL_DATA_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}
"""For small inputs (the tests): no code generation. Compiling the Java Spark generates for the pricing
query's expressions took ~30 s per query on two cores (measured), more than pricing a few thousand records
takes interpreted (~2 s). On 10 million records code generation wins (27 s against 59 s, measured), so a
local session keeps it unless asked (`local_session(codegen=False)`). `factoryMode` is an internal Spark
option (Spark falls back to it by itself when code generation fails)."""

Progress = Callable[[float], None]


def local_session(master: str = "local[2]", *, codegen: bool = True) -> Any:
    """A local SparkSession with `LOCAL_SPARK_CONF` (and `SMALL_DATA_CONF` without `codegen`). Needs Java:
    `scripts/install-java` installs it."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageFileError(
            "the Spark engine needs the pyspark package: pip install 'claude-cost-planner[spark]'"
        ) from None
    builder = SparkSession.builder.master(master).appName("claude-cost-planner")
    settings = {**LOCAL_SPARK_CONF, **EXACT_SPARK_CONF, **({} if codegen else SMALL_DATA_CONF)}
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # py4j raises plain exceptions when the JVM cannot start (no Java)
        raise UsageFileError(f"Spark could not start (is Java installed? scripts/install-java): {error}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_type_class(data_type: Any) -> TypeClass:
    """What a Spark column type means for reading counts and dates."""
    name = type(data_type).__name__
    if name in ("LongType", "IntegerType", "ShortType", "ByteType"):
        return "int"
    if name in ("DoubleType", "FloatType"):
        return "float"
    if name == "DecimalType":
        return "decimal"
    if name in ("StringType", "VarcharType", "CharType"):
        return "string"
    if name == "DateType":
        return "date"
    if name in ("TimestampType", "TimestampNTZType"):
        return "timestamp"
    if name == "BooleanType":
        return "bool"
    return "other"


def _spark_schema(node: object) -> Any:
    from pyspark.sql.types import ArrayType, StringType, StructField, StructType

    if node is None:
        return StringType()
    if isinstance(node, list):
        return ArrayType(_spark_schema(node[0]))
    if isinstance(node, dict):
        return StructType([StructField(key, _spark_schema(value)) for key, value in node.items()])
    raise TypeError(node)


class SparkEngine:
    """The pricing SQL on a SparkSession (given, or a local one made and stopped by this engine)."""

    name = "spark"

    def __init__(self, spark: Any | None = None) -> None:
        self._own = spark is None
        self.spark = spark if spark is not None else local_session()
        for key, value in EXACT_SPARK_CONF.items():
            self.spark.conf.set(key, value)
        self._views = 0

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for index in range(1, self._views + 1):
            self.spark.catalog.dropTempView(f"usage_input_{index}")
        for view in (ROLLUP, PRICED, JUDGED, RECORDS, RATES, MODEL_NAMES):
            self.spark.catalog.dropTempView(view)
        if self._own:
            self.spark.stop()

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
        paths = {kind: [item.path for item in group] for kind, group in group_by_kind(files).items()}
        self.load_paths(paths, rows, names, scale, default_day=default_day, default_model=default_model)

    def load_paths(
        self,
        paths_by_kind: dict[InputKind, list[str]],
        rows: Sequence[RateRow],
        names: Sequence[ModelName],
        scale: int,
        *,
        default_day: dt.date,
        default_model: str | None,
    ) -> None:
        """As `load`, for paths Spark reads itself (object storage): their kind is given, not sniffed."""
        self._tables(rows, names, scale)
        selects = []
        for kind, paths in paths_by_kind.items():
            selects += self._records(kind, paths, default_day, default_model)
        self._view(RECORDS, " UNION ALL ".join(f"SELECT * FROM ({select}) AS part" for select in selects))
        self._view(JUDGED, judged_sql())
        self._view(PRICED, priced_sql(scale))
        # The rollup is small and every output is read from it: computed once, kept.
        self._sql(rollup_sql(scale, tier_thresholds(rows))).cache().createOrReplaceTempView(ROLLUP)

    def _tables(self, rows: Sequence[RateRow], names: Sequence[ModelName], scale: int) -> None:
        """The rates and the model names as small cached DataFrames (built from the same rows as DuckDB's
        VALUES list; Spark analyses a DataFrame far faster than thousands of literals)."""
        types = [kind.replace("VARCHAR", "STRING") for kind in rate_types(scale)]
        schema = ", ".join(f"{name} {kind}" for name, kind in zip(rate_columns(), types, strict=True))
        self.spark.createDataFrame(rate_values(rows), schema=schema).cache().createOrReplaceTempView(RATES)
        spelled = [(name.name_key, name.model_id) for name in names]
        frame = self.spark.createDataFrame(spelled, schema="name_key STRING, model_id STRING")
        frame.cache().createOrReplaceTempView(MODEL_NAMES)

    def _records(self, kind: InputKind, paths: list[str], default_day: dt.date, default_model: str | None) -> list[str]:
        from pyspark.sql import functions

        reader = self.spark.read
        if kind == "parquet":
            frame = reader.option("mergeSchema", "true").parquet(*paths)
            frame = frame.select(
                "*",
                functions.col("_metadata.file_path").alias("source_file"),
                (functions.col("_metadata.row_index") + 1).alias("source_row"),
            )
        else:
            if kind == "csv":
                frame = reader.option("header", "true").option("mode", "FAILFAST").csv(paths)
            else:
                shape = JSON_SCHEMA if kind == "json_usage" else _flat_json_schema(paths)
                schema = _spark_schema(shape)
                multiline = any(_starts_with_array(path) for path in paths)
                frame = reader.schema(schema).option("mode", "FAILFAST").option("multiLine", multiline).json(paths)
            frame = frame.select(
                "*",
                functions.col("_metadata.file_path").alias("source_file"),
                functions.lit(None).cast("long").alias("source_row"),
            )
        self._views += 1
        source = f"usage_input_{self._views}"
        frame.createOrReplaceTempView(source)
        if kind == "json_usage":
            longest = self._max_iterations(source)
            return [
                json_records_sql(
                    default_day=default_day,
                    default_model=default_model,
                    limit=MAX_REQUEST_TOKENS,
                    max_iterations=longest,
                    source=source,
                )
            ]
        columns = FlatColumns.match(
            (field.name, spark_type_class(field.dataType))
            for field in frame.schema.fields
            if field.name not in ("source_file", "source_row")
        )
        missing = columns.missing_required()
        if missing:
            raise UsageFileError(f"a flat usage table needs columns {', '.join(missing)}")
        return [
            flat_records_sql(
                columns, default_day=default_day, default_model=default_model, limit=MAX_REPORT_TOKENS, source=source
            )
        ]

    def _max_iterations(self, source: str) -> int:
        row = self._sql(longest_iterations_sql(source)).collect()
        return int(row[0][0]) if row else 0

    def _view(self, name: str, sql: str) -> None:
        self._sql(sql).createOrReplaceTempView(name)

    def _sql(self, duckdb_sql: str) -> Any:
        try:
            return self.spark.sql(to_spark(duckdb_sql))
        except Exception as error:  # pyspark's AnalysisException and friends
            raise UsageFileError(f"Spark could not read the usage: {_first_line(error)}") from None

    def write(self, duckdb_sql: str, path: str) -> None:
        """Write a query's result as Parquet (overwriting `path`), on the executors."""
        try:
            self._sql(duckdb_sql).write.mode("overwrite").parquet(path)
        except UsageFileError:
            raise
        except Exception as error:
            raise UsageFileError(f"Spark could not write {path}: {_first_line(error)}") from None

    def rollup(self, on_progress: Progress | None = None) -> list[dict[str, Any]]:
        rows = self._collect(f"SELECT * FROM {ROLLUP}")
        if on_progress is not None:
            on_progress(1.0)
        return rows

    def samples(self, per_kind: int) -> list[dict[str, Any]]:
        return [_local_path(row) for row in self._collect(samples_sql(per_kind))]

    def records(self, columns: Sequence[str] = ("*",)) -> list[dict[str, Any]]:
        rows = self._collect(f"SELECT {', '.join(columns)} FROM {PRICED} ORDER BY source_file, source_row")
        return [_local_path(row) for row in rows]

    def _collect(self, sql: str) -> list[dict[str, Any]]:
        try:
            return [row.asDict() for row in self._sql(sql).collect()]
        except UsageFileError:
            raise
        except Exception as error:
            raise UsageFileError(f"Spark could not price the usage: {_first_line(error)}") from None


def _flat_json_schema(paths: list[str]) -> dict[str, object]:
    """Text leaves for the usage keys the files hold (read from their first values)."""
    keys: dict[str, object] = {}
    for path in paths:
        keys.update(dict.fromkeys(flat_json_keys(path)))
    return keys


def _starts_with_array(path: str) -> bool:
    try:
        stream, _ = open_regular_file(path)  # found earlier, but it may have been swapped for a FIFO since
    except OSError:
        return False  # object storage (or no longer a file, which Spark then names): JSON Lines assumed
    with stream:
        return stream.read(4096).lstrip().startswith(b"[")


def _local_path(row: dict[str, Any]) -> dict[str, Any]:
    """Spark names files as URIs (file:/tmp/x); local ones are given back as plain paths."""
    source = row.get("source_file")
    if isinstance(source, str) and source.startswith("file:"):
        path = source.removeprefix("file:")
        row["source_file"] = "/" + path.lstrip("/") if path.startswith("/") else path
    return row


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
