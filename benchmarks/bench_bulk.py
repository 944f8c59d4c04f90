"""Bulk pricing: DuckDB and Spark against the floor of DuckDB summing the same file's raw token columns.

    .venv/bin/python benchmarks/bench_bulk.py [--records 10000000] [--order time|shuffled] [--file PATH]
                                               [--python-subset 200000] [--threads 2] [--rounds 5]
                                               [--skip-spark] [--skip-python]

Generates the usage file when it does not exist, with DuckDB itself (seconds): 10,000,000 records as
Parquet, six current models over 55 days, 30% batch, 10% US residency, 5% fast mode on Opus 5.5, cache
reads and writes of both TTLs, web searches, 0.5% of Haiku 5.5 prompts over its 100K tier. The records are
in time order, as a request log is written (`--order shuffled` scatters each day's records over the whole
file: the worst case for summing per day, kept for comparison). Then runs, each in a fresh process so that
its peak memory is its own:

1. floor: DuckDB summing the raw token columns of the file (`SELECT COUNT(*), SUM(...)`);
2. DuckDB: `price_files_bulk(engine="duckdb")`, the whole job (pricing SQL, rollup, `ActualCosts`), with
   the pricing query (`DuckDBEngine.rollup`: the records summed per key, the groups priced, the rows
   brought to Python) and, inside it, the scan that sums the records per key, timed on their own;
3. Spark local: the same through `engine="spark"` on `local[N]` (skipped without Java);
4. the Python pricer (`estimator.usage.price_columns`, the columnar entry point, on in-memory columns read
   beforehand, so only pricing is timed) on a sample spread over the file, its records/s extrapolated;
5. the Python path as a user runs it (`actual_costs` reading the same subset as Messages responses JSONL).

Steps 1 and 2 alternate, round after round (`--rounds`, default 5), so that both see the same load on a
shared machine; every figure is given as best / median of the rounds, and the ratio to the floor is taken
within each round (its median and best are printed). Spark runs once (a JVM start is slow and stable).

Prints records/s, peak RSS and the ratios the targets are stated in: DuckDB within 3x of the floor's time,
at least 50x the Python pricer's records/s, peak RSS under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MODELS = ["claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "claude-sonnet-4-6", "claude-opus-4-8"]
MODELS += ["claude-sonnet-5"]

GENERATE = r"""
import duckdb, sys
path, records, models, order = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4]
# A request log is written as requests happen: in time order, a day's records together (and warehouses
# partition it by date). "shuffled" scatters the days over the file, the worst case for grouping by day.
day = f"CAST(i * 55 // {records} AS INTEGER)" if order == "time" else "CAST(hash(i * 7 + 1) % 55 AS INTEGER)"
listed = "[" + ", ".join(f"'{m}'" for m in models) + "]"
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f'''
COPY (
  SELECT model, day, service_tier, inference_geo,
    CASE WHEN model = 'claude-opus-5-5' AND service_tier IS NULL AND h % 20 = 0 THEN 'fast' END AS speed,
    CAST(h % 5000 AS BIGINT) AS input_tokens,
    CAST(CASE WHEN h % 5 = 0 THEN (h >> 8) % 4000 ELSE 0 END AS BIGINT) AS cache_write_5m_tokens,
    CAST(CASE WHEN h % 11 = 0 THEN (h >> 12) % 4000 ELSE 0 END AS BIGINT) AS cache_write_1h_tokens,
    CAST(CASE WHEN model = 'claude-haiku-5-5' AND h % 200 = 0 THEN 120000
              WHEN h % 5 < 3 THEN (h >> 16) % 50000 ELSE 0 END AS BIGINT) AS cache_read_tokens,
    CAST((h >> 20) % 2000 AS BIGINT) AS output_tokens,
    CAST(CASE WHEN h % 50 = 0 THEN 1 + (h >> 24) % 3 ELSE 0 END AS BIGINT) AS web_search_requests
  FROM (
    SELECT ({listed})[1 + CAST(hash(i) % {len(models)} AS INTEGER)] AS model,
      DATE '2026-10-07' + {day} AS day,
      CASE WHEN hash(i * 3 + 2) % 10 < 3 THEN 'batch' END AS service_tier,
      CASE WHEN hash(i * 5 + 3) % 10 = 0 THEN 'us' END AS inference_geo,
      hash(i * 11 + 4) AS h
    FROM range({records}) AS t(i)
  )
) TO '{path}' (FORMAT PARQUET, ROW_GROUP_SIZE 1000000)
''')
"""

FLOOR = r"""
import duckdb, json, resource, sys, time
path, threads = sys.argv[1], int(sys.argv[2])
con = duckdb.connect(config={"threads": threads, "memory_limit": "1GB"})
start, cpu = time.perf_counter(), time.process_time()
row = con.execute(f'''SELECT COUNT(*), SUM(input_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens),
  SUM(cache_read_tokens), SUM(output_tokens), SUM(web_search_requests) FROM read_parquet('{path}')''').fetchone()
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "cpu": cpu, "records": row[0], "rss_mb": rss}))
"""

DUCKDB = r"""
import json, resource, sys, time, datetime
sys.path.insert(0, sys.argv[3])
from estimator.bulk import price_files_bulk
from estimator.bulk.duckdb_engine import DuckDBEngine
from pricing import load_price_table
table = load_price_table()
query = []
rollup = DuckDBEngine.rollup


def timed_rollup(self, on_progress=None):  # the pricing query alone, inside the whole job
    begun, cpu = time.perf_counter(), time.process_time()
    rows = rollup(self, on_progress)
    query.append((time.perf_counter() - begun, time.process_time() - cpu))
    return rows


DuckDBEngine.rollup = timed_rollup
scan = []
groups = DuckDBEngine._groups


def timed_groups(self):  # inside the query: the one scan that sums the records per key
    begun, cpu = time.perf_counter(), time.process_time()
    sql = groups(self)
    scan.append((time.perf_counter() - begun, time.process_time() - cpu))
    return sql


DuckDBEngine._groups = timed_groups
start, cpu = time.perf_counter(), time.process_time()
result = price_files_bulk([sys.argv[1]], engine="duckdb", threads=int(sys.argv[2]), table=table,
                          as_of=datetime.date(2026, 12, 1))
elapsed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cpu = time.process_time() - cpu
print(json.dumps({"seconds": elapsed, "cpu": cpu, "query_seconds": query[0][0], "query_cpu": query[0][1],
                  "scan_seconds": scan[0][0], "scan_cpu": scan[0][1],
                  "records": result.priced_records
                  + result.unpriced_records, "unpriced": result.unpriced_records,
                  "total_usd": str(result.total_usd), "rss_mb": rss}))
"""

SPARK = r"""
import json, os, resource, sys, time, datetime
sys.path.insert(0, sys.argv[3])
from estimator.bulk import price_files_bulk
from estimator.bulk.spark_engine import local_session
from pricing import load_price_table


def descendants(root):
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def cpu_seconds(pids):
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / ticks


def peak_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            return next((int(line.split()[1]) for line in handle if line.startswith("VmHWM")), 0) / 1024
    except OSError:
        return 0


table = load_price_table()
session = local_session(f"local[{sys.argv[2]}]", codegen=sys.argv[4] == "codegen")
jvm_cpu = cpu_seconds(descendants(os.getpid()))
start, cpu = time.perf_counter(), time.process_time()
result = price_files_bulk([sys.argv[1]], engine="spark", spark=session, table=table, as_of=datetime.date(2026, 12, 1))
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
cpu += cpu_seconds(descendants(os.getpid())) - jvm_cpu
jvm = max((peak_mb(pid) for pid in descendants(os.getpid())), default=0)
session.stop()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "cpu": cpu, "records": result.priced_records + result.unpriced_records,
                  "total_usd": str(result.total_usd), "rss_mb": rss, "jvm_rss_mb": jvm}))
"""

PYTHON = r"""
import duckdb, json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from estimator.usage.pricer import price_columns
from pricing import load_price_table
table = load_price_table()
# A sample spread over the whole file (its first records would be a day or two of a time-ordered log).
spread = f"USING SAMPLE reservoir({int(sys.argv[2])} ROWS) REPEATABLE (7)"
rows = duckdb.connect().execute(f"SELECT * FROM read_parquet('{sys.argv[1]}') {spread}").fetchall()
columns = list(zip(*rows))
names = ["model", "day", "service_tier", "inference_geo", "speed", "input_tokens", "cache_write_5m_tokens",
         "cache_write_1h_tokens", "cache_read_tokens", "output_tokens", "web_search_requests"]
data = dict(zip(names, columns))
start, cpu = time.perf_counter(), time.process_time()
priced = price_columns(
    data["model"], data["day"], input_tokens=data["input_tokens"], output_tokens=data["output_tokens"],
    cache_write_5m_tokens=data["cache_write_5m_tokens"], cache_write_1h_tokens=data["cache_write_1h_tokens"],
    cache_read_tokens=data["cache_read_tokens"], web_search_requests=data["web_search_requests"],
    service_tiers=data["service_tier"], inference_geos=data["inference_geo"], speeds=data["speed"], table=table,
)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "cpu": cpu, "records": len(rows), "total_usd": str(priced.total_usd),
                  "rss_mb": rss}))
"""


PYTHON_PATH = r"""
import datetime, duckdb, json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from estimator.usage.actuals import actual_costs
from pricing import load_price_table
table = load_price_table()
path = sys.argv[1] + ".responses.jsonl"
spread = f"USING SAMPLE reservoir({int(sys.argv[2])} ROWS) REPEATABLE (7)"  # the Python pricer's records
duckdb.connect().execute(f'''COPY (
  SELECT 'message' AS type, model, CAST(day AS VARCHAR) AS created_at,
    {{'input_tokens': input_tokens, 'output_tokens': output_tokens, 'cache_read_input_tokens': cache_read_tokens,
      'cache_creation_input_tokens': cache_write_5m_tokens + cache_write_1h_tokens,
      'cache_creation': {{'ephemeral_5m_input_tokens': cache_write_5m_tokens,
                          'ephemeral_1h_input_tokens': cache_write_1h_tokens}},
      'server_tool_use': {{'web_search_requests': web_search_requests}},
      'service_tier': service_tier, 'inference_geo': inference_geo, 'speed': speed}} AS usage
  FROM read_parquet('{sys.argv[1]}') {spread}) TO '{path}' (FORMAT JSON)''')
start, cpu = time.perf_counter(), time.process_time()
result = actual_costs([path], table=table, as_of=datetime.date(2026, 12, 1))
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "cpu": cpu, "records": result.priced_records + result.unpriced_records,
                  "total_usd": str(result.total_usd), "rss_mb": rss}))
"""


def _once(script: str, *args: str) -> dict[str, float]:
    """The step in a fresh process (its own peak memory)."""
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"step failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _rounds(steps: dict[str, tuple[str, ...]], rounds: int) -> dict[str, list[dict[str, float]]]:
    """Each step once per round, in turn, `rounds` times: steps compared with each other see the same load."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, (script, *args) in steps.items():
            runs[name].append(_once(script, *args))
    return runs


def _best(runs: list[dict[str, float]], key: str) -> float:
    return min(run[key] for run in runs)


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _optional(script: str, *args: str) -> dict[str, float] | None:
    """A step whose failure is reported and skipped (the Python path reads files the bulk engines do not)."""
    try:
        return _once(script, *args)
    except SystemExit as failure:
        print(f"(step skipped: {str(failure).strip().splitlines()[-1]})")
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument(
        "--order",
        choices=("time", "shuffled"),
        default="time",
        help="records in time order (as a request log is written) or with the days shuffled",
    )
    parser.add_argument("--file", type=Path, help="default: test-output/bench_bulk_usage_<order>.parquet")
    parser.add_argument("--python-subset", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-python", action="store_true", help="only the floor, DuckDB (and Spark)")
    parser.add_argument("--spark-no-codegen", action="store_true", help="Spark without code generation")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of floor and DuckDB (at least 5)")
    args = parser.parse_args()
    path = args.file or ROOT / "test-output" / f"bench_bulk_usage_{args.order}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", GENERATE, str(path), str(args.records), ",".join(MODELS), args.order],
                       check=True)  # fmt: skip
        print(f"generated {args.records:,} records in {time.perf_counter() - start:.1f} s: {path}")
    size_mb = path.stat().st_size / 1e6
    print(f"file: {path} ({size_mb:,.0f} MB); {max(args.rounds, 5)} rounds, best / median")
    threads = str(args.threads)
    runs = _rounds({"floor": (FLOOR, str(path), threads), "duckdb": (DUCKDB, str(path), threads, str(ROOT))},
                   max(args.rounds, 5))  # fmt: skip
    floor, duck = runs["floor"], runs["duckdb"]
    records = int(floor[0]["records"])
    print(f"\n{'step':<58} {'wall s':>13} {'CPU s':>13} {'records/s (wall)':>22} {'peak RSS':>9}")
    _line(
        "floor: DuckDB sums the raw token columns",
        floor,
        "seconds",
        "cpu",
        records,
        f"{max(r['rss_mb'] for r in floor):,.0f} MB",
    )
    _line(
        "DuckDB: price_files_bulk, the whole job",
        duck,
        "seconds",
        "cpu",
        records,
        f"{max(r['rss_mb'] for r in duck):,.0f} MB",
    )
    _line("  of which the pricing query (DuckDBEngine.rollup)", duck, "query_seconds", "query_cpu", records, "")
    _line("    of which the scan summing records per key", duck, "scan_seconds", "scan_cpu", records, "")
    spark = None
    if not args.skip_spark and shutil.which("java"):
        mode = "interpreted" if args.spark_no_codegen else "codegen"
        spark = _once(SPARK, str(path), threads, str(ROOT), mode)
        rss = f"{spark['rss_mb']:,.0f} MB + JVM {spark['jvm_rss_mb']:,.0f} MB"
        _line(f"Spark local[{threads}] ({mode}; JVM + Python), once", [spark], "seconds", "cpu", records, rss)
    python = None
    if not args.skip_python:
        python = _rounds({"python": (PYTHON, str(path), str(args.python_subset), str(ROOT))}, 5)["python"]
        subset = python[0]["records"]
        scaled = [run | {"seconds": run["seconds"] * records / subset, "cpu": run["cpu"] * records / subset}
                  for run in python]  # fmt: skip
        label = f"Python pricer (price_columns), {int(subset):,} records x {records / subset:,.0f}"
        _line(label, scaled, "seconds", "cpu", records, f"{max(r['rss_mb'] for r in python):,.0f} MB")
        python_path = _optional(PYTHON_PATH, str(path), str(args.python_subset), str(ROOT))
        if python_path is not None:
            scale = records / python_path["records"]
            label = f"Python path (actual_costs, responses JSONL), {int(python_path['records']):,} x {scale:,.0f}"
            scaled_path = python_path | {"seconds": python_path["seconds"] * scale, "cpu": python_path["cpu"] * scale}
            _line(label, [scaled_path], "seconds", "cpu", records, f"{python_path['rss_mb']:,.0f} MB")
    print("\nRatios to the floor, within each round (best / median of the rounds; target: query within 3x):")
    for label, wall, cpu in (
        ("pricing query", "query_seconds", "query_cpu"),
        ("whole job", "seconds", "cpu"),
        ("scan summing records per key", "scan_seconds", "scan_cpu"),
    ):
        walls = [d[wall] / f["seconds"] for d, f in zip(duck, floor, strict=True)]
        cpus = [d[cpu] / f["cpu"] for d, f in zip(duck, floor, strict=True)]
        print(f"  {label:<30} wall {min(walls):.2f}x / {statistics.median(walls):.2f}x   "
              f"CPU {min(cpus):.2f}x / {statistics.median(cpus):.2f}x")  # fmt: skip
    if python is not None:
        python_rate = statistics.median(run["records"] / run["seconds"] for run in python)
        query_rate = records / _median(duck, "query_seconds")
        job_rate = records / _median(duck, "seconds")
        print(f"DuckDB records/s over the Python pricer's (wall, medians): {query_rate / python_rate:,.0f}x pricing "
              f"query, {job_rate / python_rate:,.0f}x whole job (target >= 50x)")  # fmt: skip
    print(f"DuckDB peak RSS: {max(run['rss_mb'] for run in duck):,.0f} MB (target < 2,048 MB)")
    print(f"DuckDB total: ${duck[0]['total_usd']} ({int(duck[0]['unpriced']):,} records not priced)")
    if spark is not None:
        print(f"Spark total:  ${spark['total_usd']} (must equal DuckDB's)")


def _line(label: str, runs: list[dict[str, float]], wall: str, cpu: str, records: int, rss: str) -> None:
    """best / median of wall and CPU seconds, and records/s at the best and median wall time."""
    walls = f"{_best(runs, wall):.2f} / {_median(runs, wall):.2f}"
    cpus = f"{_best(runs, cpu):.2f} / {_median(runs, cpu):.2f}"
    rates = f"{records / _best(runs, wall):,.0f} / {records / _median(runs, wall):,.0f}"
    print(f"{label:<58} {walls:>13} {cpus:>13} {rates:>22} {rss:>9}")


if __name__ == "__main__":
    main()
