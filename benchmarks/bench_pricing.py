"""How fast the price table loads: parse + validate once, then the in-process cache.

Run: .venv/bin/python benchmarks/bench_pricing.py
Baselines in the same run: PyYAML's pure-Python SafeLoader and its libyaml CSafeLoader on the same text.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from pricing import DEFAULT_TABLE_PATH, load_price_table, parse_price_table


def best_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    text = DEFAULT_TABLE_PATH.read_text(encoding="utf-8")
    rows = [
        ("yaml.load, pure-Python SafeLoader (baseline)", lambda: yaml.load(text, Loader=yaml.SafeLoader), 20),
        ("yaml.load, CSafeLoader (baseline)", lambda: yaml.load(text, Loader=yaml.CSafeLoader), 50),
        ("parse_price_table: Decimal YAML + schema validation", lambda: parse_price_table(text), 50),
        ("load_price_table, cached (every call after the first)", load_price_table, 10_000),
    ]
    print(f"price table: {len(text):,} bytes, {len(load_price_table().models)} models")
    for label, fn, repeat in rows:
        best, median = best_ms(fn, repeat)
        print(f"  {label:<58} best {best:8.3f} ms   median {median:8.3f} ms")
    cold = [
        float(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import time;t=time.perf_counter();import pricing;pricing.load_price_table();"
                    "print((time.perf_counter()-t)*1000)",
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=Path(__file__).resolve().parents[1],
            ).stdout
        )
        for _ in range(5)
    ]
    print(
        f"  {'fresh process: import pricing + first load':<58} best {min(cold):8.3f} ms   "
        f"median {statistics.median(cold):8.3f} ms"
    )


if __name__ == "__main__":
    main()
