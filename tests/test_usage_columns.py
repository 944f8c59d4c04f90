"""`price_columns` prices exactly as it did row by row.

The row-by-row path it replaced (every row checked, then `UsageAccumulator.add`) is kept here as the
reference, and so is the former arithmetic of a priced line (each category, the total, each what-if mode).
Random columns — every category, prompt tier, geo, speed and service tier, unknown models, dates outside
every price period, bad counts (None, -1, bools, floats, NaN, strings, huge ints), absent and empty
columns, rows over many chunks — must give the very same `PricedUsage`: equal, and equal in `repr`
(so every Decimal keeps its digits and exponent), problems and warnings with their rows and messages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from array import array
from collections.abc import Sequence
from decimal import Decimal, localcontext
from typing import Any, cast
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estimator.costs import EXACT
from estimator.rates import ModeRates, Unpriced, resolve_mode_rates
from estimator.results import CATEGORIES, MTOK, Category
from estimator.usage import columns
from estimator.usage.pricer import PricedUsage, TokenSums, UsageAccumulator, price_columns
from estimator.usage.records import COUNT_FIELDS, UsageProblem
from estimator.workload import MODES, Mode
from pricing import load_price_table

TABLE = load_price_table()
KEY_COLUMNS = ("service_tiers", "inference_geos", "speeds")

# Models chosen for their rules in pricing/prices.yaml: Haiku 5.5 (a 100K prompt tier, US residency),
# Opus 4.6 (a 200K tier in its first period only, fast mode, US), Sonnet 4 (a 200K tier from its second
# period; retired), Haiku 3.5 (no 1-hour cache writes in its first period; retired), Opus 5.5 (fast),
# Sonnet 4.6, Opus 4.8 (fast), an alias, a display name, and names the table does not know.
MODELS = (
    "claude-haiku-5-5",
    "claude-opus-4-6",
    "claude-sonnet-4-20250514",
    "claude-3-5-haiku-20241022",
    "claude-opus-5-5",
    "claude-sonnet-4-6",
    "claude-opus-4-8",
    "claude-opus-4-5",
    "Claude Haiku 5.5",
    "claude-nope-9",
    "gpt-4o",
)
DAYS = tuple(
    dt.date.fromisoformat(day)
    for day in (
        "2024-06-01",  # before most releases: refused as "no price before"
        "2024-11-20",  # Haiku 3.5's first period (no 1-hour writes)
        "2025-09-01",  # Sonnet 4's tiered period
        "2026-02-10",  # Opus 4.6's tiered period
        "2026-03-20",
        "2026-07-01",  # after Sonnet 4's retirement: a warning
        "2026-10-07",
        "2026-11-25",
    )
)
SERVICE_TIERS = (None, "standard", "batch", "priority", "flex")
GEOS = (None, "global", "not_available", "us", "eu")
SPEEDS = (None, "standard", "fast", "turbo")
BAD_COUNTS = (None, -1, True, False, 1.5, float("nan"), "7", Decimal(3))
TIER_EDGES = (99_999, 100_000, 100_001, 199_999, 200_000, 200_001)
DATE_RANGE = (dt.date(2023, 1, 1), dt.date(2027, 6, 30))  # before every price; long after


# --- the references ----------------------------------------------------------------------------------


def row_by_row(models: Sequence[Any], days: Sequence[Any], *, source: str = "<columns>", **given: Any) -> PricedUsage:
    """`price_columns` before the columnar engine, verbatim but for names: each row's counts checked in
    `COUNT_FIELDS` order, then one `UsageAccumulator.add` per row."""
    rows = len(models)
    counts = [given.get(name) if given.get(name) is not None else [0] * rows for name in COUNT_FIELDS[:-1]]
    counts.append(given["requests"] if given.get("requests") is not None else [1] * rows)
    keys = [given.get(name) if given.get(name) is not None else [None] * rows for name in KEY_COLUMNS]
    accumulator = UsageAccumulator(TABLE)
    for row, values in enumerate(zip(models, days, *keys, *counts, strict=True), start=1):
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


def former_category_usd(tokens: TokenSums, rates: ModeRates) -> dict[Category, Decimal]:
    """A line's categories as `category_usd` computed them before (a dict built category by category)."""
    search_usd = TABLE.rules.web_search.usd_per_1000_searches / 1000
    cache_writes_5m = tokens.cache_write_5m_tokens + tokens.cache_write_unsplit_tokens
    if rates.cache_read_mtok is None or rates.cache_write_5m_mtok is None:
        uncached = tokens.input_tokens + cache_writes_5m + tokens.cache_write_1h_tokens + tokens.cache_read_tokens
        return {
            "uncached_input": uncached * rates.input_mtok / MTOK,
            "cache_write_5m": Decimal(0),
            "cache_write_1h": Decimal(0),
            "cache_read": Decimal(0),
            "output": tokens.output_tokens * rates.output_mtok / MTOK,
            "web_search": tokens.web_search_requests * search_usd,
            "thinking": Decimal(0),
            "code_execution": Decimal(0),
        }
    return {
        "uncached_input": tokens.input_tokens * rates.input_mtok / MTOK,
        "cache_write_5m": cache_writes_5m * rates.cache_write_5m_mtok / MTOK,
        "cache_write_1h": tokens.cache_write_1h_tokens * rates.cache_write_1h_mtok / MTOK
        if tokens.cache_write_1h_tokens and rates.cache_write_1h_mtok is not None
        else Decimal(0),
        "cache_read": tokens.cache_read_tokens * rates.cache_read_mtok / MTOK,
        "output": tokens.output_tokens * rates.output_mtok / MTOK,
        "web_search": tokens.web_search_requests * search_usd,
        "thinking": Decimal(0),
        "code_execution": Decimal(0),
    }


def assert_lines_priced_as_before(priced: PricedUsage) -> None:
    """Every line's categories, total and what-if modes as the former code computed them, digit for digit:
    each mode's rates resolved afresh from the table, each cost computed in full."""
    with localcontext(EXACT):
        for line in priced.lines:
            usd = former_category_usd(line.tokens, line.rates)
            assert list(line.usd) == list(CATEGORIES)
            assert repr(line.usd) == repr(usd)
            assert repr(line.total_usd) == repr(sum(usd.values(), Decimal(0)))
            model = TABLE.model(line.model_id)
            period = model.period_as_of(line.day)
            assert period is not None
            tier = next((t for t in period.tiers if t.above_prompt_tokens == line.tier_above_tokens), None)
            us = TABLE.rules.data_residency.us_multiplier if line.inference_geo == "us" else Decimal(1)
            tokens = line.tokens
            touched = any((tokens.cache_write_5m_tokens, tokens.cache_write_1h_tokens))
            touched = touched or any((tokens.cache_write_unsplit_tokens, tokens.cache_read_tokens))
            costs: dict[str, Decimal | None] = {}
            reasons: dict[str, str] = {}
            for mode in MODES:
                fast = line.speed == "fast" and not mode.startswith("batch")
                plain = mode if touched or not mode.endswith("cached") else mode.removesuffix("_cached")
                priced_mode = cast(Mode, plain)
                rates = resolve_mode_rates(
                    period, priced_mode, tier=tier, fast=fast, geo_multiplier=us, model_name=model.name
                )
                if isinstance(rates, Unpriced):
                    costs[mode], reasons[mode] = None, rates.reason
                elif tokens.cache_write_1h_tokens and rates.cache_read_mtok and rates.cache_write_1h_mtok is None:
                    costs[mode] = None
                    reasons[mode] = period.unavailable("cache_ttl_1h") or "no 1-hour cache-write price"
                else:
                    costs[mode] = sum(former_category_usd(tokens, rates).values(), Decimal(0))
            assert repr(line.what_if_usd) == repr(costs)
            assert line.what_if_reasons == reasons


def assert_same(columns_kwargs: dict[str, Any], models: Sequence[Any], days: Sequence[Any]) -> PricedUsage:
    fast = price_columns(models, days, table=TABLE, **columns_kwargs)
    slow = row_by_row(models, days, **columns_kwargs)
    assert fast == slow
    assert repr(fast) == repr(slow)  # every Decimal with its exponent, every problem with its row
    assert_lines_priced_as_before(fast)
    return fast


# --- random columns ----------------------------------------------------------------------------------

# Mostly what prices (so that keys repeat and the loop adds most rows), with every trouble now and then:
# a tenth of the rows carry one bad count, and a key may be refused for its model, day, tier, geo or speed.
count = st.one_of(st.integers(0, 5_000), st.just(0), st.sampled_from(TIER_EDGES), st.integers(0, 10**30))
bad_count = st.tuples(st.sampled_from([False] * 9 + [True]), st.sampled_from(COUNT_FIELDS), st.sampled_from(BAD_COUNTS))
key = st.fixed_dictionaries(
    {
        "model": st.sampled_from([*MODELS[:7] * 3, *MODELS[7:]]),
        "day": st.sampled_from([*DAYS[6:] * 6, *DAYS, *DATE_RANGE]),
        "service_tiers": st.sampled_from([None, None, None, "standard", "batch", "batch", *SERVICE_TIERS[3:]]),
        "inference_geos": st.sampled_from([None, None, None, "global", "not_available", "us", *GEOS[4:]]),
        "speeds": st.sampled_from([None, None, "standard", "fast", "fast", *SPEEDS[3:]]),
    }
)
palette = st.lists(key, min_size=1, max_size=4)
row = st.tuples(st.integers(0, 3), st.fixed_dictionaries(dict.fromkeys(COUNT_FIELDS, count)), bad_count)
rows = st.lists(row, min_size=1, max_size=60)
optional = st.sets(st.sampled_from([*KEY_COLUMNS, *COUNT_FIELDS[1:5], *COUNT_FIELDS[6:]]))


def as_columns(table_rows: list[dict[str, Any]], given: set[str]) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Rows to columns; optional columns not in `given` are left out (absent: 0, 1 request, or None)."""
    models = [row["model"] for row in table_rows]
    days = [row["day"] for row in table_rows]
    kwargs: dict[str, Any] = {}
    for name in (*KEY_COLUMNS, *COUNT_FIELDS):
        if name in ("input_tokens", "output_tokens") or name in given:
            kwargs[name] = [row[name] for row in table_rows]
    return models, days, kwargs


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keys=palette, picks=rows, given=optional, chunk_rows=st.sampled_from([1, 2, 3, 7, 4096]))
def test_random_columns_price_as_row_by_row(
    keys: list[dict[str, Any]], picks: list[tuple[int, dict[str, Any], Any]], given: set[str], chunk_rows: int
) -> None:
    table_rows = [
        {**keys[index % len(keys)], **values, **(dict([bad[1:]]) if bad[0] else {})} for index, values, bad in picks
    ]
    models, days, kwargs = as_columns(table_rows, given)
    with mock.patch.object(columns, "CHUNK_ROWS", chunk_rows):
        assert_same(kwargs, models, days)


@pytest.mark.parametrize("chunk_rows", [97, columns.CHUNK_ROWS])
def test_many_rows_over_many_chunks_price_as_row_by_row(chunk_rows: int) -> None:
    """A bulk file's mix (benchmarks/bench_columns.py's) with every kind of trouble sprinkled in."""
    rng = random.Random(14)
    table_rows = []
    for _ in range(20_000):
        row = {
            "model": rng.choice(MODELS[:7]) if rng.random() < 0.995 else rng.choice(MODELS[7:]),
            "day": rng.choice(DAYS[4:]) if rng.random() < 0.99 else rng.choice(DAYS),
            "service_tiers": "batch" if rng.random() < 0.3 else rng.choice(SERVICE_TIERS),
            "inference_geos": "us" if rng.random() < 0.1 else rng.choice((None, None, None, "global", "eu")),
            "speeds": "fast" if rng.random() < 0.05 else None,
            "input_tokens": rng.randrange(5000),
            "cache_write_5m_tokens": rng.randrange(4000) if rng.random() < 0.2 else 0,
            "cache_write_1h_tokens": rng.randrange(4000) if rng.random() < 0.09 else 0,
            "cache_write_unsplit_tokens": rng.randrange(4000) if rng.random() < 0.02 else 0,
            "cache_read_tokens": rng.choice((120_000, 250_000)) if rng.random() < 0.01 else rng.randrange(50_000),
            "output_tokens": rng.randrange(2000),
            "thinking_tokens": rng.randrange(500) if rng.random() < 0.1 else 0,
            "web_search_requests": rng.randrange(1, 4) if rng.random() < 0.02 else 0,
            "web_fetch_requests": 1 if rng.random() < 0.01 else 0,
            "requests": rng.choice((0, 1, 1, 1, 2)),
        }
        if rng.random() < 0.002:
            row[rng.choice(COUNT_FIELDS)] = rng.choice(BAD_COUNTS)
        table_rows.append(row)
    models, days, kwargs = as_columns(table_rows, set(KEY_COLUMNS) | set(COUNT_FIELDS))
    with mock.patch.object(columns, "CHUNK_ROWS", chunk_rows):
        priced = assert_same(kwargs, models, days)
    assert priced.problems and priced.unpriced_records
    assert any(line.tier_above_tokens for line in priced.lines)  # Haiku 5.5 over 100K, priced by the loop
    assert {(line.speed, line.inference_geo, line.service_tier) for line in priced.lines} >= {
        ("fast", "global", "standard"),
        ("standard", "us", "batch"),
    }


# --- the cases by name -------------------------------------------------------------------------------

DAY = dt.date(2026, 11, 25)


def test_bad_counts_are_refused_with_their_row_and_the_first_bad_field() -> None:
    models = ["claude-sonnet-4-6"] * 5
    priced = assert_same(
        {
            "input_tokens": [10, None, 10, 10, 10**30],
            "output_tokens": [1, 1, True, 1, 1],
            "cache_read_tokens": [0, 0, -1, 2.5, 0],
        },
        models,
        [DAY] * 5,
    )
    assert [(p.line, p.code, p.message) for p in priced.problems] == [
        (2, "invalid_count", "input_tokens must be an int ≥ 0, got None"),
        (3, "invalid_count", "cache_read_tokens must be an int ≥ 0, got -1"),
        (4, "invalid_count", "cache_read_tokens must be an int ≥ 0, got 2.5"),
    ]
    assert priced.unpriced_records == 3 and priced.priced_records == 2  # 10**30 input tokens is a count
    assert priced.requests_by_result["succeeded"] == 2


def test_empty_columns_price_nothing() -> None:
    priced = assert_same({"input_tokens": [], "output_tokens": []}, [], [])
    assert priced.total_usd == 0 and priced.lines == () and priced.problems == ()


def test_no_count_column_at_all_prices_requests_of_nothing() -> None:
    priced = assert_same({"input_tokens": None, "output_tokens": None}, ["claude-sonnet-4-6"] * 2, [DAY] * 2)
    assert priced.total_usd == 0 and priced.priced_records == 2 and priced.tokens.requests == 2


def test_a_column_of_another_length_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="column cache_read_tokens has 1 rows, models has 2"):
        price_columns(["a", "b"], [DAY, DAY], input_tokens=[1, 2], output_tokens=[1, 2], cache_read_tokens=[1])


def test_a_refusal_lists_its_first_rows_as_row_by_row() -> None:
    models = ["claude-sonnet-4-6", *["claude-nope-9"] * 14, "claude-sonnet-4-6"]
    priced = assert_same({"input_tokens": [5] * 16, "output_tokens": [5] * 16}, models, [DAY] * 16)
    (refused,) = priced.problems
    assert refused.code == "unknown_model" and refused.line == 2 and refused.records == 14
    assert refused.message.endswith("; also lines 3, 4, 5, 6, 7, 8, 9, 10, 11, ...")


def test_prompt_tiers_are_priced_per_row_inside_a_key() -> None:
    """Haiku 5.5 rows on one day, one key but for the tier: each row over 100K goes to the tier's line."""
    reads = [0, 120_000, 5, 99_996, 99_997, 250_000]  # with 4 input tokens: 4, 120004, 9, 100000, 100001, ...
    priced = assert_same(
        {"input_tokens": [4] * 6, "output_tokens": [1] * 6, "cache_read_tokens": reads},
        ["claude-haiku-5-5"] * 6,
        [DAY] * 6,
    )
    by_tier = {(line.tier_above_tokens, line.billed_mode): line.tokens.records for line in priced.lines}
    assert by_tier == {(None, "realtime"): 1, (None, "realtime_cached"): 2, (100_000, "realtime_cached"): 3}


@pytest.mark.parametrize("container", [tuple, lambda values: array("q", values)])
def test_tuple_and_array_columns_price_as_lists(container: Any) -> None:
    counts = {"input_tokens": [1000, 7, 0], "output_tokens": [10, 0, 3], "cache_write_1h_tokens": [0, 9, 0]}
    models, days = ["claude-opus-5-5", "claude-sonnet-4-6", "claude-opus-5-5"], [DAY] * 3
    given = {name: container(values) for name, values in counts.items()}
    assert price_columns(tuple(models), tuple(days), table=TABLE, **given) == assert_same(counts, models, days)


def test_numpy_and_arrow_columns_price_as_the_lists_they_hold() -> None:
    """Integer, text and day arrays are read as their Python values (exact); a float array stays floats, each
    row refused, never truncated."""
    import numpy as np  # both come with the app's dependencies (streamlit)
    import pyarrow as pa

    models = ["claude-opus-5-5", "claude-sonnet-4-6", "claude-opus-5-5"]
    counts = {"input_tokens": [1000, 7, 0], "output_tokens": [10, 0, 3], "cache_read_tokens": [0, 9, 5]}
    expected = price_columns(models, [DAY] * 3, table=TABLE, **counts)
    as_numpy = {name: np.array(values, dtype=np.int32) for name, values in counts.items()}
    days = np.array([DAY] * 3, dtype="datetime64[D]")
    assert price_columns(np.array(models), days, table=TABLE, **as_numpy) == expected
    as_arrow = {name: pa.array(values, type=pa.uint16()) for name, values in counts.items()}
    assert price_columns(pa.array(models), pa.array([DAY] * 3), table=TABLE, **as_arrow) == expected
    floats = price_columns(models, [DAY] * 3, table=TABLE, **(counts | {"input_tokens": np.array([1000.0, 7.0, 0.0])}))
    assert [(p.line, p.code) for p in floats.problems] == [
        (1, "invalid_count"),
        (2, "invalid_count"),
        (3, "invalid_count"),
    ]
    assert floats.total_usd == 0


def test_a_key_of_the_wrong_type_refuses_its_row_and_prices_the_rest() -> None:
    """Never a crash (an AttributeError, an unhashable key), never a guess: the row is named, its first bad
    key said, and the others priced exactly as without it."""
    sonnet = "claude-sonnet-4-6"
    models: list[Any] = [sonnet, None, 5, sonnet, sonnet, sonnet, sonnet, ["x"], sonnet]
    days: list[Any] = [DAY, DAY, DAY, None, "2026-11-25", dt.datetime(2026, 11, 25, 5), DAY, DAY, DAY]
    tiers: list[Any] = [None, None, None, None, None, None, ["batch"], None, "batch"]
    counts = {"input_tokens": list(range(10, 19)), "output_tokens": [3] * 9}
    priced = price_columns(models, days, service_tiers=tiers, table=TABLE, **counts)
    assert [(p.line, p.code, p.message) for p in priced.problems] == [
        (2, "invalid_key", "model must be a model id or name (text), got NoneType None"),
        (3, "invalid_key", "model must be a model id or name (text), got int 5"),
        (4, "invalid_key", "day must be a datetime.date (for a timestamp, its .date()), got NoneType None"),
        (5, "invalid_key", "day must be a datetime.date (for a timestamp, its .date()), got str '2026-11-25'"),
        (6, "invalid_key", "day must be a datetime.date (for a timestamp, its .date()), got datetime "
                           "datetime.datetime(2026, 11, 25, 5, 0)"),
        (7, "invalid_key", "service_tier must be text or None, got list ['batch']"),
        (8, "invalid_key", "model must be a model id or name (text), got list ['x']"),
    ]  # fmt: skip
    assert priced.unpriced_records == 7 and priced.priced_records == 2
    good = [0, 8]
    expected = price_columns(
        [models[i] for i in good],
        [days[i] for i in good],
        service_tiers=[tiers[i] for i in good],
        table=TABLE,
        **{name: [values[i] for i in good] for name, values in counts.items()},
    )
    assert (priced.total_usd, priced.lines) == (expected.total_usd, expected.lines)


def test_a_what_if_model_takes_every_row_through_add() -> None:
    """With a what-if model the accumulator needs each record: the engine then adds none itself."""
    models = ["claude-sonnet-4-6", "claude-haiku-5-5", "claude-sonnet-4-6"]
    days = [DAY] * 3
    given = {"input_tokens": [100, 150_000, 7], "output_tokens": [5, 6, 7], "cache_read_tokens": [0, 20, 0]}
    engine = UsageAccumulator(TABLE, what_if_model="claude-opus-5-5")
    columns.sum_columns(engine, [models, days, None, None, None], given, 3, "<columns>")
    by_row = UsageAccumulator(TABLE, what_if_model="claude-opus-5-5")
    for row, (model, inp, out, read) in enumerate(zip(models, *given.values(), strict=True), start=1):
        by_row.requests_by_result["succeeded"] += 1
        by_row.add(model, DAY, None, None, None, inp, 0, 0, 0, read, out, 0, 0, 0, 1, "<columns>", row)
    assert repr(engine.finish()) == repr(by_row.finish())


def test_the_sums_layout_is_the_token_sums_fields() -> None:
    assert tuple(field.name for field in dataclasses.fields(TokenSums)) == columns.SUM_FIELDS
