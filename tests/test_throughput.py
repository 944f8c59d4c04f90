"""Rate-limit fit: hand computations from the limits file, the table's batch rules, and what is not published."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from estimator import InvalidWorkloadError, Workload
from estimator.throughput import MINUTES_PER_PERIOD, rate_limits, throughput
from pricing import PriceTable

DAY = dt.date(2026, 12, 1)


def test_a_daily_workload_fits_and_the_binding_limit_is_named(table: PriceTable) -> None:
    workload = Workload(model="claude-sonnet-4-6", requests=100_000, period="day", prefix_tokens=3_000,
                        unique_input_tokens=5_000, output_tokens=1_000, cache_hit_rate="0.9", as_of=DAY)  # fmt: skip
    fit = throughput(workload, tier="start", table=table)
    limits = rate_limits("claude-sonnet-4-6", "start")
    assert limits is not None and fit.limits == limits
    counted = 5_000 + Decimal("0.1") * 3_000  # cache reads do not count towards input tokens per minute
    assert fit.counted_input_tokens_per_request == counted
    minutes = {
        "requests": Decimal(100_000) / limits.requests_per_minute,
        "input tokens": 100_000 * counted / limits.input_tokens_per_minute,
        "output tokens": Decimal(100_000_000) / limits.output_tokens_per_minute,
    }
    binding = max(minutes, key=lambda name: minutes[name])
    assert fit.binding_limit == binding and fit.minutes_for_all_requests == minutes[binding]
    assert fit.share_of_limits == {name: value / 1440 for name, value in minutes.items()}
    assert fit.fits is (max(minutes.values()) <= 1440)


def test_too_much_for_the_tier_does_not_fit(table: PriceTable) -> None:
    workload = Workload(model="claude-sonnet-4-6", requests=10_000_000, period="day", unique_input_tokens=5_000,
                        output_tokens=1_000, as_of=DAY)  # fmt: skip
    fit = throughput(workload, tier="start", table=table)
    assert fit.fits is False and fit.share_of_limits is not None and max(fit.share_of_limits.values()) > 1


def test_a_run_has_no_duration_but_a_time_at_the_limit(table: PriceTable) -> None:
    fit = throughput(Workload(model="claude-opus-4-8", requests=5_000, unique_input_tokens=1_000, as_of=DAY),
                     tier="build", table=table)  # fmt: skip
    assert fit.share_of_limits is None and fit.fits is None and fit.minutes_for_all_requests is not None
    assert MINUTES_PER_PERIOD["month"] == Decimal(1440) * Decimal("30.4375")


def test_unpublished_limits_are_said_not_guessed(table: PriceTable) -> None:
    fit = throughput(Workload(model="claude-haiku-5-5", requests=10, as_of=DAY), table=table)
    assert (
        fit.limits is None and fit.unavailable_reason is not None and "no start rate limits" in fit.unavailable_reason
    )
    assert rate_limits("claude-opus-5-5", "scale") is None  # only the Start row was ever seen


def test_the_batch_plan_counts_batches_and_queue_waves(table: PriceTable) -> None:
    fit = throughput(Workload(model="claude-sonnet-4-6", requests=250_000, as_of=DAY), tier="start", table=table)
    assert fit.batch.batches == math.ceil(250_000 / table.rules.batch.max_requests)
    assert fit.batch.waves == math.ceil(250_000 / fit.batch.queue_limit_requests) == 2
    assert "24 hours" in fit.batch.timing and "waves" in fit.batch.timing


def test_an_unknown_tier_names_the_field(table: PriceTable) -> None:
    with pytest.raises(InvalidWorkloadError) as caught:
        throughput(Workload(model="claude-sonnet-4-6", requests=1), tier="platinum", table=table)
    assert caught.value.field == "tier"


def test_every_model_in_the_limits_file_exists_in_the_price_table(table: PriceTable) -> None:
    from estimator.throughput import _limits_file

    for entry in _limits_file()["classes"]:
        for model in entry["models"]:
            assert table.model(model).id == model


def test_the_command_line_json() -> None:
    import io
    import json

    from estimator.cli import main

    out = io.StringIO()
    args = ["throughput", "--model", "claude-sonnet-4-6", "--requests", "100000", "--period", "day",
            "--input-tokens", "5000", "--output-tokens", "1000", "--format", "json"]  # fmt: skip
    assert main(args, stdout=out, stderr=io.StringIO()) == 0
    payload = json.loads(out.getvalue())
    assert payload["fits"] is True and payload["binding_limit"] == "input tokens"
    assert payload["limits"]["requests_per_minute"] == rate_limits("claude-sonnet-4-6", "start").requests_per_minute  # type: ignore[union-attr]


def test_thinking_counts_as_output_and_fetched_pages_as_input(table: PriceTable) -> None:
    plain = Workload(model="claude-sonnet-4-6", requests=1_000, period="day", unique_input_tokens=1_000,
                     output_tokens=500, as_of=DAY)  # fmt: skip
    richer = Workload(model="claude-sonnet-4-6", requests=1_000, period="day", unique_input_tokens=1_000,
                      output_tokens=500, thinking_tokens=1_500, web_fetches_per_request=2, tokens_per_web_fetch=2_500,
                      as_of=DAY)  # fmt: skip
    before, after = throughput(plain, table=table), throughput(richer, table=table)
    assert after.counted_input_tokens_per_request == before.counted_input_tokens_per_request + 5_000
    assert before.share_of_limits is not None and after.share_of_limits is not None
    assert after.share_of_limits["output tokens"] == before.share_of_limits["output tokens"] * 4
