"""Invariants of the cost model, checked on generated workloads (Hypothesis)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from estimator import Workload, estimate
from pricing import load_price_table

TODAY = dt.date(2026, 11, 25)
_TABLE = load_price_table()
PRICED_MODELS = [m.id for m in _TABLE.models_as_of(TODAY) if m.prices[-1].has_batch_rates]

tokens = st.integers(min_value=0, max_value=300_000)
workloads = st.builds(
    Workload,
    model=st.sampled_from(PRICED_MODELS),
    requests=st.integers(min_value=0, max_value=1_000_000),
    prefix_tokens=tokens,
    unique_input_tokens=tokens,
    output_tokens=st.integers(min_value=0, max_value=100_000),
    cache_hit_rate=st.decimals(min_value=0, max_value=1, places=4),
    cache_ttl=st.sampled_from(["5m", "1h"]),
    as_of=st.just(TODAY),
    web_searches_per_request=st.decimals(min_value=0, max_value=5, places=2),
)


@settings(max_examples=150, deadline=None)
@given(workloads)
def test_batch_never_costs_more_than_real_time(workload: Workload) -> None:
    result = estimate(workload, table=_TABLE)
    assert result.mode("batch").total_usd <= result.mode("realtime").total_usd
    assert result.mode("batch_cached").total_usd <= result.mode("realtime_cached").total_usd


@settings(max_examples=100, deadline=None)
@given(workloads, st.integers(min_value=0, max_value=10_000))
def test_cost_is_linear_in_requests(workload: Workload, factor: int) -> None:
    one = estimate(dataclasses.replace(workload, requests=1), table=_TABLE)
    many = estimate(dataclasses.replace(workload, requests=factor), table=_TABLE)
    for a, b in zip(one.modes, many.modes, strict=True):
        assert b.total_usd == a.total_usd * factor


@settings(max_examples=100, deadline=None)
@given(
    workloads,
    st.decimals(min_value=0, max_value=1, places=3),
    st.decimals(min_value=0, max_value=1, places=3),
)
def test_more_hits_never_cost_more(workload: Workload, first: Decimal, second: Decimal) -> None:
    low, high = sorted((first, second))
    at_low = estimate(dataclasses.replace(workload, cache_hit_rate=low), table=_TABLE)
    at_high = estimate(dataclasses.replace(workload, cache_hit_rate=high), table=_TABLE)
    for mode in ("realtime_cached", "batch_cached"):
        assert at_high.mode(mode).total_usd <= at_low.mode(mode).total_usd


@settings(max_examples=50, deadline=None)
@given(workloads)
def test_zero_tokens_cost_zero(workload: Workload) -> None:
    empty = dataclasses.replace(
        workload, prefix_tokens=0, unique_input_tokens=0, output_tokens=0, web_searches_per_request=Decimal(0)
    )
    assert all(mode.total_usd == 0 for mode in estimate(empty, table=_TABLE).modes)


@settings(max_examples=100, deadline=None)
@given(workloads)
def test_total_is_the_sum_of_its_breakdown_and_per_request_times_requests(workload: Workload) -> None:
    for mode in estimate(workload, table=_TABLE).modes:
        assert mode.total_usd == sum(line.usd for line in mode.lines)
        assert mode.total_usd == mode.per_request_usd * workload.requests
