"""How fast the estimator answers: one estimate, 10,000-point sweeps, a compare over every model.

Run: .venv/bin/python benchmarks/bench_estimator.py
Baselines in the same run: a sweep done naively, by calling `estimate()` once per point; and, when the
optional genai-prices package is installed (requirements-dev.txt), its single-mode `calc_price` for the same
requests (real-time with caching), timed interleaved with `estimate()` so that machine load hits both alike.
`estimate()` cycles through 64 distinct workloads (and `calc_price` through their 64 usages): only what is
cached per price row helps, never a result cached per workload.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from estimator import Workload, compare_models, estimate
from estimator.planning import sweep_hit_rate, sweep_prefix_tokens, sweep_requests
from pricing import load_price_table

POINTS = 10_000
WORKLOAD = Workload(
    model="claude-sonnet-4-6",
    requests=1000,
    prefix_tokens=3000,
    unique_input_tokens=5000,
    output_tokens=1000,
    cache_hit_rate=Decimal("0.85"),
)


def timed_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def naive_hit_rate_sweep(points: int) -> list[object]:
    return [
        estimate(dataclasses.replace(WORKLOAD, cache_hit_rate=(Decimal(i) / (points - 1)).quantize(Decimal("1e-12"))))
        for i in range(points)
    ]


def per_call_us(fn: Callable[[int], object], calls: int) -> float:
    """CPU time per call of `fn(i)` for i in 0..calls-1 (process time: other processes' load does not count)."""
    start = time.process_time()
    for i in range(calls):
        fn(i)
    return (time.process_time() - start) / calls * 1e6


def typical_workloads(count: int = 64) -> list[Workload]:
    """`count` distinct typical workloads of one model: requests, shared prefix, unique input, output and hit
    rate all vary, so that no cache keyed on a whole workload can answer the timed loop."""
    return [
        dataclasses.replace(
            WORKLOAD,
            requests=200 + 997 * i,
            prefix_tokens=2048 + 61 * i,
            unique_input_tokens=1500 + 113 * i,
            output_tokens=300 + 29 * i,
            cache_hit_rate=Decimal(55 + (i * 7) % 44) / 100,
        )
        for i in range(count)
    ]


def estimate_against_genai_prices(rounds: int = 15, calls: int = 2048) -> None:
    try:
        from genai_prices import Usage, calc_price
    except ImportError:
        print("genai-prices not installed: `estimate()` vs `calc_price` skipped (pip install genai-prices)")
        return
    table = load_price_table()
    workloads = typical_workloads()
    # The same request for their single mode: real-time with caching, the expected reads and writes per request.
    usages = []
    for workload in workloads:
        reads = int(workload.cache_hit_rate * workload.prefix_tokens)
        usages.append(
            Usage(
                input_tokens=workload.input_tokens_per_request,
                cache_read_tokens=reads,
                cache_write_tokens=workload.prefix_tokens - reads,
                output_tokens=workload.output_tokens,
            )
        )
    count = len(workloads)

    def ours(i: int) -> object:
        return estimate(workloads[i % count], table=table)

    def theirs(i: int) -> object:
        return calc_price(usages[i % count], model_ref=WORKLOAD.model, provider_id="anthropic")

    ours(0), theirs(0)  # warm both: our table's row cache, their price data
    ours_us, theirs_us = [], []
    for _ in range(rounds):  # interleaved: the same load hits both
        ours_us.append(per_call_us(ours, calls))
        theirs_us.append(per_call_us(theirs, calls))
    ours_median, theirs_median = statistics.median(ours_us), statistics.median(theirs_us)
    label = f"estimate(), {count} typical workloads (median of {rounds})"
    print(f"{label:<55} {ours_median:9.1f} µs")
    print(f"{'baseline: genai-prices calc_price, one mode, same usages':<55} {theirs_median:9.1f} µs")
    print(f"{'ratio (baseline / ours)':<55} {theirs_median / ours_median:9.2f}x")


def main() -> None:
    load_price_table()  # the table is cached for the app's whole life; measure the estimator itself
    estimate_against_genai_prices()
    hit_rates = [str(Decimal(i) / (POINTS - 1))[:14] for i in range(POINTS)]
    workloads = typical_workloads()
    rows = [
        (f"{len(workloads)} x estimate() without table= (loads it)", lambda: [estimate(w) for w in workloads], 20),
        (f"baseline: {POINTS:,} x estimate() for a hit-rate sweep", lambda: naive_hit_rate_sweep(POINTS), 3),
        (f"sweep_hit_rate, {POINTS:,} points", lambda: sweep_hit_rate(WORKLOAD, hit_rates), 5),
        (f"sweep_requests, {POINTS:,} points", lambda: sweep_requests(WORKLOAD, range(POINTS)), 5),
        (
            f"sweep_prefix_tokens, {POINTS:,} points",
            lambda: sweep_prefix_tokens(WORKLOAD, range(0, POINTS * 10, 10)),
            3,
        ),
        ("compare_models: every current model", lambda: compare_models(WORKLOAD), 20),
        ("compare_models: every model incl. retired", lambda: compare_models(WORKLOAD, include_retired=True), 20),
    ]
    for label, fn, repeat in rows:
        best, median = timed_ms(fn, repeat)
        print(f"{label:<55} best {best:9.2f} ms   median {median:9.2f} ms")


if __name__ == "__main__":
    main()
