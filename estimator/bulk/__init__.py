"""Pricing usage in bulk: the same rules as `estimator.usage`, as SQL, on DuckDB (one machine) or Spark.

    from estimator.bulk import price_files_bulk
    result = price_files_bulk(["logs/*.parquet"], engine="duckdb")   # an ActualCosts, as actual_costs gives
    result.total_usd, result.unpriced_records, result.problems

- `rates`: the dated rates table, every rate from `estimator.rates.resolve_mode_rates` (the Python pricer's).
- `sql`: the pricing rules, written once in DuckDB SQL (DECIMAL money, never DOUBLE) and transpiled to
  Spark SQL with sqlglot.
- `duckdb_engine`, `spark_engine`: run it; `spark_job`: the `spark-submit` entry point for a cluster.
- `actuals`: `price_files_bulk`, the rollup turned into the Python path's `ActualCosts`.
- `columns`: `price_columns_bulk` and `price_arrow_bulk`, columns held in memory (lists, NumPy, Arrow)
  priced by DuckDB, as `estimator.usage.price_columns` prices them.

DuckDB, PySpark, sqlglot, pyarrow and NumPy are imported only when they are needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from estimator.bulk.actuals import AUTO_THRESHOLD_BYTES, ENGINES, choose_engine, engine_for, price_files_bulk
    from estimator.bulk.columns import ColumnError, price_arrow_bulk, price_columns_bulk

_LAZY = {
    "AUTO_THRESHOLD_BYTES": "estimator.bulk.actuals",
    "ENGINES": "estimator.bulk.actuals",
    "choose_engine": "estimator.bulk.actuals",
    "engine_for": "estimator.bulk.actuals",
    "price_files_bulk": "estimator.bulk.actuals",
    "ColumnError": "estimator.bulk.columns",
    "price_arrow_bulk": "estimator.bulk.columns",
    "price_columns_bulk": "estimator.bulk.columns",
}

__all__ = [
    "AUTO_THRESHOLD_BYTES",
    "ENGINES",
    "ColumnError",
    "choose_engine",
    "engine_for",
    "price_arrow_bulk",
    "price_columns_bulk",
    "price_files_bulk",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'estimator.bulk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
