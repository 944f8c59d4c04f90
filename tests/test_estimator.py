"""Golden workloads: each expected figure is computed here by hand from the published string rates
(shared/reference/anthropic-pricing.md, section 1) and compared with `==`, never approximately."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal as D

import pytest

from estimator import InvalidWorkloadError, UnknownModelError, Workload, estimate
from estimator.costs import Estimate
from estimator.planning import (
    break_even,
    budget,
    compare_models,
    hit_rate_from_traffic,
    sweep_hit_rate,
    sweep_prefix_tokens,
    sweep_requests,
)
from pricing import PriceTable

MTOK = D(1_000_000)
TODAY = dt.date(2026, 11, 25)


def run(**fields: object) -> Estimate:
    fields.setdefault("as_of", TODAY)
    fields.setdefault("requests", 1)
    return estimate(Workload(**fields))  # type: ignore[arg-type]


def codes(result: Estimate) -> set[str]:
    return {warning.code for warning in result.warnings}


# --- the seeds' worked examples (README, "Worked examples") -------------------------------------------

SONNET_46_DOC = {
    "model": "claude-sonnet-4-6",
    "prefix_tokens": 3000,
    "unique_input_tokens": 5000,
    "output_tokens": 1000,
    "cache_hit_rate": "0.85",
}


def test_sonnet_46_document_example_realtime_is_0_039() -> None:
    # Sonnet 4.6: input $3, output $15 [pricing]. 8,000 input + 1,000 output tokens.
    result = run(**SONNET_46_DOC)
    assert result.mode("realtime").per_request_usd == (8000 * D("3") + 1000 * D("15")) / MTOK == D("0.039")


@pytest.mark.parametrize(
    ("ttl", "write_rate", "expected"),
    [("5m", "1.875", D("0.01622625")), ("1h", "3", D("0.0167325"))],
)
def test_sonnet_46_document_example_batch_cached(ttl: str, write_rate: str, expected: D) -> None:
    # Batch rates: input 1.50, output 7.50, cache read 0.15, 5m write 1.875, 1h write 3 [pricing, batch 50%].
    result = run(**SONNET_46_DOC, cache_ttl=ttl)
    by_hand = (
        D("0.85") * 3000 * D("0.15") + D("0.15") * 3000 * D(write_rate) + 5000 * D("1.50") + 1000 * D("7.50")
    ) / MTOK
    assert by_hand == expected
    assert result.mode("batch_cached").per_request_usd == expected
    # The seeds' "~$0.012" cannot be reached: unique input and output alone cost $0.015 at batch rates.
    assert (5000 * D("1.50") + 1000 * D("7.50")) / MTOK == D("0.015")


def test_survey_example_weekly_totals() -> None:
    # 5,000 answers a week, 500 input, 200 output, 1,500-token cached prompt, 90% hits; model not stated in the
    # seeds: Sonnet 4.6 assumed, as in the first example.
    result = run(
        model="claude-sonnet-4-6",
        requests=5000,
        period="week",
        prefix_tokens=1500,
        unique_input_tokens=500,
        output_tokens=200,
        cache_hit_rate="0.9",
    )
    assert result.mode("realtime").total_usd == 5000 * (2000 * D(3) + 200 * D(15)) / MTOK == D(45)
    # The quoted $22.50 is what real-time costs if the 1,500-token prompt is left out:
    assert 5000 * (500 * D(3) + 200 * D(15)) / MTOK == D("22.5")
    per_request = (D("0.9") * 1500 * D("0.15") + D("0.1") * 1500 * D("1.875") + 500 * D("1.5") + 200 * D("7.5")) / MTOK
    assert result.mode("batch_cached").total_usd == 5000 * per_request == D("13.66875")
    hour = estimate(dataclasses.replace(result.workload, cache_ttl="1h"))
    assert hour.mode("batch_cached").total_usd == D("14.5125")  # 1h writes at $3 instead of $1.875


# --- caching semantics and the minimum cacheable length ----------------------------------------------


@pytest.mark.parametrize(
    ("model", "minimum", "read", "write_5m", "base"),
    [
        ("claude-sonnet-4-6", 1024, "0.30", "3.75", "3"),
        ("claude-opus-4-6", 4096, "0.50", "6.25", "5"),
        ("claude-haiku-5-5", 512, "0.01", "0.125", "0.10"),
        ("claude-opus-4-7", 2048, "0.50", "6.25", "5"),
    ],
)
def test_prefix_at_the_minimum_is_cached_one_below_is_not(
    model: str, minimum: int, read: str, write_5m: str, base: str
) -> None:
    at_min = run(model=model, requests=10, prefix_tokens=minimum, output_tokens=10, cache_hit_rate="0.5")
    cached = at_min.mode("realtime_cached")
    assert cached.caching_applied
    expected = 10 * (D("0.5") * minimum * D(read) + D("0.5") * minimum * D(write_5m)) / MTOK
    assert cached.line("cache_read").usd + cached.line("cache_write_5m").usd == expected
    assert "below_min_cacheable" not in codes(at_min)

    below = run(model=model, requests=10, prefix_tokens=minimum - 1, output_tokens=10, cache_hit_rate="0.5")
    assert not below.mode("realtime_cached").caching_applied
    assert below.mode("realtime_cached").total_usd == below.mode("realtime").total_usd
    assert below.mode("realtime").line("uncached_input").usd == 10 * (minimum - 1) * D(base) / MTOK
    (warning,) = [w for w in below.warnings if w.code == "below_min_cacheable"]
    assert "1 short" in warning.message and warning.field == "prefix_tokens"


def test_reads_and_writes_split_by_hit_rate() -> None:
    result = run(model="claude-sonnet-4-6", requests=7, prefix_tokens=2000, cache_hit_rate="0.85", cache_ttl="1h")
    cached = result.mode("realtime_cached")
    assert cached.line("cache_read").quantity == D("0.85") * 7 * 2000
    assert cached.line("cache_write_1h").quantity == D("0.15") * 7 * 2000
    assert cached.line("cache_write_5m").quantity == 0


# --- prompt-length tiers -----------------------------------------------------------------------------


def test_haiku_5_5_at_100000_prompt_tokens_pays_the_base_row() -> None:
    result = run(model="claude-haiku-5-5", unique_input_tokens=100_000, output_tokens=1000)
    assert result.tier_threshold_tokens is None
    assert result.mode("realtime").total_usd == (100_000 * D("0.10") + 1000 * D("0.50")) / MTOK
    assert "near_tier" in codes(result)


def test_haiku_5_5_at_100001_prompt_tokens_pays_the_higher_row_on_everything() -> None:
    result = run(model="claude-haiku-5-5", unique_input_tokens=100_001, output_tokens=1000)
    assert result.tier_threshold_tokens == 100_000
    assert result.mode("realtime").total_usd == (100_001 * D("0.50") + 1000 * D("2.50")) / MTOK
    assert result.mode("batch").total_usd == (100_001 * D("0.25") + 1000 * D("1.25")) / MTOK
    (warning,) = [w for w in result.warnings if w.code == "prompt_tier"]
    saving = (100_001 * D("0.50") + 1000 * D("2.50") - 100_000 * D("0.10") - 1000 * D("0.50")) / MTOK
    assert "1 over the 100,000-token tier" in warning.message
    assert saving == D("0.042000500")
    assert "saves $0.042" in warning.message


def test_tier_counts_cache_reads_and_writes() -> None:
    # 60,000 cached + 40,001 unique = 100,001 prompt tokens: the whole request pays the higher row.
    result = run(
        model="claude-haiku-5-5",
        prefix_tokens=60_000,
        unique_input_tokens=40_001,
        output_tokens=100,
        cache_hit_rate=1,
    )
    cached = result.mode("realtime_cached")
    assert cached.total_usd == (60_000 * D("0.05") + 40_001 * D("0.50") + 100 * D("2.50")) / MTOK
    assert "tier_counting_rule" in codes(result)


@pytest.mark.parametrize(("day", "tiered"), [(dt.date(2026, 3, 12), True), (dt.date(2026, 3, 13), False)])
def test_opus_4_6_former_200k_tier_either_side_of_its_end(day: dt.date, tiered: bool) -> None:
    result = run(model="claude-opus-4-6", unique_input_tokens=250_000, output_tokens=1000, as_of=day)
    rates = ("10", "37.50") if tiered else ("5", "25")
    assert result.mode("realtime").total_usd == (250_000 * D(rates[0]) + 1000 * D(rates[1])) / MTOK


# --- price history -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "read"), [(dt.date(2026, 10, 6), "0.20"), (dt.date(2026, 10, 7), "0.10")])
def test_sonnet_5_5_cache_read_either_side_of_the_cut(day: dt.date, read: str) -> None:
    result = run(model="claude-sonnet-5-5", requests=100, prefix_tokens=10_000, cache_hit_rate=1, as_of=day)
    assert result.mode("realtime_cached").total_usd == 100 * 10_000 * D(read) / MTOK
    assert result.mode("batch_cached").total_usd == 100 * 10_000 * D(read) / 2 / MTOK


@pytest.mark.parametrize("day", [dt.date(2026, 8, 31), dt.date(2026, 9, 1), dt.date(2026, 11, 25)])
def test_cancelled_sonnet_5_rise_is_never_charged(day: dt.date) -> None:
    result = run(model="claude-sonnet-5", unique_input_tokens=1_000_000, output_tokens=1_000_000, as_of=day)
    assert result.mode("realtime").total_usd == D(2) + D(10)


# --- modifiers ---------------------------------------------------------------------------------------


def test_us_residency_multiplies_every_token_category_by_1_1() -> None:
    base: dict[str, object] = {
        "model": "claude-sonnet-4-6",
        "requests": 10,
        "prefix_tokens": 2000,
        "unique_input_tokens": 100,
        "output_tokens": 100,
        "cache_hit_rate": "0.5",
        "web_searches_per_request": 1,
    }
    plain, us = run(**base), run(**base, geo="us")
    for mode in ("realtime", "realtime_cached", "batch", "batch_cached"):
        for category in ("uncached_input", "cache_write_5m", "cache_read", "output"):
            assert us.mode(mode).line(category).usd == plain.mode(mode).line(category).usd * D("1.1")
        assert us.mode(mode).line("web_search").usd == plain.mode(mode).line("web_search").usd == D("0.1")


def test_us_residency_is_an_error_before_claude_4_6() -> None:
    with pytest.raises(InvalidWorkloadError, match=r"only Claude 4\.6 and later"):
        run(model="claude-opus-4-5", geo="us")


def test_fast_mode_real_time_only() -> None:
    result = run(model="claude-opus-5-5", unique_input_tokens=1000, output_tokens=1000, fast=True)
    assert result.mode("realtime").total_usd == (1000 * D(8) + 1000 * D(40)) / MTOK
    assert result.mode("batch").total_usd == (1000 * D(2) + 1000 * D(10)) / MTOK
    assert "fast_not_in_batch" in codes(result)


def test_fast_mode_cache_prices_follow_the_model_multipliers_and_say_so() -> None:
    result = run(model="claude-opus-5-5", prefix_tokens=1000, cache_hit_rate="0.5", fast=True)
    cached = result.mode("realtime_cached")
    assert cached.total_usd == (500 * D(8) * D("0.05") + 500 * D(8) * D("1.25")) / MTOK
    assert "fast_cache_derived" in codes(result)


def test_fast_mode_unavailable_model_is_an_error_listing_those_with_it() -> None:
    with pytest.raises(InvalidWorkloadError, match="claude-opus-5-5"):
        run(model="claude-sonnet-4-6", fast=True)


def test_web_search_is_10_usd_per_1000_in_every_mode() -> None:
    result = run(model="claude-haiku-4-5", requests=1000, web_searches_per_request=2)
    for mode in result.modes:
        assert mode.line("web_search").usd == 2000 * D(10) / 1000


@pytest.mark.parametrize(("choice", "tokens"), [("auto", 497), ("any", 589)])
def test_tool_use_adds_the_system_prompt_to_the_prefix(choice: str, tokens: int) -> None:
    result = run(model="claude-sonnet-4-6", prefix_tokens=1000, unique_input_tokens=10, tool_use=choice)
    assert result.cacheable_prefix_tokens == 1000 + tokens
    assert result.mode("realtime").line("uncached_input").quantity == 1010 + tokens


def test_tool_tokens_unpublished_are_flagged() -> None:
    result = run(model="claude-opus-5", tool_use="auto")
    assert "tool_tokens_unknown" in codes(result)


def test_modes_that_did_not_exist_yet_are_unpriced_with_the_reason() -> None:
    # Haiku 3 before Message Batches (2024-10-08) and before prompt caching (2024-08-14): only real-time.
    result = run(model="claude-3-haiku-20240307", unique_input_tokens=1000, output_tokens=100, as_of="2024-05-01")
    assert result.mode("realtime").total_usd == (1000 * D("0.25") + 100 * D("1.25")) / MTOK
    for mode in ("realtime_cached", "batch", "batch_cached"):
        assert not result.mode(mode).available
    assert "2024-10-08" in (result.mode("batch").unavailable_reason or "")
    assert [m.mode for m in result.ranking] == ["realtime"]


# --- savings, ranking, warnings ----------------------------------------------------------------------


def test_savings_and_ranking() -> None:
    result = run(**SONNET_46_DOC)
    realtime = result.mode("realtime").total_usd
    for mode in result.modes:
        assert mode.savings_usd == realtime - mode.total_usd
        assert mode.savings_pct == (realtime - mode.total_usd) * 100 / realtime
    assert [m.mode for m in result.ranking] == ["batch_cached", "batch", "realtime_cached", "realtime"]


def test_batch_cached_band_over_best_effort_hit_rates() -> None:
    result = run(**SONNET_46_DOC)
    band = result.batch_cached_hit_band
    assert band is not None
    low = (D("0.30") * 3000 * D("0.15") + D("0.70") * 3000 * D("1.875") + 5000 * D("1.5") + 1000 * D("7.5")) / MTOK
    assert band.total_at_low_hit_rate_usd == low
    assert band.total_at_high_hit_rate_usd < result.mode("batch_cached").total_usd < low


def test_low_hit_rate_warns_that_caching_loses() -> None:
    result = run(model="claude-sonnet-4-6", prefix_tokens=5000, cache_hit_rate="0.1")
    assert result.mode("realtime_cached").total_usd > result.mode("realtime").total_usd
    assert "caching_loses" in codes(result)


def test_lifecycle_warnings() -> None:
    assert "retired" in codes(run(model="claude-3-opus-20240229"))
    assert "deprecated" in codes(run(model="claude-sonnet-4-5"))
    early = run(model="claude-haiku-5-5", unique_input_tokens=10, as_of=dt.date(2026, 1, 1))
    assert "before_release" in codes(early)
    assert early.mode("realtime").total_usd == 10 * D("0.10") / MTOK


def test_output_above_max_points_to_the_batch_beta() -> None:
    result = run(model="claude-sonnet-4-6", output_tokens=200_000)
    (warning,) = [w for w in result.warnings if w.code == "output_above_max"]
    assert "300,000" in warning.message and "output-300k-2026-03-24" in warning.message
    opus_45 = run(model="claude-opus-4-5", output_tokens=70_000)
    assert "No mode allows it" in next(w.message for w in opus_45.warnings if w.code == "output_above_max")


def test_more_than_one_batch_of_requests_gives_a_split() -> None:
    result = run(model="claude-haiku-4-5", requests=250_000)
    (warning,) = [w for w in result.warnings if w.code == "batch_split"]
    assert "at least 3 batches" in warning.message


def test_context_window_overflow_is_flagged() -> None:
    assert "context_window" in codes(run(model="claude-haiku-4-5", unique_input_tokens=199_000, output_tokens=2000))


def test_third_party_prices_are_flagged() -> None:
    assert "third_party_prices" in codes(run(model="claude-fable-5-2"))


# --- planning ----------------------------------------------------------------------------------------


def test_break_even_matches_anthropics_wording_for_every_cached_model(table: PriceTable) -> None:
    rules = table.rules.caching
    for model in table.models_as_of(TODAY, include_retired=True):
        # The newest prices, on a day both TTLs existed (the 1-hour TTL arrived in 2025).
        day = max(model.periods_in_effect[-1].effective_from, table.features.cache_ttl_1h.available_from)
        if not table.prices_as_of(model, day).has_cache_rates:
            continue
        five, hour = break_even(model.id, as_of=day)
        assert (five.reads_to_pay_off, hour.reads_to_pay_off) == (
            rules.break_even_reads_5m,
            rules.break_even_reads_1h,
        )


def test_break_even_hit_rate() -> None:
    five, hour = break_even("claude-sonnet-4-6", as_of=TODAY)
    assert five.hit_rate == (D("3.75") - 3) / (D("3.75") - D("0.30"))
    assert hour.hit_rate == (D(6) - 3) / (D(6) - D("0.30"))
    assert break_even("claude-sonnet-4-6", as_of=TODAY, batch=True)[0].hit_rate == five.hit_rate


def test_hit_rate_from_poisson_traffic() -> None:
    assert hit_rate_from_traffic(12, "5m") == D("0.632120558829")  # 12/h × 5 min = 1 arrival: 1 − e^−1
    assert hit_rate_from_traffic(0, "1h") == 0
    assert hit_rate_from_traffic(1, "1h") == hit_rate_from_traffic(12, "5m")
    with pytest.raises(InvalidWorkloadError):
        hit_rate_from_traffic(-1, "5m")


def test_budget_is_the_floor_of_budget_over_per_request_cost() -> None:
    workload = Workload(
        model="claude-sonnet-4-6", requests=1, unique_input_tokens=8000, output_tokens=1000, as_of=TODAY
    )
    (realtime, *_rest) = budget(workload, "39")
    assert (realtime.max_requests, realtime.total_usd) == (1000, D("39"))
    assert budget(workload, "38.999")[0].max_requests == 999
    assert budget(workload, "0")[0].max_requests == 0


def test_sweeps_equal_single_estimates() -> None:
    workload = Workload(**SONNET_46_DOC, requests=1000, as_of=TODAY)  # type: ignore[arg-type]
    hits = sweep_hit_rate(workload, ["0", "0.3", "0.85", "1"])
    for point in hits.points:
        single = estimate(dataclasses.replace(workload, cache_hit_rate=point.x))
        assert point.totals_usd == tuple(mode.total_usd for mode in single.modes)
    counts = sweep_requests(workload, [0, 1, 12_345])
    assert (
        counts.points[2].total("batch")
        == estimate(dataclasses.replace(workload, requests=12_345)).mode("batch").total_usd
    )
    prefix = sweep_prefix_tokens(workload, [1023, 1024])
    assert prefix.points[0].total("realtime_cached") == prefix.points[0].total("realtime")
    assert prefix.points[1].total("realtime_cached") < prefix.points[1].total("realtime")


def test_default_hit_rate_sweep_has_101_points_from_0_to_1() -> None:
    sweep = sweep_hit_rate(Workload(model="claude-haiku-4-5", requests=1, as_of=TODAY))
    assert len(sweep.points) == 101
    assert (sweep.points[0].x, sweep.points[50].x, sweep.points[-1].x) == (0, D("0.5"), 1)


def test_compare_converts_tokens_across_tokenizer_generations() -> None:
    workload = Workload(
        model="claude-sonnet-4-6", requests=1, unique_input_tokens=10_000, output_tokens=1000, as_of=TODAY
    )
    results = {r.model_id: r for r in compare_models(workload, ["claude-sonnet-4-6", "claude-sonnet-5-5"])}
    same, other = results["claude-sonnet-4-6"], results["claude-sonnet-5-5"]
    assert same.scale is not None and not same.scale.converts and same.low is None
    assert other.scale is not None and other.scale.converts
    assert other.estimate is not None and other.estimate.workload.unique_input_tokens == 13_000
    assert other.low is not None and other.low.workload.unique_input_tokens == 10_000
    assert other.high is not None and other.high.workload.unique_input_tokens == 13_500
    back = compare_models(dataclasses.replace(workload, tokens_measured_for="2026"), ["claude-sonnet-4-6"])[0]
    assert back.estimate is not None and back.estimate.workload.unique_input_tokens == 7692  # 10,000 / 1.3


def test_compare_keeps_going_when_one_model_refuses_the_workload() -> None:
    workload = Workload(model="claude-sonnet-4-6", requests=1, geo="us", as_of=TODAY)
    results = {r.model_id: r for r in compare_models(workload, ["claude-sonnet-4-6", "claude-opus-4-5"])}
    assert results["claude-opus-4-5-20251101"].error is not None
    assert results["claude-sonnet-4-6"].estimate is not None


def test_zero_requests_cost_nothing() -> None:
    result = run(**SONNET_46_DOC, requests=0)
    assert all(mode.total_usd == 0 for mode in result.modes)


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("requests", -1, "requests must be 0 or more"),
        ("requests", True, "not True"),
        ("requests", float("nan"), "finite number"),
        ("requests", float("inf"), "finite number"),
        ("requests", 10**13, "beyond any real workload"),
        ("prefix_tokens", 1.5, "whole number"),
        ("prefix_tokens", "lots", "must be a number"),
        ("output_tokens", -5, "0 or more"),
        ("cache_hit_rate", 1.5, "between 0 and 1"),
        ("cache_hit_rate", -0.1, "between 0"),
        ("cache_hit_rate", 85, "e.g. 0.85 for 85%"),
        ("cache_hit_rate", float("nan"), "finite number"),
        ("cache_hit_rate", False, "not False"),
        ("cache_hit_rate", "0." + "3" * 40, "decimal places"),
        ("cache_ttl", "10m", "cache_ttl must be one of 5m, 1h"),
        ("geo", "eu", "geo must be one of global, us"),
        ("tool_use", "sometimes", "tool_use must be one of"),
        ("fast", "yes", "fast must be true or false"),
        ("as_of", "last week", "YYYY-MM-DD"),
        ("model", "", "model must be a model id"),
        ("web_searches_per_request", -1, "between 0"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(field: str, value: object, message: str) -> None:
    fields: dict[str, object] = {"model": "claude-sonnet-4-6", "requests": 1, field: value}
    with pytest.raises(InvalidWorkloadError, match=re.escape(message)):
        Workload(**fields)  # type: ignore[arg-type]


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownModelError, match="Did you mean: claude-opus-4-6"):
        run(model="claude-opus-4.6x")


def test_floats_are_read_through_their_text() -> None:
    assert Workload(model="claude-sonnet-4-6", requests=1, cache_hit_rate=0.85).cache_hit_rate == D("0.85")


def test_a_plain_workload_is_unchanged_by_channels_server_tools_and_negotiated_rates(table: PriceTable) -> None:
    # The defaults: the Claude API, global, no thinking, fetches or code execution, the public table.
    result = estimate(Workload(model="claude-sonnet-4-6", requests=1, unique_input_tokens=8000, output_tokens=1000,
                               as_of=dt.date(2026, 11, 25)), table=table)  # fmt: skip
    assert result.mode("realtime").total_usd == D("0.039")
    assert result.channel is not None and (result.channel.channel, result.channel.multiplier) == ("anthropic", 1)
    assert result.negotiated is None and result.code_execution is not None and not result.code_execution.used
    assert {line.category: line.usd for line in result.mode("realtime").lines}["thinking"] == 0
    assert not {"channel_prices", "negotiated_rates", "code_execution_hours"} & {w.code for w in result.warnings}
