"""Price usage on a Spark cluster: the entry point for `spark-submit`.

    spark-submit --master yarn estimator/bulk/spark_job.py \\
        s3a://logs/claude/usage/ --output s3a://reports/claude-costs/2026-11/ --as-of 2026-11-30

Reads Parquet (default), CSV or JSON usage (flat rows, or batch results / responses with `--input-format
json-usage`) from any path Spark reads, prices every record with the same SQL as DuckDB (exact DECIMAL), and
writes under `--output`:

    daily/      Parquet: cost per day, model, mode (standard, batch, fast), geo and category, with tokens
    what_if/    Parquet: cost per day, model, mode and geo beside the same usage in the four modes
    records/    Parquet, with `--records`: every record with its costs, or the problem that left it out
    summary.json  the `python -m estimator actual --format json` document (under summary/ on object storage)

The pricing runs entirely in Spark SQL: executors need no Python package; the driver needs this package
(`pip install claude-cost-planner[spark]`, or `--py-files` with its wheel). Exit code: 0 every record
priced, 1 some records could not be priced (listed in the summary), 2 the input could not be read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from estimator.bulk.actuals import SAMPLES_PER_KIND, priced_usage
from estimator.bulk.inputs import InputKind, discover
from estimator.bulk.rates import model_names, rate_rows, rate_scale
from estimator.bulk.spark_engine import EXACT_SPARK_CONF, SparkEngine
from estimator.bulk.sql import PRICED, daily_sql, daily_what_if_sql
from estimator.errors import EstimatorError
from estimator.usage.actuals import summarize
from estimator.usage.report import actual_costs_to_dict
from pricing import PricingError, load_price_table

__all__ = ["main"]

_FORMATS: dict[str, InputKind] = {
    "parquet": "parquet",
    "csv": "csv",
    "json": "json_flat",
    "json-usage": "json_usage",
}
_REMOTE = ("s3://", "s3a://", "gs://", "abfss://", "hdfs://", "wasbs://", "file:")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spark_job.py",
        description="Price Claude usage records on Spark, exactly (DECIMAL), with the planner's price table.",
        allow_abbrev=False,
    )
    parser.add_argument("inputs", nargs="+", help="files or directories (local, s3a://, gs://, abfss://, hdfs://)")
    parser.add_argument("--output", required=True, help="directory for daily/, what_if/, records/, summary.json")
    parser.add_argument(
        "--input-format",
        choices=("auto", *_FORMATS),
        default="auto",
        help="auto reads local files' first bytes; object storage defaults to parquet",
    )
    parser.add_argument("--model", default=None, help="model of rows that name none")
    parser.add_argument("--as-of", default=None, metavar="DATE", help="date of undated rows (default today)")
    parser.add_argument("--records", action="store_true", help="also write every priced record")
    return parser


def main(argv: Sequence[str] | None = None, *, spark: Any | None = None, out: TextIO | None = None) -> int:
    """Run the job (a SparkSession is taken from `spark-submit`, or given); see the module docstring."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
        return _run(args, as_of, spark, out)
    except (EstimatorError, PricingError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, as_of: dt.date, spark: Any | None, out: TextIO) -> int:
    table = load_price_table()
    rows = rate_rows(table)
    session = spark if spark is not None else _session()
    engine = SparkEngine(session)
    try:
        engine.load_paths(
            _kinds(args.inputs, args.input_format),
            rows,
            model_names(table),
            rate_scale(rows),
            default_day=as_of,
            default_model=args.model,
        )
        output = args.output.rstrip("/")
        engine.write(daily_sql(), f"{output}/daily")
        engine.write(daily_what_if_sql(), f"{output}/what_if")
        if args.records:
            engine.write(f"SELECT * FROM {PRICED}", f"{output}/records")
        rollup = engine.rollup()
        needs_samples = any(row["problem"] is not None or row["result_type"] != "succeeded" for row in rollup)
        samples = engine.samples(SAMPLES_PER_KIND) if needs_samples else []
    finally:
        engine.close()
    priced = priced_usage(rollup, samples, rows, table=table, default_day=as_of, default_model=args.model)
    result = summarize(priced, table, tuple(args.inputs))
    document = json.dumps(actual_costs_to_dict(result), indent=2, default=str)
    _write_summary(session, output, document)
    out.write(document + "\n")
    return 0 if result.fully_priced else 1


def _session() -> Any:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("claude-cost-planner")
    for key, value in EXACT_SPARK_CONF.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _kinds(inputs: Sequence[str], input_format: str) -> dict[InputKind, list[str]]:
    if input_format != "auto":
        return {_FORMATS[input_format]: list(inputs)}
    remote = [path for path in inputs if path.startswith(_REMOTE)]
    kinds: dict[InputKind, list[str]] = {"parquet": remote} if remote else {}
    local = [path for path in inputs if not path.startswith(_REMOTE)]
    for item in discover(local) if local else ():
        kinds.setdefault(item.kind, []).append(item.path)
    return kinds


def _write_summary(spark: Any, output: str, document: str) -> None:
    if output.startswith(_REMOTE):
        spark.createDataFrame([(document,)], "value string").coalesce(1).write.mode("overwrite").text(
            f"{output}/summary"
        )
        return
    Path(output).mkdir(parents=True, exist_ok=True)
    (Path(output) / "summary.json").write_text(document + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
