"""The columnar pricer: `price_columns` records/s beside a floor and the row-by-row path, in the same run.

    .venv/bin/python benchmarks/bench_columns.py [--records 1000000] [--rounds 5] [--parquet FILE]

The records mirror `benchmarks/bench_bulk.py`'s: six current models over 55 days, 30% batch, 10% US
residency, 5% fast mode on Opus 5.5, cache reads and both write TTLs, web searches, 0.5% of Haiku 5.5
prompts over its 100K tier. They are generated here, in pure Python, as a database driver hands them over
(every value its own object, row after row); `--parquet` reads the first `--records` rows of
`bench_bulk.py`'s file instead, the way that benchmark does (DuckDB `fetchall`, then one tuple per column).

Each round times, interleaved, in CPU time (the machine is shared: wall time measures the neighbours):

1. floor: a plain `sum()` over each count column — reading the numbers and nothing else;
2. row by row: the path `price_columns` took before, one `UsageAccumulator.add` call per row (with the
   same per-row count check), then `finish()` — today's `finish()`, itself made faster with the columnar
   engine, so this step is quicker than the former `price_columns` was: it shows the loop's gain alone;
3. `price_columns`.

Every round prices the rows in another order (the columns rotated), so no input repeats; only what is
legitimately kept per call (rates per model, period and tier; the compiled loop) helps. Prints the median
of the rounds and checks that both paths give the very same `PricedUsage`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from estimator.usage.pricer import PricedUsage, UsageAccumulator, price_columns
from estimator.usage.records import COUNT_FIELDS, UsageProblem
from pricing import PriceTable, load_price_table

MODELS = ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "claude-sonnet-4-6", "claude-opus-4-8")
MODELS += ("claude-sonnet-5",)
FIRST_DAY = dt.date(2026, 10, 7)
KEYS = ("models", "days", "service_tiers", "inference_geos", "speeds")
COUNTS = ("input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens", "output_tokens")
COUNTS += ("web_search_requests",)
Columns = dict[str, Sequence[Any]]


def generate(records: int, seed: int = 20261203) -> Columns:
    """bench_bulk.py's mix, each value a fresh object (as a driver returns them), built row after row."""
    rng = random.Random(seed)
    columns: dict[str, list[Any]] = {name: [] for name in (*KEYS, *COUNTS)}
    first = FIRST_DAY.toordinal()
    for _ in range(records):
        model = rng.choice(MODELS)
        tier = "batch" if rng.random() < 0.3 else None
        h = rng.getrandbits(40)
        columns["models"].append(model.lower())  # a new str object, like a driver's
        columns["days"].append(dt.date.fromordinal(first + rng.randrange(55)))
        columns["service_tiers"].append(None if tier is None else tier.lower())
        columns["inference_geos"].append("us".lower() if rng.random() < 0.1 else None)
        fast = model == "claude-opus-5-5" and tier is None and h % 20 == 0
        columns["speeds"].append("fast".lower() if fast else None)
        columns["input_tokens"].append(h % 5000)
        columns["cache_write_5m_tokens"].append((h >> 8) % 4000 if h % 5 == 0 else 0)
        columns["cache_write_1h_tokens"].append((h >> 12) % 4000 if h % 11 == 0 else 0)
        over = model == "claude-haiku-5-5" and h % 200 == 0
        columns["cache_read_tokens"].append(120_000 if over else (h >> 16) % 50_000 if h % 5 < 3 else 0)
        columns["output_tokens"].append((h >> 20) % 2000)
        columns["web_search_requests"].append(1 + (h >> 24) % 3 if h % 50 == 0 else 0)
    return dict(columns)


def read_parquet(path: Path, records: int) -> Columns:
    import duckdb  # only for --parquet

    query = f"SELECT * FROM read_parquet('{path}') LIMIT {int(records)}"
    rows = duckdb.connect().execute(query).fetchall()
    names = ("models", "days", "service_tiers", "inference_geos", "speeds", *COUNTS)
    return dict(zip(names, zip(*rows, strict=True), strict=True))


def rotated(columns: Columns, shift: int) -> Columns:
    """The same rows in another order (every row `shift` places earlier, wrapping)."""
    return {name: [*values[shift:], *values[:shift]] for name, values in columns.items()}


def floor(columns: Columns, table: PriceTable) -> None:
    for name in COUNTS:
        sum(columns[name])


def columnar(columns: Columns, table: PriceTable) -> PricedUsage:
    keys = {name: columns[name] for name in KEYS[2:]}
    return price_columns(columns["models"], columns["days"], table=table, **keys, **_counts(columns))


def row_by_row(columns: Columns, table: PriceTable) -> PricedUsage:
    """`price_columns` as it was: every row checked and added by `UsageAccumulator.add`."""
    accumulator = UsageAccumulator(table)
    source = "<columns>"
    given = _counts(columns)
    counts = [given.get(name) or [0] * len(columns["models"]) for name in COUNT_FIELDS[:-1]]
    counts.append([1] * len(columns["models"]))
    rows = zip(*(columns[name] for name in KEYS), *counts, strict=True)
    for row, values in enumerate(rows, start=1):
        model, day, tier, geo, speed = values[:5]
        numbers = values[5:]
        bad = next((i for i, v in enumerate(numbers) if type(v) is not int or v < 0), None)
        if bad is not None:
            message = f"{COUNT_FIELDS[bad]} must be an int ≥ 0, got {numbers[bad]!r}"
            accumulator.problem(UsageProblem(source, row, "error", "invalid_count", message), unpriced=True)
            continue
        accumulator.requests_by_result["succeeded"] += numbers[9]
        accumulator.add(model, day, tier, geo, speed, *numbers, source, row)
    return accumulator.finish()


def _counts(columns: Columns) -> dict[str, Sequence[Any]]:
    return {name: columns[name] for name in COUNTS}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parquet", type=Path, default=None, help="read bench_bulk.py's file instead (DuckDB)")
    args = parser.parse_args()
    table = load_price_table()
    started = time.perf_counter()
    columns = read_parquet(args.parquet, args.records) if args.parquet else generate(args.records)
    records = len(columns["models"])
    print(f"{records:,} records {'read' if args.parquet else 'generated'} in {time.perf_counter() - started:.1f} s")
    steps: dict[str, Callable[[Columns, PriceTable], object]] = {
        "floor: sum() over the count columns": floor,
        "row by row (UsageAccumulator.add per row)": row_by_row,
        "price_columns": columnar,
    }
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(args.rounds):
        data = rotated(columns, round_ * records // args.rounds) if round_ else columns
        results = {}
        for name, step in steps.items():
            gc.collect()  # the previous step's garbage is not this step's cost
            start = time.process_time()
            results[name] = step(data, table)
            seconds[name].append(time.process_time() - start)
        same = repr(results["price_columns"]) == repr(results["row by row (UsageAccumulator.add per row)"])
        if not same:
            raise SystemExit(f"round {round_ + 1}: price_columns differs from the row-by-row path")
        del data, results
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    base, before = medians["floor: sum() over the count columns"], medians["row by row (UsageAccumulator.add per row)"]
    print(f"\nmedian of {args.rounds} rounds, CPU time; both paths gave the same PricedUsage in every round\n")
    print("| step | CPU s | records/s | × floor's time | speed-up over row by row |\n|---|---|---|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value:.3f} | {records / value:,.0f} | {value / base:.1f} | {before / value:.2f}x |")


if __name__ == "__main__":
    main()
