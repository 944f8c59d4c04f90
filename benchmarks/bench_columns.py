"""The columnar pricer: `price_columns` records/s beside a floor and the row-by-row path, in the same run, and
the engine variant `price_columns_bulk` (DuckDB) on ten times as many records.

    .venv/bin/python benchmarks/bench_columns.py [--records 1000000] [--rounds 5] [--parquet FILE]
                                                 [--engine-records 10000000] [--threads N]

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
3. `price_columns`;
4. `price_columns_bulk` on `--engine-records` records of the same mix (default 10,000,000; 0 skips it),
   generated as NumPy arrays and Arrow arrays (models dictionary-encoded, as a Parquet reader or a warehouse
   client hands them over; counts NumPy int64, passed without a copy) in a fresh process each round, with a
   new seed, so that its peak RSS is its own and no input repeats. Generating is not timed, nor the
   process's first call (on 1,000 other records: it imports DuckDB, shown apart); pricing is, in wall time
   (DuckDB runs on every core, `--threads`) and CPU time. In the first round the engine's figures are
   checked against `price_columns` on the first 200,000 of those records.

Every round prices the rows in another order (the columns rotated), so no input repeats; only what is
legitimately kept per call (rates per model, period and tier; the compiled loop) helps. Prints the median
of the rounds, checks that both pure-Python paths give the very same `PricedUsage`, and says whether the
engine reaches issue 16's target of 10,000,000 records/s (wall time), beside `price_columns`' records/s
(CPU time: one core) measured in the same rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import resource
import statistics
import subprocess
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
ENGINE_TARGET = 10_000_000
"""Issue 16: records/s with an engine."""
CHECKED_RECORDS = 200_000


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


# --- the engine variant ------------------------------------------------------------------------------------


def generate_arrays(records: int, seed: int) -> dict[str, Any]:
    """`generate`'s mix as NumPy and Arrow columns (at C speed: ten million records in a few seconds)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    model = rng.integers(0, len(MODELS), records, dtype=np.int8)
    h = rng.integers(0, 1 << 40, records, dtype=np.int64)
    batch = rng.random(records) < 0.3
    us = rng.random(records) < 0.1
    fast = (model == MODELS.index("claude-opus-5-5")) & ~batch & (h % 20 == 0)
    over = (model == MODELS.index("claude-haiku-5-5")) & (h % 200 == 0)

    def label(rows: Any, value: str) -> Any:
        """`value` on the rows given, None elsewhere (a dictionary of one entry)."""
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(records, np.int8), mask=~rows), pa.array([value]))

    reads = np.where(h % 5 < 3, (h >> 16) % 50_000, 0)
    reads[over] = 120_000
    return {
        "models": pa.DictionaryArray.from_arrays(pa.array(model), pa.array(MODELS)),
        "days": np.datetime64(FIRST_DAY) + rng.integers(0, 55, records).astype("timedelta64[D]"),
        "service_tiers": label(batch, "batch"),
        "inference_geos": label(us, "us"),
        "speeds": label(fast, "fast"),
        "input_tokens": h % 5000,
        "cache_write_5m_tokens": np.where(h % 5 == 0, (h >> 8) % 4000, 0),
        "cache_write_1h_tokens": np.where(h % 11 == 0, (h >> 12) % 4000, 0),
        "cache_read_tokens": reads,
        "output_tokens": (h >> 20) % 2000,
        "web_search_requests": np.where(h % 50 == 0, 1 + (h >> 24) % 3, 0),
    }


def engine_round(records: int, seed: int, threads: int | None, check: bool) -> dict[str, Any]:
    """One round of `price_columns_bulk`, in the process that generated its columns (a child of `main`)."""
    from estimator.bulk.columns import price_columns_bulk

    table = load_price_table()
    # A first call on a thousand other records pays the one-off costs of a process (importing DuckDB and
    # pyarrow.compute): timed apart, as `first_call`; the rates are made again by every call.
    small = generate_arrays(1_000, seed + 1_000_000)
    started = time.perf_counter()
    price_columns_bulk(small["models"], small["days"], table=table, threads=threads, **_rest(small))
    first_call = time.perf_counter() - started
    columns = generate_arrays(records, seed)
    gc.collect()
    before_mb = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    priced = price_columns_bulk(columns["models"], columns["days"], table=table, threads=threads, **_rest(columns))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if priced.priced_records != records or priced.unpriced_records:
        raise SystemExit(f"the engine priced {priced.priced_records:,} of {records:,} records")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    checked = check_engine(columns, table) if check else None
    return {"seconds": seconds, "cpu": cpu, "columns_mb": before_mb, "peak_mb": peak_mb, "checked": checked,
            "first_call": first_call}  # fmt: skip


def check_engine(columns: dict[str, Any], table: PriceTable) -> int:
    """The engine's figures on the first `CHECKED_RECORDS` records against `price_columns` on them as lists."""
    from estimator.bulk.columns import price_columns_bulk

    head = {name: column[:CHECKED_RECORDS] for name, column in columns.items()}
    plain = {name: column.tolist() for name, column in head.items()}  # NumPy's and Arrow's own
    bulk = price_columns_bulk(head["models"], head["days"], table=table, **_rest(head))
    python = price_columns(plain["models"], plain["days"], table=table, **_rest(plain))

    def figures(priced: PricedUsage) -> list[tuple[Any, ...]]:
        lines = sorted(priced.lines, key=lambda line: (repr(line.day), line.model_id, repr(line.tokens)))
        return [(line.day, line.model_id, line.tokens, dict(line.usd), line.total_usd, dict(line.what_if_usd))
                for line in lines]  # fmt: skip

    same = (bulk.total_usd, bulk.category_usd, bulk.requests_by_result) == (
        python.total_usd,
        python.category_usd,
        python.requests_by_result,
    )
    if not same or figures(bulk) != figures(python):
        raise SystemExit("price_columns_bulk differs from price_columns on the first records")
    return len(bulk.lines)


def _rest(columns: dict[str, Any]) -> dict[str, Any]:
    return {name: column for name, column in columns.items() if name not in ("models", "days")}


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_engine_round(records: int, seed: int, threads: int | None, check: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--engine-child", str(seed), "--engine-records", str(records)]
    command += ["--threads", str(threads)] if threads else []
    command += ["--check"] if check else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"engine round failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parquet", type=Path, default=None, help="read bench_bulk.py's file instead (DuckDB)")
    parser.add_argument("--engine-records", type=int, default=10_000_000, help="0: skip price_columns_bulk")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB's threads (default: every core)")
    parser.add_argument("--engine-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_child is not None:
        print(json.dumps(engine_round(args.engine_records, args.engine_child, args.threads, args.check)))
        return
    load = os.getloadavg()
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
    engine: list[dict[str, Any]] = []
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
        if args.engine_records:
            engine.append(run_engine_round(args.engine_records, 20261203 + round_, args.threads, round_ == 0))
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    base, before = medians["floor: sum() over the count columns"], medians["row by row (UsageAccumulator.add per row)"]
    print(f"\nmedian of {args.rounds} rounds, CPU time; both paths gave the same PricedUsage in every round\n")
    print("| step | CPU s | records/s | × floor's time | speed-up over row by row |\n|---|---|---|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value:.3f} | {records / value:,.0f} | {value / base:.1f} | {before / value:.2f}x |")
    if engine:
        report_engine(engine, args.engine_records, records / medians["price_columns"], args.threads)
    print(f"\nload average: {load[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end ({os.cpu_count()} cores)")


def report_engine(rounds: list[dict[str, Any]], records: int, python_rate: float, threads: int | None) -> None:
    wall = statistics.median(r["seconds"] for r in rounds)
    cpu = statistics.median(r["cpu"] for r in rounds)
    peak = max(r["peak_mb"] for r in rounds)
    columns = statistics.median(r["columns_mb"] for r in rounds)
    rate = records / wall
    print(f"\nprice_columns_bulk (DuckDB, {threads or os.cpu_count()} threads): {records:,} records, median of "
          f"{len(rounds)} rounds (a fresh process each; checked against price_columns on {CHECKED_RECORDS:,} "
          f"records: {rounds[0]['checked']:,} lines equal)\n")  # fmt: skip
    print("| step | wall s | CPU s | records/s (wall) | records/s (CPU) | peak RSS |\n|---|---|---|---|---|---|")
    print(f"| price_columns (pure Python, this run) | | | | {python_rate:,.0f} | |")
    print(f"| price_columns_bulk | {wall:.3f} | {cpu:.3f} | {rate:,.0f} | {records / cpu:,.0f} | {peak:,.0f} MB "
          f"(columns {columns:,.0f} MB) |")  # fmt: skip
    walls = ", ".join(f"{r['seconds']:.3f}" for r in rounds)
    first = statistics.median(r["first_call"] for r in rounds)
    print(f"\nwall times of the rounds: {walls} s; a process's first call (1,000 records, imports): {first:.3f} s")
    verdict = "met" if rate >= ENGINE_TARGET else "NOT met"
    print(
        f"target >= {ENGINE_TARGET:,} records/s with an engine: {verdict} ({rate:,.0f} records/s, "
        f"{rate / python_rate:.0f}x price_columns' records/s)"
    )


if __name__ == "__main__":
    main()
