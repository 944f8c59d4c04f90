"""The generated usage set the bulk engines are held to, the Python pricer's answer for each record (the
oracle), and tests of what the engines share: the rates table and the SQL.

The set covers every model on the days its prices or features change (and the day before its release),
each way of billing (standard, batch, fast; global and US residency), every category (uncached input, 5m
and 1h writes, writes without their TTL split, reads, output with thinking, web searches and fetches), the
prompt-length tiers at and just above their thresholds, not-billed results, and bad input. DuckDB
(`test_bulk_duckdb.py`) and Spark (`test_bulk_spark.py`) must give the oracle's figures record for record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from estimator.bulk.rates import BILLING, RATE_CATEGORIES, model_names, rate_rows, rate_scale, tier_thresholds
from estimator.bulk.sql import priced_sql, rates_sql, rollup_sql, samples_sql, to_spark
from estimator.rates import ModeRates, Unpriced, resolve_mode_rates
from estimator.usage.pricer import price_usage
from estimator.usage.records import UsageRecord
from pricing import PriceTable, load_price_table, normalize_model_name
from pricing.features import GLOBAL_FEATURES

FIELDS = (
    "custom_id",
    "model",
    "day",
    "service_tier",
    "inference_geo",
    "speed",
    "result_type",
    "input_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_write_unsplit_tokens",
    "cache_read_tokens",
    "output_tokens",
    "thinking_tokens",
    "web_search_requests",
    "web_fetch_requests",
)
COUNTS = FIELDS[7:]
CATEGORY_COLUMNS = {
    "uncached_input": "uncached_input_usd",
    "cache_write_5m": "cache_write_5m_usd",
    "cache_write_1h": "cache_write_1h_usd",
    "cache_read": "cache_read_usd",
    "output": "output_usd",
    "web_search": "web_search_usd",
}
WHAT_IF_COLUMNS = {
    "realtime": "what_if_realtime_usd",
    "realtime_cached": "what_if_realtime_cached_usd",
    "batch": "what_if_batch_usd",
    "batch_cached": "what_if_batch_cached_usd",
}
BILLINGS = (
    (None, None, None),  # standard, global (fields absent, as most logs have them)
    ("batch", "global", None),
    ("standard", "not_available", "fast"),
    ("standard", "us", None),
    ("batch", "us", "standard"),
    (None, "us", "fast"),
)
BAD_ROWS: tuple[dict[str, Any], ...] = (
    {"model": "claude-nonexistent-9", "problem": "unknown_model"},
    {"model": "claude-haiku-5-5", "day": dt.date(2025, 1, 6), "problem": "before_release"},
    {"service_tier": "priority", "problem": "priority_tier"},
    {"service_tier": "flex", "problem": "unknown_service_tier"},
    {"speed": "turbo", "problem": "unknown_speed"},
    {"service_tier": "batch", "speed": "fast", "model": "claude-opus-5-5", "problem": "fast_in_batch"},
    {"inference_geo": "eu", "problem": "unknown_inference_geo"},
    {"inference_geo": "us", "model": "claude-haiku-4-5", "problem": "inference_geo_unavailable"},
    {"speed": "fast", "model": "claude-sonnet-4-6", "problem": "not_priced"},
    {"model": "claude-3-haiku-20240307", "day": dt.date(2024, 5, 1), "cache_read_tokens": 10, "problem": "not_priced"},
)
"""Rows the oracle refuses (a `UsageRecord` expresses them), each with the pricer's problem code."""

COUNT_PROBLEMS: tuple[tuple[str, object, str], ...] = (
    ("input_tokens", -5, "negative_count"),
    ("output_tokens", None, "missing_field"),
    ("cache_read_tokens", -1, "negative_count"),
)
"""Rows the readers refuse before any pricing (field, value, problem code): bad or missing counts."""


@cache
def table() -> PriceTable:
    return load_price_table()


def _days(model_id: str) -> list[dt.date]:
    """The days a model's rates can change on (and the day before), its release eve, and a recent day."""
    prices = table()
    model = prices.model(model_id)
    first = model.periods_in_effect[0].effective_from
    days = {first - dt.timedelta(days=1), first, dt.date(2026, 12, 1)}
    for period in model.periods_in_effect:
        days |= {period.effective_from, period.effective_from - dt.timedelta(days=1)}
    edges = []
    for feature in GLOBAL_FEATURES:
        window = prices.features.period(feature)
        edges += [window.available_from, window.removed]
    if model.fast_mode is not None:
        edges += [model.fast_mode.available_from, model.fast_mode.removed]
    for edge in edges:
        if edge is not None and edge >= first:
            days |= {edge, edge - dt.timedelta(days=1)}
    if model.lifecycle.retired is not None:
        days.add(model.lifecycle.retired)
    return sorted(day for day in days if day >= first - dt.timedelta(days=1))


def _profiles(model_id: str, day: dt.date) -> Iterator[dict[str, int]]:
    """Token profiles: plain; every category; unsplit writes; at and just over each prompt tier."""
    yield {"input_tokens": 1234, "output_tokens": 567}
    yield {
        "input_tokens": 3001,
        "cache_write_5m_tokens": 1500,
        "cache_write_1h_tokens": 2500,
        "cache_read_tokens": 40_000,
        "output_tokens": 2222,
        "thinking_tokens": 1000,
        "web_search_requests": 3,
        "web_fetch_requests": 2,
    }
    yield {"input_tokens": 17, "cache_write_unsplit_tokens": 4096, "cache_read_tokens": 9, "output_tokens": 1}
    period = table().model(model_id).period_as_of(day)
    for tier in period.tiers if period is not None else ():
        threshold = tier.above_prompt_tokens
        yield {"input_tokens": threshold - 1000, "cache_read_tokens": 1000, "output_tokens": 10}
        yield {"input_tokens": threshold - 1000, "cache_read_tokens": 1001, "output_tokens": 10}


def _row(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FIELDS)
    row.update(dict.fromkeys(COUNTS, 0))
    row["result_type"] = "succeeded"
    row.update(fields)
    return row


@cache
def usage_rows() -> tuple[dict[str, Any], ...]:
    """The generated set: one dict per record (`FIELDS`), plus `problem` on the rows that must be refused."""
    rows: list[dict[str, Any]] = []
    for model in table().models:
        for day in _days(model.id):
            for tier, geo, speed in BILLINGS:
                for profile in _profiles(model.id, day):
                    rows.append(
                        _row(model=model.id, day=day, service_tier=tier, inference_geo=geo, speed=speed, **profile)
                    )
    # Aliases and display names resolve like ids; raw values meaning "standard" are the same line.
    rows.append(_row(model="Claude Sonnet 4.5", day=dt.date(2026, 1, 5), input_tokens=10, output_tokens=5))
    rows.append(_row(model="sonnet-4-6", day=dt.date(2026, 6, 5), input_tokens=10, output_tokens=5))
    rows.append(_row(model="claude-haiku-4-5", day=dt.date(2026, 6, 5), input_tokens=10, output_tokens=5))
    for result in ("errored", "canceled", "expired"):
        rows.append(_row(model="claude-opus-5-5", day=dt.date(2026, 11, 1), result_type=result, service_tier="batch"))
    for bad in BAD_ROWS:
        fields = {"model": "claude-sonnet-4-6", "day": dt.date(2026, 11, 2), "input_tokens": 100, "output_tokens": 10}
        rows.append(_row(**(fields | bad)))
    for field, value, problem in COUNT_PROBLEMS:
        row = _row(model="claude-sonnet-4-6", day=dt.date(2026, 11, 3), input_tokens=100, output_tokens=10)
        row[field] = value
        row["problem"] = problem
        rows.append(row)
    for number, row in enumerate(rows, start=1):
        row["custom_id"] = f"req-{number}"
    return tuple(rows)


def as_record(row: dict[str, Any]) -> UsageRecord:
    return UsageRecord(
        model=row["model"],
        day=row["day"],
        service_tier=row["service_tier"],
        inference_geo=row["inference_geo"],
        speed=row["speed"],
        result_type=row["result_type"],
        custom_id=row["custom_id"],
        **{count: row[count] or 0 for count in COUNTS},
    )


def oracle(row: dict[str, Any]) -> dict[str, Any]:
    """The Python pricer's answer for one record: its problem code, or each category's cost, the total and
    the what-ifs (None where a mode has no price)."""
    if row.get("problem") in {problem for _, _, problem in COUNT_PROBLEMS}:
        return {"problem": row["problem"]}
    priced = price_usage(as_record(row), table=table())
    errors = [p.code for p in priced.problems if p.severity == "error"]
    if errors:
        return {"problem": errors[0]}
    if row["result_type"] != "succeeded":
        return {"problem": None, "billed": False}
    (line,) = priced.lines
    answer: dict[str, Any] = {"problem": None, "billed": True, "total_usd": line.total_usd}
    answer |= {column: line.usd[category] for category, column in CATEGORY_COLUMNS.items()}
    answer |= {column: line.what_if_usd[mode] for mode, column in WHAT_IF_COLUMNS.items()}
    answer["unsplit_write_extra_usd"] = line.unsplit_write_extra_usd
    return answer


def assert_matches_oracle(engine_rows: list[dict[str, Any]]) -> None:
    """Every engine row equals the oracle's answer for the same record (matched by custom_id), exactly."""
    rows = {row["custom_id"]: row for row in usage_rows()}
    assert sorted(r["custom_id"] for r in engine_rows) == sorted(rows)
    wrong = []
    for got in engine_rows:
        row = rows[got["custom_id"]]
        want = oracle(row)
        if got["problem"] != want["problem"]:
            wrong.append((got["custom_id"], "problem", got["problem"], want["problem"]))
            continue
        if want["problem"] is not None or not want["billed"]:
            continue
        for column, value in want.items():
            if column in ("problem", "billed"):
                continue
            if got[column] != value:
                wrong.append((got["custom_id"], column, got[column], value, row))
    assert wrong == [], f"{len(wrong)} differences, first: {wrong[:3]}"


def write_jsonl(path: Path, rows: tuple[dict[str, Any], ...]) -> Path:
    """The rows as a flat JSONL usage table (dates as ISO text)."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            values = {key: value.isoformat() if isinstance(value, dt.date) else value for key, value in row.items()}
            values.pop("problem", None)
            handle.write(json.dumps({k: v for k, v in values.items() if v is not None}) + "\n")
    return path


def write_parquet(path: Path, rows: tuple[dict[str, Any], ...]) -> Path:
    """The rows as a Parquet usage table, written by DuckDB from the JSONL (typed columns)."""
    import duckdb

    source = write_jsonl(path.with_suffix(".jsonl.tmp"), rows)
    columns = dict.fromkeys(FIELDS[:7], "VARCHAR") | dict.fromkeys(COUNTS, "BIGINT") | {"day": "DATE"}
    spec = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT {', '.join(FIELDS)} FROM read_json('{source}', columns = {spec}, "
            f"format = 'newline_delimited')) TO '{path}' (FORMAT PARQUET)"
        )
    source.unlink()
    return path


def results_jsonl(path: Path, rows: tuple[dict[str, Any], ...]) -> Path:
    """The priced rows as a Message Batches results file (usage objects as the API writes them)."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            if row["result_type"] != "succeeded":
                handle.write(json.dumps({"custom_id": row["custom_id"], "result": {"type": row["result_type"]}}) + "\n")
                continue
            usage: dict[str, Any] = {
                "input_tokens": row["input_tokens"],
                "output_tokens": row["output_tokens"],
                "cache_read_input_tokens": row["cache_read_tokens"],
                "cache_creation_input_tokens": row["cache_write_5m_tokens"]
                + row["cache_write_1h_tokens"]
                + row["cache_write_unsplit_tokens"],
                "cache_creation": {
                    "ephemeral_5m_input_tokens": row["cache_write_5m_tokens"],
                    "ephemeral_1h_input_tokens": row["cache_write_1h_tokens"],
                },
                "server_tool_use": {
                    "web_search_requests": row["web_search_requests"],
                    "web_fetch_requests": row["web_fetch_requests"],
                },
                "output_tokens_details": {"thinking_tokens": row["thinking_tokens"]},
                "service_tier": "batch",
            }
            if row["inference_geo"] is not None:
                usage["inference_geo"] = row["inference_geo"]
            message = {"id": "msg_1", "type": "message", "role": "assistant", "model": row["model"], "usage": usage}
            handle.write(
                json.dumps({"custom_id": row["custom_id"], "result": {"type": "succeeded", "message": message}}) + "\n"
            )
    return path


# --- what the engines share ------------------------------------------------------------------------------


def test_the_set_covers_every_case() -> None:
    rows = usage_rows()
    priced = [row for row in rows if "problem" not in row and row["result_type"] == "succeeded"]
    assert {row["model"] for row in priced} >= {model.id for model in table().models}
    assert {(row["service_tier"], row["inference_geo"], row["speed"]) for row in priced} == set(BILLINGS)
    for count in COUNTS:
        assert any(row[count] for row in priced), count
    assert any(row["model"] == "claude-haiku-5-5" and row["cache_read_tokens"] == 1001 for row in priced)
    assert any(row["model"] == "claude-sonnet-4-6" and row["day"] < dt.date(2026, 3, 13) for row in priced)
    assert {row["result_type"] for row in rows} == {"succeeded", "errored", "canceled", "expired"}
    problems = {oracle(row)["problem"] for row in rows}
    assert problems >= {row["problem"] for row in BAD_ROWS} | {"before_release", "not_priced"}


def test_every_rate_is_the_python_pricers_rate() -> None:
    """Each row's rates equal `resolve_mode_rates` on the dated view of any day of the row, per MTok."""
    prices = table()
    rows = rate_rows(prices)
    for row in rows:
        model = prices.model(row.model_id)
        last = (row.valid_to or dt.date(2027, 1, 1)) - dt.timedelta(days=1)
        for day in {row.valid_from, last}:
            period = model.period_as_of(day)
            assert period is not None and period.effective_from == row.prices_effective_from
            tier = next((t for t in period.tiers if t.above_prompt_tokens == row.tier_above_tokens), None)
            multiplier = prices.rules.data_residency.us_multiplier if row.geo == "us" else Decimal(1)
            for billing in BILLING:
                rates = row.billing(billing)
                mode = "batch_cached" if billing == "batch" else "realtime_cached"
                want = resolve_mode_rates(
                    period, mode, tier=tier, fast=billing == "fast", geo_multiplier=multiplier, model_name=model.name
                )
                if rates.problem is not None or isinstance(want, Unpriced):
                    continue
                assert isinstance(want, ModeRates)
                got = rates.mode_rates(cached=True)
                assert got is not None
                assert (got.input_mtok, got.output_mtok, got.cache_read_mtok, got.cache_write_1h_mtok) == (
                    want.input_mtok,
                    want.output_mtok,
                    want.cache_read_mtok,
                    want.cache_write_1h_mtok,
                ), (row, billing, day)


def test_rates_agree_with_the_exported_rates_table_where_both_price() -> None:
    """`pricing.export` (the table published for warehouses) and the bulk rates give the same rate on each
    day both have one; the export also stops at a model's retirement, which the pricers do not."""
    export = pytest.importorskip("pricing.export")
    prices = table()
    exported = export.rate_rows(prices)
    ours = rate_rows(prices)
    field = {"input": "input", "cache_write_5m": "cache_write_5m", "cache_write_1h": "cache_write_1h"}
    field |= {"cache_read": "cache_read", "output": "output"}
    compared = 0
    for rate in exported:
        billing = "standard" if rate.mode == "standard" else rate.mode
        for row in ours:
            same_day = row.valid_from <= rate.valid_from and (row.valid_to is None or rate.valid_from < row.valid_to)
            if row.model_id != rate.model_id or row.geo != rate.inference_geo or not same_day:
                continue
            if row.tier_above_tokens != rate.tier_above_prompt_tokens:
                continue
            value = row.billing(billing).rate(field[rate.category])
            if value is not None:
                assert value.scaleb(6) == rate.usd_per_mtok, (rate, row)
                compared += 1
    assert compared > 500


def test_model_names_resolve_as_the_price_table_does() -> None:
    names = {name.name_key: name.model_id for name in model_names(table())}
    for model in table().models:
        for spelling in (model.id, *model.aliases, model.name):
            assert names[normalize_model_name(spelling)] == model.id


def test_money_is_decimal_with_a_scale_that_holds_every_rate_exactly() -> None:
    rows = rate_rows(table())
    scale = rate_scale(rows)
    for row in rows:
        for billing in BILLING:
            for category in RATE_CATEGORIES:
                value = row.billing(billing).rate(category)
                if value is not None:
                    assert value == value.quantize(Decimal(1).scaleb(-scale))
    sql = priced_sql(scale)
    assert "DOUBLE" not in sql.upper().replace("AS DOUBLE)) AS DATE", "")  # only Unix seconds go through DOUBLE
    assert f"DECIMAL(38, {scale})" in sql


@pytest.mark.parametrize("name", ["rates", "priced", "rollup", "samples"])
def test_one_sql_source_transpiles_to_spark(name: str) -> None:
    rows = rate_rows(table())
    sql = {
        "rates": lambda: rates_sql(rows[:10], rate_scale(rows)),
        "priced": lambda: priced_sql(rate_scale(rows)),
        "rollup": lambda: rollup_sql(rate_scale(rows), tier_thresholds(rows)),
        "samples": lambda: samples_sql(10),
    }[name]()
    spark = to_spark(sql)
    assert "DECIMAL(38" in spark or name in ("rollup", "samples", "rates")
    assert "regexp_matches" not in spark.lower()
