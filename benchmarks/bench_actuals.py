"""Benchmark: price 1,000,000 Message Batches result lines, against a read + `json.loads` baseline.

    python benchmarks/bench_actuals.py [--records N] [--keep FILE]

Generates a results JSONL file (four models, batch tier, 5m/1h cache writes and reads, a few errored and
expired lines, web searches), then runs, each in a fresh process so that peak RSS is its own:

- baseline: read the file line by line and `json.loads` each line (nothing else);
- baseline with orjson: the same with `orjson.loads` (when installed);
- `actual_costs(path)`: detect, validate, price exactly, and build the report (with orjson, and again as if
  orjson were not installed, so that both decoders are measured on the same hot path).

Prints CPU seconds (the child's process time: on a shared machine wall time measures the neighbours),
records/s, the ratio to the baseline and the peak RSS of each. Target: within 2x of the baseline, memory
bounded (not proportional to the file).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("claude-sonnet-4-6", "claude-opus-4-8", "claude-haiku-4-5", "claude-sonnet-5")
TEXT = (
    "The quarterly report shows revenue growth of 12% driven by strong demand in the enterprise segment, while "
    "costs rose modestly."
)


def generate(path: Path, records: int, seed: int = 20261203) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for index in range(records):
            custom_id = f"req-{index:07d}"
            roll = rng.random()
            if roll < 0.01:
                result: dict[str, object] = {
                    "type": "errored",
                    "error": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
                }
            elif roll < 0.015:
                result = {"type": "expired"}
            else:
                read = rng.choice((0, 0, 2048, 4096))
                w5 = 0 if read else rng.choice((0, 1500))
                w1h = 0 if read or w5 else rng.choice((0, 1200))
                usage: dict[str, object] = {
                    "input_tokens": rng.randint(50, 5000),
                    "cache_creation_input_tokens": w5 + w1h,
                    "cache_read_input_tokens": read,
                    "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1h},
                    "output_tokens": rng.randint(20, 1500),
                    "service_tier": "batch",
                }
                if roll > 0.98:
                    usage["server_tool_use"] = {"web_search_requests": rng.randint(1, 3), "web_fetch_requests": 0}
                result = {
                    "type": "succeeded",
                    "message": {
                        "id": f"msg_{index:024d}",
                        "type": "message",
                        "role": "assistant",
                        "model": MODELS[index % len(MODELS)],
                        "content": [{"type": "text", "text": TEXT}],
                        "stop_reason": "end_turn",
                        "stop_sequence": None,
                        "usage": usage,
                    },
                }
            out.write(json.dumps({"custom_id": custom_id, "result": result}, separators=(",", ":")) + "\n")


BASELINE = """
import json, sys
count = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        json.loads(line)
        count += 1
print(count)
"""

BASELINE_ORJSON = BASELINE.replace("import json, sys", "import orjson as json, sys")

PRICED = """
import sys
from estimator.usage import actual_costs
result = actual_costs(sys.argv[1])
print(result.priced_records + sum(result.requests[k] for k in ("errored", "canceled", "expired")), result.total_usd)
"""


PRICED_STDLIB_JSON = "import sys; sys.modules['orjson'] = None  # as if orjson were not installed\n" + PRICED


def run(code: str, path: Path) -> tuple[float, int, str]:
    """Seconds, peak RSS in KB (of the child only), and what it printed."""
    # CPU time of the child (time.process_time), not wall time: on a shared 2-core machine the wall clock
    # mostly measures the neighbours; the CPU the work itself needed is what compares between steps.
    wrapper = (
        "import resource, time, sys\nstart = time.process_time()\n"
        + code
        + "\nprint('SECONDS', time.process_time() - start)\n"
        + "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", wrapper, str(path)], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    ).stdout
    lines = out.strip().splitlines()
    seconds = float(lines[-2].split()[1])
    rss = int(lines[-1].split()[1])
    return seconds, rss, lines[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step; the best is reported")
    parser.add_argument("--keep", type=Path, default=None, help="write the generated file here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "results.jsonl"
        started = time.perf_counter()
        generate(path, args.records)
        size = path.stat().st_size
        print(f"generated {args.records:,} records, {size / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s")
        steps = [("baseline: read + json.loads", BASELINE)]
        try:
            import orjson  # noqa: F401

            steps.append(("baseline: read + orjson.loads", BASELINE_ORJSON))
        except ImportError:
            pass
        steps.append(("actual_costs(path), stdlib json", PRICED_STDLIB_JSON))
        steps.append(("actual_costs(path): read, validate, price, report", PRICED))
        results = {}
        for name, code in steps * args.repeat:  # interleaved, so that drift hits every step alike
            seconds, rss, printed = run(code, path)
            best = results.get(name)
            if best is None or seconds < best[0]:
                results[name] = (seconds, max(rss, best[1] if best else 0), printed)
            else:
                results[name] = (best[0], max(rss, best[1]), best[2])
        baseline = results[steps[0][0]][0]
        print("\n| step | CPU time | records/s | vs baseline | peak RSS |\n|---|---|---|---|---|")
        for name, _ in steps:
            seconds, rss, printed = results[name]
            print(
                f"| {name} | {seconds:.2f} s | {args.records / seconds:,.0f} | {seconds / baseline:.2f}x | "
                f"{rss / 1024:,.0f} MB |"
            )
        print(f"\npriced: {results[steps[-1][0]][2]}")


if __name__ == "__main__":
    main()
