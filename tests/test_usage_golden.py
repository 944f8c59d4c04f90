"""Actual costs priced by hand: every expected figure is computed here from the rates of the price table
(typed as strings from pricing/prices.yaml and shared/reference/anthropic-pricing.md), never pasted."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal as D
from typing import Any

import pytest

from estimator import ActualCosts, UsageRecord, actual_costs, price_usage
from estimator.usage.pricer import price_columns

MTOK = D(1_000_000)
BATCH = D("0.5")  # rules.batch.price_multiplier: 50% of every category [batch]
US = D("1.1")  # rules.data_residency.us_multiplier [pricing]
SEARCH = D(10) / 1000  # rules.web_search.usd_per_1000_searches [tool_use]
DAY = dt.date(2026, 11, 25)

# (input, 5m write, 1h write, read, output) per MTok, from the YAML rows in effect on DAY.
SONNET_4_6 = (D("3"), D("3.75"), D("6"), D("0.30"), D("15"))
OPUS_4_6 = (D("5"), D("6.25"), D("10"), D("0.50"), D("25"))
HAIKU_5_5 = (D("0.10"), D("0.125"), D("0.20"), D("0.01"), D("0.50"))
HAIKU_5_5_OVER_100K = (D("0.50"), D("0.625"), D("1.00"), D("0.05"), D("2.50"))
OPUS_4_8_FAST = (D("10"), D("12.50"), D("20"), D("1.00"), D("50"))  # fast 10/50, cache by the 1.25/2/0.1 rule
OPUS_5_5 = (D("4"), D("5"), D("8"), D("0.20"), D("20"))


def cost(rates: tuple[D, ...], *, inp: int = 0, w5: int = 0, w1h: int = 0, read: int = 0, out: int = 0) -> D:
    i, c5, c1, r, o = rates
    return (inp * i + w5 * c5 + w1h * c1 + read * r + out * o) / MTOK


def usage(
    inp: int, out: int, *, w5: int = 0, w1h: int = 0, read: int = 0, split: bool = True, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": w5 + w1h,
        "cache_read_input_tokens": read,
        **extra,
    }
    if split:
        body["cache_creation"] = {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1h}
    return body


def result_line(custom_id: str, model: str, body: dict[str, Any]) -> dict[str, Any]:
    message = {"id": f"msg_{custom_id}", "type": "message", "model": model, "usage": body}
    return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}


def jsonl(values: list[dict[str, Any]], name: str = "results.jsonl") -> io.BytesIO:
    stream = io.BytesIO("".join(json.dumps(v) + "\n" for v in values).encode())
    stream.name = name
    return stream


def priced(values: list[dict[str, Any]], **options: Any) -> ActualCosts:
    return actual_costs(jsonl(values), as_of=options.pop("as_of", DAY), **options)


def test_batch_results_5m_and_1h_writes_reads_and_unbilled_lines() -> None:
    lines = [
        result_line("a", "claude-sonnet-4-6", usage(1000, 200, w5=300, w1h=200, read=3000, service_tier="batch")),
        result_line("b", "claude-sonnet-4-6", usage(40, 900, read=3500, service_tier="batch")),
        {"custom_id": "c", "result": {"type": "errored", "error": {"type": "error", "error": {"type": "api_error"}}}},
        {"custom_id": "d", "result": {"type": "canceled"}},
        {"custom_id": "e", "result": {"type": "expired"}},
    ]
    result = priced(lines)

    a = cost(SONNET_4_6, inp=1000, w5=300, w1h=200, read=3000, out=200) * BATCH
    b = cost(SONNET_4_6, inp=40, read=3500, out=900) * BATCH
    assert result.total_usd == a + b
    assert result.requests == {"succeeded": 2, "errored": 1, "canceled": 1, "expired": 1}
    assert result.categories["cache_write_1h"].usd == 200 * SONNET_4_6[2] * BATCH / MTOK
    assert result.categories["cache_write_5m"].usd == 300 * SONNET_4_6[1] * BATCH / MTOK
    assert result.categories["cache_read"].tokens == 6500
    assert result.hit_rate == D(6500) / D(7000)
    assert result.fully_priced
    assert {n.custom_id for n in result.not_billed} == {"c", "d", "e"}


def test_results_lines_are_batch_priced_even_without_service_tier() -> None:
    result = priced([result_line("a", "claude-sonnet-4-6", usage(1000, 100))])
    assert result.total_usd == cost(SONNET_4_6, inp=1000, out=100) * BATCH


def test_us_residency_multiplies_every_token_category() -> None:
    body = usage(2000, 300, w5=1000, read=4000, inference_geo="us", service_tier="standard")
    result = priced([{"type": "message", "model": "claude-opus-4-6", "usage": body}])
    assert result.total_usd == cost(OPUS_4_6, inp=2000, w5=1000, read=4000, out=300) * US


def test_fast_mode_prices_at_the_fast_rates_of_that_day() -> None:
    body = usage(1000, 500, read=2000, speed="fast")
    result = priced([{"type": "message", "model": "claude-opus-4-8", "usage": body}], as_of=dt.date(2026, 7, 1))
    assert result.total_usd == cost(OPUS_4_8_FAST, inp=1000, read=2000, out=500)
    standard = (D(5), D("6.25"), D(10), D("0.50"), D(25))  # batch runs at standard speed: no fast mode there
    assert result.what_if_total("batch_cached") == cost(standard, inp=1000, read=2000, out=500) * BATCH


def test_fast_mode_after_its_removal_is_refused_not_priced() -> None:
    body = usage(1000, 500, speed="fast")
    result = priced([{"type": "message", "model": "claude-opus-4-8", "usage": body}], as_of=dt.date(2026, 12, 1))
    assert result.total_usd == 0
    assert result.unpriced_records == 1
    (problem,) = result.errors
    assert problem.line == 1 and "2026-11-30" in problem.message


def test_web_search_is_priced_per_thousand_in_every_mode() -> None:
    body = usage(100, 50, server_tool_use={"web_search_requests": 3, "web_fetch_requests": 2})
    result = priced([result_line("a", "claude-sonnet-4-6", body)])
    assert result.total_usd == cost(SONNET_4_6, inp=100, out=50) * BATCH + 3 * SEARCH
    assert result.categories["web_search"].usd == 3 * SEARCH
    assert result.tokens.web_fetch_requests == 2


def test_haiku_5_5_prompt_over_100k_pays_the_tier_for_the_whole_request() -> None:
    over = {"type": "message", "model": "claude-haiku-5-5", "usage": usage(90_000, 1000, read=10_001)}
    at = {"type": "message", "model": "claude-haiku-5-5", "usage": usage(90_000, 1000, read=10_000)}
    result = priced([over, at])
    expected = cost(HAIKU_5_5_OVER_100K, inp=90_000, read=10_001, out=1000) + cost(
        HAIKU_5_5, inp=90_000, read=10_000, out=1000
    )
    assert result.total_usd == expected
    assert {line.tier_above_tokens for line in result.lines} == {None, 100_000}


def test_iterations_are_priced_each_with_its_model_and_top_level_figures_not_added() -> None:
    body = usage(23_000, 1000)
    body["iterations"] = [
        {"type": "compaction", "input_tokens": 180_000, "output_tokens": 3500},
        {"type": "message", "model": "claude-opus-4-6", "input_tokens": 23_000, "output_tokens": 1000},
        {
            "type": "advisor_message",
            "model": "claude-opus-5-5",
            "input_tokens": 5000,
            "output_tokens": 400,
            "cache_read_input_tokens": 1000,
        },
    ]
    result = priced([{"type": "message", "model": "claude-opus-4-6", "usage": body}])
    expected = (
        cost(OPUS_4_6, inp=180_000, out=3500)  # compaction names no model: the request's
        + cost(OPUS_4_6, inp=23_000, out=1000)
        + cost(OPUS_5_5, inp=5000, read=1000, out=400)
    )
    assert result.total_usd == expected
    assert result.requests["succeeded"] == 1
    assert sum(model.requests for model in result.models) == 1


def test_thinking_tokens_are_inside_output() -> None:
    body = usage(100, 800, output_tokens_details={"thinking_tokens": 600})
    result = priced([{"type": "message", "model": "claude-sonnet-4-6", "usage": body}])
    assert result.total_usd == cost(SONNET_4_6, inp=100, out=800)
    assert result.tokens.thinking_tokens == 600


def test_unsplit_cache_writes_are_5m_writes_with_the_1h_upper_bound_said() -> None:
    body = usage(100, 10, w5=5000, split=False)
    result = priced([{"type": "message", "model": "claude-sonnet-4-6", "usage": body}])
    assert result.total_usd == cost(SONNET_4_6, inp=100, w5=5000, out=10)
    assert result.upper_bound_total_usd == cost(SONNET_4_6, inp=100, w1h=5000, out=10)
    assert result.unsplit_cache_write_tokens == 5000
    assert any("upper bound" in note for note in result.notes)


def test_what_if_reprices_the_same_usage_in_every_mode() -> None:
    body = usage(1000, 200, w5=500, read=4000, service_tier="batch")
    result = priced([result_line("a", "claude-sonnet-4-6", body)])
    prompt = 1000 + 500 + 4000
    assert result.what_if_total("realtime") == cost(SONNET_4_6, inp=prompt, out=200)
    assert result.what_if_total("realtime_cached") == cost(SONNET_4_6, inp=1000, w5=500, read=4000, out=200)
    assert result.what_if_total("batch") == cost(SONNET_4_6, inp=prompt, out=200) * BATCH
    assert result.what_if_total("batch_cached") == result.total_usd
    assert [item.mode for item in result.what_if if item.billed] == ["batch_cached"]


def test_what_if_on_another_model_converts_tokens_between_tokenizer_generations() -> None:
    body = usage(10_000, 1000)
    result = priced([{"type": "message", "model": "claude-sonnet-4-6", "usage": body}], what_if_model="claude-opus-5-5")
    other = result.what_if_model
    assert other is not None and other.available
    # legacy → 2026 tokenizer: × 1.3 expected, 1.0–1.35 (tokenizers."2026".versus_legacy_*)
    assert other.expected_usd == cost(OPUS_5_5, inp=10_000, out=1000) * D("1.3")
    assert other.low_usd == cost(OPUS_5_5, inp=10_000, out=1000) * D("1.0")
    assert other.high_usd == cost(OPUS_5_5, inp=10_000, out=1000) * D("1.35")


def test_price_usage_takes_a_bare_usage_object_and_records() -> None:
    assert price_usage({"input_tokens": 1000, "output_tokens": 200}, model="claude-sonnet-4-6").total_usd == cost(
        SONNET_4_6, inp=1000, out=200
    )
    record = UsageRecord(
        "claude-sonnet-4-6", DAY, "batch", input_tokens=1000, cache_write_1h_tokens=50, output_tokens=5
    )
    assert price_usage([record, record]).total_usd == 2 * cost(SONNET_4_6, inp=1000, w1h=50, out=5) * BATCH


def test_columns_price_exactly_as_records_do() -> None:
    models = ["claude-sonnet-4-6", "claude-haiku-5-5", "claude-sonnet-4-6"]
    columns = price_columns(
        models,
        [DAY] * 3,
        input_tokens=[1000, 90_000, 5],
        output_tokens=[200, 10, 0],
        cache_read_tokens=[0, 20_000, 0],
        cache_write_1h_tokens=[0, 0, 7],
        service_tiers=["batch", None, "standard"],
    )
    expected = (
        cost(SONNET_4_6, inp=1000, out=200) * BATCH
        + cost(HAIKU_5_5_OVER_100K, inp=90_000, read=20_000, out=10)
        + cost(SONNET_4_6, inp=5, w1h=7)
    )
    assert columns.total_usd == expected
    assert columns.category_usd["cache_write_1h"] == 7 * SONNET_4_6[2] / MTOK
    bad = price_columns(["claude-sonnet-4-6"], [DAY], input_tokens=[-1], output_tokens=[1])
    assert bad.unpriced_records == 1 and bad.problems[0].line == 1


# --- Admin reports -----------------------------------------------------------------------------------


def usage_report_page(rows: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    buckets: dict[str, list[dict[str, Any]]] = {}
    for day, model, body in rows:
        buckets.setdefault(day, []).append(
            {**body, "model": model, "service_tier": "standard", "context_window": "0-200k", "inference_geo": "global"}
        )
    return {
        "data": [
            {"starting_at": f"{d}T00:00:00Z", "ending_at": f"{d}T23:59:59Z", "results": r} for d, r in buckets.items()
        ],
        "has_more": False,
        "next_page": None,
    }


def report_usage(inp: int, out: int, *, w5: int = 0, w1h: int = 0, read: int = 0) -> dict[str, Any]:
    return {
        "uncached_input_tokens": inp,
        "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1h},
        "cache_read_input_tokens": read,
        "output_tokens": out,
        "server_tool_use": {"web_search_requests": 0},
    }


def test_cost_report_round_trip_in_cents() -> None:
    rows = [
        ("2026-11-20", "claude-sonnet-4-6", report_usage(1_234_567, 89_012, w5=30_000, w1h=7_000, read=400_000)),
        ("2026-11-20", "claude-opus-4-6", report_usage(10_001, 333)),
        ("2026-11-21", "claude-sonnet-4-6", report_usage(5, 7)),
    ]
    page = usage_report_page(rows)
    ours = [
        cost(SONNET_4_6, inp=1_234_567, w5=30_000, w1h=7_000, read=400_000, out=89_012),
        cost(OPUS_4_6, inp=10_001, out=333),
        cost(SONNET_4_6, inp=5, out=7),
    ]
    # The report states cents as decimal strings, fractional cents included: "123.45" is $1.2345.
    cost_page = {
        "data": [
            {
                "starting_at": f"{day}T00:00:00Z",
                "ending_at": f"{day}T23:59:59Z",
                "results": [
                    {"amount": str(usd * 100), "currency": "USD", "model": model, "cost_type": "tokens"}
                    for (row_day, model, _), usd in zip(rows, ours, strict=True)
                    if row_day == day
                ],
            }
            for day in ("2026-11-20", "2026-11-21")
        ],
        "has_more": False,
        "next_page": None,
    }
    result = actual_costs([page], cost_reports=[cost_page])
    report = result.cost_report
    assert report is not None
    assert result.total_usd == sum(ours, D(0))
    assert report.reported_total_usd == sum(ours, D(0))
    assert report.difference_usd == 0 and report.to_the_cent
    day_rows = {(row.day.isoformat(), row.model_id): row for row in report.rows}
    assert day_rows[("2026-11-20", "claude-opus-4-6")].reported_usd == ours[1]
    assert day_rows[("2026-11-21", None)].ours_usd == ours[2]


def test_cost_amounts_are_cents_not_dollars() -> None:
    page = {"data": [{"starting_at": "2026-11-20T00:00:00Z", "results": [{"amount": "123.45", "currency": "USD"}]}]}
    result = actual_costs([], cost_reports=[page])
    assert result.cost_report is not None
    assert result.cost_report.reported_total_usd == D("1.2345")


def test_analytics_pages_carry_request_counts() -> None:
    page = {
        "data": [
            {
                "starting_at": "2026-11-20T00:00:00Z",
                "ending_at": "2026-11-21T00:00:00Z",
                "group": {"model": "claude-sonnet-4-6", "service_tier": "batch", "context_window": "0-200k"},
                "usage": {**report_usage(3000, 600), "requests": 12},
            }
        ],
        "has_more": False,
        "next_page": None,
        "data_refreshed_at": "2026-11-22T00:05:00Z",
    }
    result = actual_costs([page])
    assert result.total_usd == cost(SONNET_4_6, inp=3000, out=600) * BATCH
    assert result.requests["succeeded"] == 12
    assert result.output_tokens_per_request == D(600) / 12


@pytest.mark.parametrize("shape", ["array", "document"])
def test_a_json_array_or_one_document_reads_like_jsonl(shape: str) -> None:
    values = [{"type": "message", "model": "claude-sonnet-4-6", "usage": usage(10, 20)}] * 2
    text = (
        json.dumps(values, indent=2)
        if shape == "array"
        else json.dumps(usage_report_page([("2026-11-20", "claude-sonnet-4-6", report_usage(10, 20))] * 2), indent=2)
    )
    result = actual_costs(io.BytesIO(text.encode()), as_of=DAY)
    assert result.total_usd == 2 * cost(SONNET_4_6, inp=10, out=20)
