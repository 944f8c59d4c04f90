"""The offline dry run of a maximum-size batch file against the raw floor of reading and tokenizing it.

    .venv/bin/python benchmarks/bench_dry_run.py [--file PATH] [--requests 100000] [--target-mb 255]

Generates the file when it does not exist (benchmarks/make_batch_file.py: 100,000 requests, mixed English,
code and JSON, shared cached prefixes), then runs, each in a fresh process so that peak memory is its own:

1. baseline: read the file, `json.loads` every line, and tiktoken's `encode_ordinary_batch` over the same
   text (every system and message text), on both cores;
2. the full offline dry run (`analyze_batch_file`): validation, cache analysis, counting, costs.

Prints wall time, MB/s, peak RSS and the ratio dry run / baseline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASELINE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from estimator.tokens.offline import load_cl100k
encoding = load_cl100k()
start = time.perf_counter()

def texts_of(params):
    system = params.get("system")
    if isinstance(system, str):
        yield system
    elif isinstance(system, list):
        yield from (block.get("text", "") for block in system if isinstance(block, dict))
    for message in params.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            yield content
        elif isinstance(content, list):
            yield from (block.get("text", "") for block in content if isinstance(block, dict))

tokens = 0
batch = []
with open(sys.argv[1], "rb") as stream:
    for line in stream:
        batch.extend(texts_of(json.loads(line)["params"]))
        if len(batch) >= 4096:
            tokens += sum(map(len, encoding.encode_ordinary_batch(batch, num_threads=2)))
            batch = []
tokens += sum(map(len, encoding.encode_ordinary_batch(batch, num_threads=2)))
elapsed = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "tokens": tokens, "rss_mb": rss_mb}))
"""

DRY_RUN = r"""
import datetime, json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from estimator.tokens.offline import load_cl100k
from estimator.batches.dry_run import analyze_batch_file
from pricing import load_price_table
load_cl100k(); load_price_table()  # one-off loads, excluded as for the baseline
start = time.perf_counter()
result = analyze_batch_file(sys.argv[1], as_of=datetime.date(2026, 11, 25))
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "requests": result.requests, "problems": len(result.problems),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(script: str, path: Path) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, "-c", script, str(path), str(ROOT)], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=Path("/tmp/claude-cost-planner-bench.jsonl"))
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--target-mb", type=float, default=255.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not args.file.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "make_batch_file.py"), str(args.file),
             "--requests", str(args.requests), "--target-mb", str(args.target_mb)],
            check=True,
        )  # fmt: skip
    size_mb = args.file.stat().st_size / 1e6
    print(f"file: {args.file} ({size_mb:,.1f} MB, {args.requests:,} requests)")
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for name, script in (("baseline", BASELINE), ("dry run", DRY_RUN)):
            figures = run(script, args.file)
            if name not in best or figures["seconds"] < best[name]["seconds"]:
                best[name] = figures
    for name, figures in best.items():
        seconds = figures["seconds"]
        print(f"  {name:<9} {seconds:7.2f} s  {size_mb / seconds:6.1f} MB/s  peak RSS {figures['rss_mb']:6.0f} MB")
    ratio = best["dry run"]["seconds"] / best["baseline"]["seconds"]
    print(f"  dry run / baseline: {ratio:.2f}x (target ≤ 1.5x; peak memory target < 500 MB)")


if __name__ == "__main__":
    main()
