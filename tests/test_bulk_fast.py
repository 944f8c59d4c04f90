"""DuckDB's fast path (`estimator.bulk.sql.FastGroups`): a flat Parquet table's records summed per one
integer key, then decoded. It must give the very rollup the per-record path gives, on the generated set and
on randomized tables full of edge cases (bad, missing and huge counts, unknown spellings, tiers at their
thresholds, every schema the fast path accepts), and the Python pricer's figures where the Python pricer can
read the records."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from estimator.bulk import price_files_bulk
from estimator.bulk.duckdb_engine import DuckDBEngine
from estimator.bulk.inputs import discover
from estimator.bulk.rates import model_names, rate_rows, rate_scale, tier_thresholds
from estimator.bulk.sql import FAST_COUNT_LIMIT, FAST_KEY, FlatColumns, fast_groups, rates_sql
from estimator.usage.actuals import actual_costs
from estimator.usage.readers import MAX_REPORT_TOKENS
from estimator.usage.records import UsageRecord
from tests.test_bulk_cases import COUNTS, table, usage_rows, write_parquet

duckdb = pytest.importorskip("duckdb")

AS_OF = dt.date(2026, 12, 1)


def _rollup(paths: Sequence[Path], *, fast: bool, default_model: str | None = None) -> tuple[list[Any], int]:
    """The engine's rollup (sorted) and how many records the fast key summed."""
    prices = table()
    rows = rate_rows(prices)
    with DuckDBEngine(threads=2, fast=fast) as engine:
        engine.load(
            discover(paths),
            rows,
            model_names(prices),
            rate_scale(rows),
            default_day=AS_OF,
            default_model=default_model,
        )
        rollup = engine.rollup()
        keyed = 0
        if fast:
            tables = engine.con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'usage_fast%'")
            for (name,) in tables.fetchall():
                found = engine.con.execute(f"SELECT SUM(records) FROM {name} WHERE {FAST_KEY} IS NOT NULL").fetchone()
                keyed += int(found[0] or 0) if found else 0
    return sorted(rollup, key=repr), keyed


def test_the_generated_set_rolls_up_the_same_both_ways(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "usage.parquet", usage_rows())
    fast, keyed = _rollup([path], fast=True)
    slow, _ = _rollup([path], fast=False)
    assert fast == slow
    priced = [row for row in usage_rows() if "problem" not in row and row["result_type"] == "succeeded"]
    assert keyed >= len(priced) * 0.9  # the fast path did the work; the rest went through the records


# --- randomized tables -----------------------------------------------------------------------------------

_SPELLED = ("claude-sonnet-4-6", "claude-haiku-5-5", "claude-opus-5-5", "claude-haiku-4-5", "claude-opus-4-8")
_ODD_MODELS = ("Claude Sonnet 4.5", "CLAUDE-SONNET-4-6", "sonnet-4-6", "claude-nonexistent-9", "", None)


def _count(rng: random.Random, thresholds: Sequence[int]) -> int:
    roll = rng.random()
    if roll < 0.35:
        return 0
    if roll < 0.5:
        return rng.choice((1, 2))  # the smallest counts that change a record's line (cache use) or price
    if roll < 0.9:
        return rng.randint(3, 5000)
    return max(thresholds or (1000,)) // 2 + rng.randint(-1, 1)


@cache
def _thresholds() -> tuple[int, ...]:
    return tier_thresholds(rate_rows(table()))


def _random_row(rng: random.Random, number: int, *, bad: bool) -> dict[str, Any]:
    thresholds = _thresholds()
    model = rng.choice(_SPELLED) if rng.random() < 0.85 or not bad else rng.choice(_ODD_MODELS)
    row: dict[str, Any] = {
        "custom_id": f"r{number}",
        "model": model,
        "day": AS_OF - dt.timedelta(days=rng.choice((0, 1, 40, 200, 400, 700))),
        "service_tier": rng.choice((None, None, "standard", "batch", "batch")),
        "inference_geo": rng.choice((None, None, None, "global", "not_available", "us")),
        "speed": rng.choice((None, None, None, "standard", "fast")),
        "result_type": rng.choice((None, None, None, "succeeded")),
    }
    row |= {name: _count(rng, thresholds) for name in COUNTS}
    row["requests"] = rng.choice((1, 1, 1, 2, 0))
    row["thinking_tokens"] = min(row["thinking_tokens"], row["output_tokens"])
    if rng.random() < 0.02:  # a prompt just at / over a tier threshold
        threshold = rng.choice(thresholds)
        row |= {"input_tokens": threshold - 1000, "cache_read_tokens": 1000 + rng.choice((0, 1))}
        row |= {"cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0, "cache_write_unsplit_tokens": 0}
    if bad and rng.random() < 0.3:
        spoil = rng.choice(("null", "negative", "huge", "thinking", "day", "tier", "geo", "speed", "result"))
        field = rng.choice((*COUNTS, "requests"))
        if spoil == "null":
            row[field] = None
        elif spoil == "negative":
            row[field] = -rng.randint(1, 9)
        elif spoil == "huge":
            row[field] = MAX_REPORT_TOKENS + 1
        elif spoil == "thinking":
            row["thinking_tokens"] = (row["output_tokens"] or 0) + 1
        elif spoil == "day":
            row["day"] = None
        elif spoil == "tier":
            row["service_tier"] = rng.choice(("priority", "flex"))
        elif spoil == "geo":
            row["inference_geo"] = "eu"
        elif spoil == "speed":
            row["speed"] = "turbo"
        else:
            row["result_type"] = rng.choice(("errored", "expired", "bogus"))
    return row


_TYPES = {"custom_id": "VARCHAR", "model": "VARCHAR", "day": "DATE", "service_tier": "VARCHAR"}
_TYPES |= {"inference_geo": "VARCHAR", "speed": "VARCHAR", "result_type": "VARCHAR"}
_TYPES |= dict.fromkeys((*COUNTS, "requests"), "BIGINT")


def _write(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str], types: dict[str, str]) -> Path:
    """The rows as Parquet with exactly these columns and types, written by DuckDB (through JSON Lines)."""
    kinds = {name: types.get(name, _TYPES[name]) for name in columns}
    source = path.with_suffix(".jsonl")
    with source.open("w", encoding="utf-8") as handle:
        for row in rows:
            values = {name: row[name] for name in columns}
            for name, kind in kinds.items():
                if isinstance(values[name], dt.date):
                    values[name] = values[name].isoformat()
                elif kind == "INTEGER" and isinstance(values[name], int):
                    values[name] = min(values[name], 2**31 - 1)  # "huge" as big as a 32-bit column holds
            handle.write(json.dumps(values) + "\n")
    spec = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in kinds.items()) + "}"
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            f"COPY (SELECT * FROM read_json('{source}', columns = {spec}, format = 'newline_delimited')) "
            f"TO '{path}' (FORMAT PARQUET)"
        )
    source.unlink()
    return path


_SCHEMAS: dict[str, tuple[tuple[str, ...], dict[str, str], str | None]] = {
    "every column": (tuple(_TYPES), {}, None),
    "timestamps, 32-bit counts": (
        ("model", "day", "service_tier", "inference_geo", "speed", *COUNTS),
        {"day": "TIMESTAMP"} | dict.fromkeys(COUNTS, "INTEGER"),
        None,
    ),
    "UTC timestamps, few counts": (
        ("model", "day", "service_tier", "input_tokens", "output_tokens", "cache_read_tokens"),
        {"day": "TIMESTAMPTZ"},
        None,
    ),
    "no day, a default model": (("model", "input_tokens", "output_tokens", "cache_write_1h_tokens"), {}, "sonnet-4-6"),
}


@pytest.mark.parametrize("schema", list(_SCHEMAS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_tables_roll_up_the_same_both_ways(tmp_path: Path, schema: str, seed: int) -> None:
    columns, types, default_model = _SCHEMAS[schema]
    rng = random.Random(seed)
    rows = [_random_row(rng, number, bad=True) for number in range(3000)]
    if "day" in types and types["day"].startswith("TIMESTAMP"):
        for row in rows:  # late in the day: a timestamp's date is its UTC calendar day
            row["day"] = None if row["day"] is None else dt.datetime.combine(row["day"], dt.time(23, 59))
    path = _write(tmp_path / "usage.parquet", rows, columns, types)
    fast, keyed = _rollup([path], fast=True, default_model=default_model)
    slow, _ = _rollup([path], fast=False, default_model=default_model)
    assert fast == slow
    assert keyed > len(rows) // 2


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_random_clean_tables_equal_the_python_pricer(tmp_path: Path, seed: int) -> None:
    """Records the Python pricer can read: the bulk totals, lines and what-ifs are its own, exactly."""
    rng = random.Random(seed)
    rows = [_random_row(rng, number, bad=False) for number in range(2000)]
    path = _write(tmp_path / "usage.parquet", rows, tuple(_TYPES), {})
    bulk = price_files_bulk([path], engine="duckdb", as_of=AS_OF, table=table())
    records = [
        UsageRecord(
            model=row["model"],
            day=row["day"],
            service_tier=row["service_tier"],
            inference_geo=row["inference_geo"],
            speed=row["speed"],
            custom_id=row["custom_id"],
            requests=row["requests"],
            **{name: row[name] for name in COUNTS},
        )
        for row in rows
    ]
    python = actual_costs(records, as_of=AS_OF, table=table())
    assert bulk.total_usd == python.total_usd > Decimal(0)
    assert (bulk.priced_records, bulk.unpriced_records) == (python.priced_records, python.unpriced_records)
    assert bulk.tokens == python.tokens
    assert bulk.requests == python.requests
    assert [(w.mode, w.total_usd) for w in bulk.what_if] == [(w.mode, w.total_usd) for w in python.what_if]
    assert sorted((line.day, line.model_id, line.billed_mode, line.total_usd) for line in bulk.lines) == sorted(
        (line.day, line.model_id, line.billed_mode, line.total_usd) for line in python.lines
    )


# --- when the fast path applies ------------------------------------------------------------------------


def _columns(**kinds: str) -> FlatColumns:
    return FlatColumns.match((name, kind) for name, kind in kinds.items())  # type: ignore[misc]


def _fast(columns: FlatColumns) -> object:
    names = [name.name_key for name in model_names(table())]
    return fast_groups(
        columns,
        model_spellings=names,
        thresholds=_thresholds(),
        default_day=AS_OF,
        default_model=None,
        limit=MAX_REPORT_TOKENS,
    )


def test_the_fast_path_takes_typed_tables_only() -> None:
    typed = {"model": "string", "day": "date", "input_tokens": "int", "output_tokens": "int"}
    assert _fast(_columns(**typed)) is not None
    assert _fast(_columns(**typed | {"day": "timestamp", "result_type": "string"})) is not None
    assert _fast(_columns(**typed | {"input_tokens": "string"})) is None  # CSV / JSON text counts
    assert _fast(_columns(**typed | {"output_tokens": "float"})) is None
    assert _fast(_columns(**typed | {"day": "string"})) is None
    assert _fast(_columns(**typed | {"cache_creation_input_tokens": "int"})) is None
    assert _fast(_columns(model="string", input_tokens="int")) is None  # the records path names the gap


def test_a_clean_parquet_file_is_summed_in_one_pass(tmp_path: Path) -> None:
    rng = random.Random(7)
    rows = [_random_row(rng, number, bad=False) for number in range(300)]
    path = _write(tmp_path / "usage.parquet", rows, tuple(_TYPES), {})
    _, keyed = _rollup([path], fast=True)
    assert keyed == len(rows)


def test_duckdb_finds_null_in_a_list() -> None:
    """The key relies on it for absent service tiers, geos and speeds (were it to change, those records would
    take the per-record path: slower, still exact)."""
    with duckdb.connect() as con:
        found = con.execute("SELECT list_position(['a', NULL], CAST(NULL AS VARCHAR))").fetchone()
    assert found == (2,)


def test_the_rates_table_loads_exactly(tmp_path: Path) -> None:
    """DuckDB reads the rates table from a CSV file of `rate_values`: the same rows as the VALUES list."""
    prices = table()
    rows = rate_rows(prices)
    scale = rate_scale(rows)
    path = write_parquet(tmp_path / "usage.parquet", usage_rows()[:5])
    with DuckDBEngine(threads=1) as engine:
        engine.load(discover([path]), rows, model_names(prices), scale, default_day=AS_OF, default_model=None)
        loaded = engine.con.execute("SELECT * FROM usage_rates ORDER BY ALL").fetchall()
        types = engine.con.execute("SELECT column_type FROM (DESCRIBE usage_rates)").fetchall()
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE usage_rates AS {rates_sql(rows, scale)}")
        listed = con.execute("SELECT * FROM usage_rates ORDER BY ALL").fetchall()
        listed_types = con.execute("SELECT column_type FROM (DESCRIBE usage_rates)").fetchall()
    assert loaded == listed and len(loaded) == len(rows)
    assert types == listed_types


def _bound_rows(count: int, value: int) -> list[dict[str, Any]]:
    base = {"custom_id": None, "model": "claude-sonnet-4-6", "day": AS_OF, "service_tier": None}
    base |= {"inference_geo": None, "speed": None, "result_type": None, "requests": 1}
    base |= dict.fromkeys(COUNTS, 0)
    return [base | {"input_tokens": value, "output_tokens": value, "cache_read_tokens": value} for _ in range(count)]


def test_the_64_bit_sums_are_exact_at_their_bound(tmp_path: Path) -> None:
    """Counts at `FAST_COUNT_LIMIT` are summed by the fast path (in 64-bit integers) to the exact total; one
    over it takes the per-record path; the rollup is the per-record path's either way."""
    rows = _bound_rows(3000, FAST_COUNT_LIMIT) + _bound_rows(2, FAST_COUNT_LIMIT + 1)
    path = _write(tmp_path / "usage.parquet", rows, tuple(_TYPES), {})
    fast, keyed = _rollup([path], fast=True)
    slow, _ = _rollup([path], fast=False)
    assert fast == slow
    assert keyed == 3000
    assert sum(row["input_tokens"] for row in fast) == 3000 * FAST_COUNT_LIMIT + 2 * (FAST_COUNT_LIMIT + 1)


def test_a_group_too_large_for_64_bit_sums_is_summed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import estimator.bulk.duckdb_engine as engine_module
    from estimator.bulk.sql import FastGroups

    summings: list[str] = []
    groups_sql = FastGroups.groups_sql

    def spy(self: FastGroups, source: str, summing: str = "SUM") -> str:
        summings.append(summing)
        return groups_sql(self, source, summing)

    monkeypatch.setattr(FastGroups, "groups_sql", spy)
    monkeypatch.setattr(engine_module, "FAST_GROUP_RECORDS", 100)  # as if a group could reach 2^32 records
    path = _write(tmp_path / "usage.parquet", _bound_rows(150, FAST_COUNT_LIMIT), tuple(_TYPES), {})
    fast, _ = _rollup([path], fast=True)
    assert summings == ["sum_no_overflow", "SUM"]
    assert fast == _rollup([path], fast=False)[0]


def test_counts_near_2_63_among_bad_records_do_not_break_the_sums(tmp_path: Path) -> None:
    """Records without a key are summed in the same scan (their sums unused): huge counts there must not make
    the 64-bit sums fail or change anything."""
    huge = 2**63 - 10
    rows = _bound_rows(50, 100) + [row | {"output_tokens": huge} for row in _bound_rows(3, 100)]
    path = _write(tmp_path / "usage.parquet", rows, tuple(_TYPES), {})
    fast, keyed = _rollup([path], fast=True)
    assert keyed == 50
    assert fast == _rollup([path], fast=False)[0]
    assert sum(row["records"] for row in fast if row["problem"] == "count_too_large") == 3


def test_64_bit_sums_that_fail_are_done_again_in_128_bits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from estimator.bulk.sql import FastGroups

    summings: list[str] = []
    groups_sql = FastGroups.groups_sql

    def failing(self: FastGroups, source: str, summing: str = "SUM") -> str:
        summings.append(summing)
        if summing != "SUM":  # as DuckDB does when a 64-bit sum overflows on some paths
            return "SELECT error('Overflow in repeated aggregate state combine') AS usage_fast_key"
        return groups_sql(self, source, summing)

    monkeypatch.setattr(FastGroups, "groups_sql", failing)
    path = _write(tmp_path / "usage.parquet", _bound_rows(20, 7), tuple(_TYPES), {})
    fast, keyed = _rollup([path], fast=True)
    assert summings == ["sum_no_overflow", "SUM"] and keyed == 20
    assert fast == _rollup([path], fast=False)[0]
