"""Thinking, web fetch and code execution in a workload, priced by hand from prices.yaml's rates.

Rates used (pricing/prices.yaml, checked 2026-12-03): Claude Sonnet 4.6 $3 input / $15 output per MTok, batch
$1.50 / $7.50, cache read $0.30, 5-minute write $3.75; Claude Haiku 5.5 $0.10 / $0.50 up to a 100,000-token
prompt and $0.50 / $2.50 above it. Code execution (`rules.code_execution`, from the code-execution tool page as
read in shared/reference/usage-and-billing.md §4.5): $0.05 per container-hour, at least 5 minutes per session,
free alongside web_search_20260209 / web_fetch_20260209 or later. Thinking is billed as output (§1.3); web fetch
has no fee, its content is input (§4.4).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal as D

import pytest

from estimator import InvalidWorkloadError, Workload, estimate
from estimator.cli import main
from estimator.cli.estimate import CATEGORY_LABELS as CLI_LABELS
from estimator.costs import CATEGORIES, HOURS_PLACES
from estimator.report import CSV_COLUMNS, estimate_rows, estimate_to_dict
from pricing import PriceTable

MTOK = D(1_000_000)
DAY = dt.date(2026, 11, 25)
SONNET = {"input": D(3), "output": D(15), "batch_input": D("1.50"), "batch_output": D("7.50")}
HOUR_USD = D("0.05")


def _sonnet(**fields: object) -> Workload:
    return Workload(model="claude-sonnet-4-6", as_of=DAY, **fields)  # type: ignore[arg-type]


def test_the_rules_are_the_documented_ones(table: PriceTable) -> None:
    rules = table.rules.code_execution
    assert rules.usd_per_container_hour == HOUR_USD  # "$0.05 per hour, per container"
    assert rules.minimum_minutes_per_session == 5  # "minimum of 5 minutes"
    assert rules.free_hours_per_month == 1550  # "1,550 free hours of usage per month"
    assert rules.free_with_web_tools_from == dt.date(2026, 2, 9)  # web_search_20260209 / web_fetch_20260209


def test_a_code_execution_workload_with_thinking_priced_by_hand(table: PriceTable) -> None:
    # 1,000 requests, each 2,000 input, 500 visible output, 1,500 thinking, one 12-minute container session.
    workload = _sonnet(
        requests=1000,
        unique_input_tokens=2000,
        output_tokens=500,
        thinking_tokens=1500,
        code_execution_sessions_per_request=1,
        code_execution_minutes_per_session=12,
    )
    result = estimate(workload, table=table)
    hours = D(12) / 60  # 0.2 h: exact
    code_usd = hours * HOUR_USD  # $0.01 per request, the same in every mode
    realtime = (2000 * SONNET["input"] + 500 * SONNET["output"] + 1500 * SONNET["output"]) / MTOK + code_usd
    batch = (2000 * SONNET["batch_input"] + 500 * SONNET["batch_output"] + 1500 * SONNET["batch_output"]) / MTOK
    batch += code_usd
    assert result.mode("realtime").total_usd == 1000 * realtime == D(46)
    assert result.mode("batch").total_usd == 1000 * (batch) == D(28)
    realtime_lines = result.mode("realtime")
    assert realtime_lines.line("thinking").usd == 1000 * 1500 * SONNET["output"] / MTOK
    assert realtime_lines.line("thinking").rate_mtok == SONNET["output"]
    assert realtime_lines.line("output").quantity == 500 * 1000  # visible output only
    assert realtime_lines.line("code_execution").quantity == 1000 * hours
    assert realtime_lines.line("code_execution").usd == D(10)
    assert result.mode("batch").line("code_execution").usd == D(10)  # server tools: "priced the same"
    assert result.code_execution is not None and result.code_execution.hours_per_request == hours


def test_each_session_pays_at_least_the_minimum_and_hours_round_to_twelve_places(table: PriceTable) -> None:
    # Two 3-minute sessions per request bill 2 × 5 minutes = 1/6 hour, rounded to 12 places.
    workload = _sonnet(requests=1000, code_execution_sessions_per_request=2, code_execution_minutes_per_session=3)
    result = estimate(workload, table=table)
    hours = (D(2) * 5 / 60).quantize(HOURS_PLACES)
    assert hours == D("0.166666666667")
    assert result.mode("realtime").total_usd == 1000 * hours * HOUR_USD == D("8.33333333335")
    assert result.code_execution is not None and result.code_execution.billed_minutes_per_session == 5


def test_a_session_without_minutes_still_pays_the_minimum_and_fractions_of_sessions_work(table: PriceTable) -> None:
    minimum_only = estimate(_sonnet(requests=12, code_execution_sessions_per_request=1), table=table)
    assert minimum_only.mode("realtime").total_usd == 12 * D("0.083333333333") * HOUR_USD
    three_in_ten = _sonnet(
        requests=100, code_execution_sessions_per_request="0.3", code_execution_minutes_per_session=20
    )
    assert estimate(three_in_ten, table=table).mode("batch").total_usd == 100 * D("0.3") * D(20) / 60 * HOUR_USD


def test_code_execution_is_free_alongside_the_dated_web_tools_and_not_before_them(table: PriceTable) -> None:
    free = _sonnet(
        requests=1000, code_execution_sessions_per_request=1, code_execution_minutes_per_session=30,
        code_execution_with_web_tools=True,
    )  # fmt: skip
    result = estimate(free, table=table)
    assert result.mode("realtime").line("code_execution").usd == 0
    assert "code_execution_free" in {w.code for w in result.warnings}
    early = Workload(
        model="claude-sonnet-4-5", requests=1, code_execution_sessions_per_request=1,
        code_execution_with_web_tools=True, as_of=dt.date(2026, 2, 8),
    )  # fmt: skip
    with pytest.raises(InvalidWorkloadError, match="2026-02-09") as caught:
        estimate(early, table=table)
    assert caught.value.field == "code_execution_with_web_tools"


def test_the_free_allowance_is_named_not_subtracted(table: PriceTable) -> None:
    result = estimate(_sonnet(requests=100, code_execution_sessions_per_request=1), table=table)
    (note,) = [w for w in result.warnings if w.code == "code_execution_hours"]
    assert "1,550 free hours" in note.message and "not subtracted" in note.message
    assert "$77.50" in note.message  # 1,550 h × $0.05


def test_minutes_without_sessions_are_refused_not_priced_at_zero() -> None:
    with pytest.raises(InvalidWorkloadError, match="container sessions") as caught:
        _sonnet(requests=1, code_execution_minutes_per_session=10)
    assert caught.value.field == "code_execution_sessions_per_request"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("thinking_tokens", -1),
        ("thinking_tokens", "1.5"),
        ("web_fetches_per_request", float("nan")),
        ("web_fetches_per_request", 1001),
        ("tokens_per_web_fetch", True),
        ("code_execution_sessions_per_request", -0.5),
        ("code_execution_minutes_per_session", "1e9"),
        ("code_execution_with_web_tools", "yes"),
        ("channel", "azure"),
        ("endpoint", "local"),
    ],
)
def test_bad_values_name_their_field(name: str, value: object) -> None:
    fields: dict[str, object] = {name: value}
    if name == "code_execution_minutes_per_session":
        fields["code_execution_sessions_per_request"] = 1
    with pytest.raises(InvalidWorkloadError) as caught:
        _sonnet(requests=1, **fields)
    assert caught.value.field == name and "\n" not in str(caught.value)


def test_web_fetch_content_is_uncached_input_in_every_mode(table: PriceTable) -> None:
    # Two fetches of 2,500 tokens: 5,000 input tokens after the cache breakpoint, no fee of its own.
    workload = _sonnet(
        requests=1, prefix_tokens=3000, unique_input_tokens=1000, cache_hit_rate="0.5",
        web_fetches_per_request=2, tokens_per_web_fetch=2500,
    )  # fmt: skip
    result = estimate(workload, table=table)
    assert result.prompt_tokens == 3000 + 1000 + 5000
    assert result.mode("realtime").total_usd == 9000 * SONNET["input"] / MTOK
    prefix = D("0.5") * 3000 * D("0.30") + D("0.5") * 3000 * D("3.75")
    assert result.mode("realtime_cached").total_usd == (prefix + 6000 * SONNET["input"]) / MTOK
    assert "web_fetch_is_input" in {w.code for w in result.warnings}


def test_fractional_fetches_are_priced_exactly_and_rounded_up_only_for_the_tier(table: PriceTable) -> None:
    workload = _sonnet(requests=1, web_fetches_per_request="0.5", tokens_per_web_fetch=2501)
    result = estimate(workload, table=table)
    assert result.prompt_tokens == 1251
    assert result.mode("realtime").line("uncached_input").quantity == D("1250.5")


def test_fetched_content_counts_toward_a_prompt_tier(table: PriceTable) -> None:
    # Haiku 5.5: 99,000 tokens + one 2,000-token fetch is a 101,000-token prompt, over the 100,000 tier.
    workload = Workload(
        model="claude-haiku-5-5", requests=1, unique_input_tokens=99_000, web_fetches_per_request=1,
        tokens_per_web_fetch=2000, as_of=DAY,
    )  # fmt: skip
    assert estimate(workload, table=table).mode("realtime").total_usd == 101_000 * D("0.50") / MTOK


def test_fetches_without_their_size_warn_instead_of_pricing_nothing_silently(table: PriceTable) -> None:
    result = estimate(_sonnet(requests=1, web_fetches_per_request=3), table=table)
    (warning,) = [w for w in result.warnings if w.code == "web_fetch_tokens_missing"]
    assert warning.field == "tokens_per_web_fetch" and warning.severity == "warning"


def test_thinking_counts_against_max_output(table: PriceTable) -> None:
    workload = Workload(model="claude-haiku-4-5", requests=1, output_tokens=60_000, thinking_tokens=10_000, as_of=DAY)
    (warning,) = [w for w in estimate(workload, table=table).warnings if w.code == "output_above_max"]
    assert "70,000 output tokens per request (thinking included)" in warning.message


def test_fast_mode_bills_thinking_at_the_fast_output_rate(table: PriceTable) -> None:
    workload = Workload(model="claude-opus-5-5", requests=1, thinking_tokens=1000, fast=True, as_of=DAY)
    line = estimate(workload, table=table).mode("realtime").line("thinking")
    assert line.rate_mtok == D(40) and line.usd == 1000 * D(40) / MTOK  # Opus 5.5 fast: $8 / $40


def test_every_category_has_a_label_a_csv_column_a_colour_and_a_json_line(table: PriceTable) -> None:
    pytest.importorskip("plotly")
    from ui.charts import CATEGORY_COLORS
    from ui.labels import CATEGORY_LABELS

    result = estimate(_sonnet(requests=1, output_tokens=10), table=table)
    breakdown = estimate_to_dict(result)["modes"]["realtime"]["breakdown"]
    row = estimate_rows(result)[0]
    for category in CATEGORIES:
        assert category in CLI_LABELS and category in CATEGORY_LABELS and category in CATEGORY_COLORS
        assert f"{category}_usd" in CSV_COLUMNS and f"{category}_usd" in row
        assert category in breakdown
    assert tuple(CATEGORIES[-2:]) == ("thinking", "code_execution")  # new categories go at the end


def test_cli_flags_reach_the_workload_and_the_json() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "estimate", "--model", "claude-sonnet-4-6", "--requests", "1000", "--input-tokens", "2000",
            "--output-tokens", "500", "--thinking-tokens", "1500", "--code-execution-sessions", "1",
            "--code-execution-minutes", "12", "--web-fetches", "1", "--tokens-per-web-fetch", "0",
            "--as-of", "2026-11-25", "--format", "json",
        ],
        stdout=out,
        stderr=err,
    )  # fmt: skip
    assert code == 0, err.getvalue()
    payload = json.loads(out.getvalue())
    assert payload["workload"]["thinking_tokens"] == 1500
    assert payload["modes"]["realtime"]["total_usd"] == "46"
    assert payload["modes"]["realtime"]["breakdown"]["thinking"]["usd"] == "22.5"
    assert payload["code_execution"]["container_hours"] == "200"
    assert payload["code_execution"]["free_hours_per_month_not_subtracted"] == "1550"


def test_the_text_shows_thinking_apart_and_hides_unused_new_lines() -> None:
    out = io.StringIO()
    main(["estimate", "--model", "claude-sonnet-4-6", "--thinking-tokens", "100", "--as-of", "2026-11-25"], stdout=out)
    text = out.getvalue()
    assert "Thinking (billed as output)" in text and "Code execution " not in text
