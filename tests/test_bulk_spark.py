"""Spark (local mode) prices the generated usage set exactly as the Python pricer and DuckDB do, from the
same SQL transpiled by sqlglot.

Spark needs Java: `scripts/test` installs Debian's headless JDK (`scripts/install-java`). On a workstation
without Java these tests skip, saying so; in CI (`CI` set) a missing Java is a failure, not a skip.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from estimator.bulk import price_files_bulk
from estimator.bulk.inputs import discover
from estimator.bulk.rates import model_names, rate_rows, rate_scale
from estimator.bulk.spark_engine import EXACT_SPARK_CONF, SparkEngine, local_session
from estimator.bulk.spark_job import main as spark_job_main
from tests.test_bulk_cases import (
    CATEGORY_COLUMNS,
    WHAT_IF_COLUMNS,
    assert_matches_oracle,
    oracle,
    results_jsonl,
    table,
    usage_rows,
    write_parquet,
)

AS_OF = dt.date(2026, 12, 1)
RECORD_COLUMNS = ["custom_id", "problem", "total_usd", "unsplit_write_extra_usd", "source_file", "source_row"]
RECORD_COLUMNS += list(CATEGORY_COLUMNS.values()) + list(WHAT_IF_COLUMNS.values())

if not os.environ.get("CI"):  # in CI both must be there: a missing one fails the tests below
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java, not installed here (scripts/install-java installs it)", allow_module_level=True)
    pytest.importorskip("pyspark", reason="pyspark is pinned in requirements-dev.txt")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = local_session("local[2]", codegen=False)  # a few thousand records: interpreting is faster
    yield session
    session.stop()


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_parquet(tmp_path_factory.mktemp("spark") / "usage.parquet", usage_rows())


def test_spark_equals_the_python_pricer_record_for_record(spark: Any, parquet: Path) -> None:
    rows = rate_rows(table())
    engine = SparkEngine(spark)
    try:
        engine.load(
            discover([parquet]), rows, model_names(table()), rate_scale(rows), default_day=AS_OF, default_model=None
        )
        records = engine.records(RECORD_COLUMNS)
    finally:
        engine.close()
    assert_matches_oracle(records)
    refused = [r for r in records if r["problem"] is not None]
    assert refused and all(r["source_file"] == str(parquet) and r["source_row"] >= 1 for r in refused)
    by_id = {row["custom_id"]: number for number, row in enumerate(usage_rows(), start=1)}
    assert all(r["source_row"] == by_id[r["custom_id"]] for r in records)  # Parquet rows keep their numbers


def test_spark_and_duckdb_give_the_same_actual_costs(spark: Any, parquet: Path) -> None:
    pytest.importorskip("duckdb")
    on_spark = price_files_bulk([parquet], engine="spark", spark=spark, as_of=AS_OF, table=table())
    on_duckdb = price_files_bulk([parquet], engine="duckdb", as_of=AS_OF, table=table())
    assert on_spark.total_usd == on_duckdb.total_usd
    assert on_spark.lines == on_duckdb.lines
    assert on_spark.requests == on_duckdb.requests
    assert on_spark.unpriced_records == on_duckdb.unpriced_records
    assert [(p.code, p.source, p.line, p.records) for p in on_spark.problems] == [
        (p.code, p.source, p.line, p.records) for p in on_duckdb.problems
    ]
    assert spark.conf.get("spark.sql.decimalOperations.allowPrecisionLoss") == "false"


def test_spark_reads_results_files(spark: Any, tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    rows = tuple(r for r in usage_rows() if "problem" not in r and r["speed"] != "fast")[:400]
    path = results_jsonl(tmp_path / "results.jsonl", rows)
    iterations = {  # a response whose iterations are priced each with its own model
        "type": "message",
        "model": "claude-opus-5-5",
        "created_at": "2026-11-02T10:00:00Z",
        "usage": {
            "input_tokens": 23000,
            "output_tokens": 1000,
            "server_tool_use": {"web_search_requests": 2},
            "iterations": [
                {"type": "compaction", "input_tokens": 180000, "output_tokens": 3500},
                {"type": "advisor_message", "model": "claude-haiku-5-5", "input_tokens": 5000, "output_tokens": 40},
            ],
        },
    }
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(iterations) + "\n")
    on_spark = price_files_bulk([path], engine="spark", spark=spark, as_of=AS_OF, table=table())
    on_duckdb = price_files_bulk([path], engine="duckdb", as_of=AS_OF, table=table())
    assert on_spark.total_usd == on_duckdb.total_usd
    assert on_spark.lines == on_duckdb.lines
    assert on_spark.requests == on_duckdb.requests


def test_the_spark_job_writes_what_it_priced(spark: Any, parquet: Path, tmp_path: Path) -> None:
    """`spark-submit estimator/bulk/spark_job.py` as a cluster runs it: Parquet in, Parquet + JSON out."""
    out = tmp_path / "priced"
    code = spark_job_main([str(parquet), "--output", str(out), "--as-of", AS_OF.isoformat()], spark=spark)
    assert code == 1  # some records could not be priced (the generated set has bad rows on purpose)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    answers = [oracle(row) for row in usage_rows()]
    expected = sum((a["total_usd"] for a in answers if a["problem"] is None and a.get("billed")), Decimal(0))
    assert Decimal(summary["total_usd"]) == expected
    assert summary["records"]["unpriced"] == sum(1 for a in answers if a["problem"] is not None)
    daily = spark.read.parquet(str(out / "daily")).collect()
    assert sum((row["usd"] for row in daily), Decimal(0)) == expected
    assert {row["category"] for row in daily} == set(CATEGORY_COLUMNS)
    what_if = spark.read.parquet(str(out / "what_if")).collect()
    assert sum((row["total_usd"] for row in what_if), Decimal(0)) == expected


def test_exact_options_are_set_on_any_session(spark: Any) -> None:
    spark.conf.set("spark.sql.decimalOperations.allowPrecisionLoss", "true")
    engine = SparkEngine(spark)
    try:
        for key, value in EXACT_SPARK_CONF.items():
            assert spark.conf.get(key) == value
    finally:
        engine.close()
