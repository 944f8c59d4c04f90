"""Where the tokens are bought: the Claude API, Amazon Bedrock, Google Cloud (Vertex AI), Microsoft Foundry.

Facts (shared/reference/usage-and-billing.md §4.7, anthropic-pricing.md §2; `rules.channels` in prices.yaml):
regional (and Google multi-region) endpoints carry a 10% premium over global ones "for Claude Sonnet 4.5 and
future models", older models none; Foundry's US Data Zone is 1.1x; the Message Batches API is Claude-API-only and
no partner batch discount is published by Anthropic or the partner; partner prices are set by the partner.
Golden figures use Sonnet 4.6's list rates from prices.yaml: $3 input, $3.75 5-minute write, $0.30 read, $15 output.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal as D

import pytest

from estimator import InvalidWorkloadError, Workload, budget, compare_models, estimate
from estimator.cli import main
from estimator.report import estimate_rows, estimate_to_dict
from estimator.workload import CHANNELS
from pricing import PriceTable
from pricing.schema import CHANNELS as TABLE_CHANNELS
from tests.test_price_regressions import ROWS

MTOK = D(1_000_000)
DAY = dt.date(2026, 11, 25)
PREMIUM = D("1.1")
PLAN = Workload(
    model="claude-sonnet-4-6", requests=1000, prefix_tokens=3000, unique_input_tokens=5000, output_tokens=1000,
    cache_hit_rate="0.85", as_of=DAY,
)  # fmt: skip
NO_PREMIUM = {
    # Released before Claude Sonnet 4.5 (2025-09-29): "older models keep their prices".
    "claude-opus-4-1", "claude-opus-4-0", "claude-sonnet-4-0", "claude-3-5-haiku-20241022",
    "claude-3-7-sonnet-20250219", "claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022",
    "claude-3-opus-20240229", "claude-3-haiku-20240307",
}  # fmt: skip


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_the_table_holds_the_documented_terms(table: PriceTable) -> None:
    channels = table.rules.channels
    assert channels.bedrock.regional_multiplier == channels.vertex.regional_multiplier == PREMIUM
    assert channels.foundry.regional_multiplier == PREMIUM  # "US Data Zone" = 1.1x
    assert channels.bedrock.regional_premium_from_model == "claude-sonnet-4-5-20250929"
    assert channels.anthropic.batch == "message_batches"
    assert {channels.rule(c).batch for c in ("bedrock", "vertex", "foundry")} == {"not_published"}
    assert CHANNELS == TABLE_CHANNELS


def test_a_regional_bedrock_price_by_hand(table: PriceTable) -> None:
    result = estimate(dataclasses.replace(PLAN, channel="bedrock", endpoint="regional"), table=table)
    realtime = 1000 * (8000 * D(3) * PREMIUM + 1000 * D(15) * PREMIUM) / MTOK
    prefix = D("0.85") * 3000 * D("0.30") * PREMIUM + D("0.15") * 3000 * D("3.75") * PREMIUM
    cached = 1000 * (prefix + 5000 * D(3) * PREMIUM + 1000 * D(15) * PREMIUM) / MTOK
    assert result.mode("realtime").total_usd == realtime == D("42.9")
    assert result.mode("realtime_cached").total_usd == cached == D("35.69775")
    for mode in ("batch", "batch_cached"):
        reason = result.mode(mode).unavailable_reason or ""
        assert "batch price on Amazon Bedrock is not published" in reason
    assert result.channel is not None and result.channel.multiplier == PREMIUM


def test_a_global_endpoint_is_the_list_price(table: PriceTable) -> None:
    result = estimate(dataclasses.replace(PLAN, channel="bedrock"), table=table)
    assert result.mode("realtime").total_usd == 1000 * (8000 * D(3) + 1000 * D(15)) / MTOK == D(39)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r[0]}@{r[1]}" for r in ROWS])
def test_the_premium_applies_from_sonnet_4_5_on(row: tuple[str, ...], table: PriceTable) -> None:
    model, day, input_rate, output_rate = row[0], row[1], D(row[2]), D(row[6])
    workload = Workload(model=model, requests=1, unique_input_tokens=1000, output_tokens=100,
                        as_of=dt.date.fromisoformat(day), channel="vertex", endpoint="regional")  # fmt: skip
    expected = (1000 * input_rate + 100 * output_rate) / MTOK
    if model not in NO_PREMIUM:
        expected *= PREMIUM
    assert estimate(workload, table=table).mode("realtime").total_usd == expected


def test_an_older_model_on_a_regional_endpoint_says_why_it_pays_no_premium(table: PriceTable) -> None:
    workload = Workload(model="claude-opus-4-1", requests=1, unique_input_tokens=1000, as_of=dt.date(2026, 1, 1),
                        channel="bedrock", endpoint="regional")  # fmt: skip
    result = estimate(workload, table=table)
    assert result.mode("realtime").total_usd == 1000 * D(15) / MTOK
    assert result.channel is not None and "adds no premium for Claude Opus 4.1" in result.channel.basis


def test_foundry_is_anthropic_operated_with_a_us_data_zone_premium(table: PriceTable) -> None:
    zone = dataclasses.replace(PLAN, channel="foundry", endpoint="regional", web_searches_per_request=1)
    result = estimate(zone, table=table)
    search = 1000 * D(10) / 1000  # $10 per 1,000 searches, Anthropic's price: Foundry bills Claude API rates
    assert result.mode("realtime").total_usd == D("42.9") + search
    assert not result.mode("batch").available


def test_partner_prices_that_are_not_published_are_not_borrowed(table: PriceTable) -> None:
    searches = estimate(dataclasses.replace(PLAN, channel="vertex", web_searches_per_request=1), table=table)
    assert "web-search price on Google Cloud (Vertex AI) is not published" in (
        searches.mode("realtime").unavailable_reason or ""
    )
    fast = Workload(model="claude-opus-5-5", requests=1, fast=True, as_of=DAY, channel="bedrock")
    assert "fast-mode price on Amazon Bedrock" in (
        estimate(fast, table=table).mode("realtime").unavailable_reason or ""
    )
    code = dataclasses.replace(PLAN, channel="bedrock", code_execution_sessions_per_request=1)
    assert not any(mode.available for mode in estimate(code, table=table).modes)


def test_options_a_channel_does_not_have_are_refused_by_field(table: PriceTable) -> None:
    with pytest.raises(InvalidWorkloadError, match="choose endpoint regional") as geo:
        estimate(dataclasses.replace(PLAN, channel="bedrock", geo="us"), table=table)
    assert geo.value.field == "geo"
    with pytest.raises(InvalidWorkloadError, match="use geo 'us'") as endpoint:
        estimate(dataclasses.replace(PLAN, endpoint="regional"), table=table)
    assert endpoint.value.field == "endpoint"


def test_every_output_says_partner_prices_are_set_by_the_partner(table: PriceTable) -> None:
    workload = dataclasses.replace(PLAN, channel="bedrock", endpoint="regional")
    sentence = "Prices on Amazon Bedrock are set by AWS"
    result = estimate(workload, table=table)
    payload = estimate_to_dict(result)
    assert payload["channel"]["multiplier"] == "1.1" and sentence in payload["price_basis"]
    assert all(sentence in row["price_basis"] for row in estimate_rows(result))
    assert any(w.code == "channel_prices" and sentence in w.message for w in result.warnings)
    flags = ["--model", "claude-sonnet-4-6", "--input-tokens", "1000", "--channel", "bedrock", "--endpoint",
             "regional", "--as-of", "2026-11-25"]  # fmt: skip
    for argv in (
        ["estimate", *flags],
        ["estimate", *flags, "--format", "csv"],
        ["compare", *flags, "--models", "claude-sonnet-4-6,claude-haiku-4-5"],
        ["budget", "--budget-usd", "10", *flags],
    ):
        code, out, err = _run(*argv)
        assert code == 0, err
        assert sentence in out, argv
    code, out, _ = _run("budget", "--budget-usd", "10", *flags, "--format", "json")
    assert sentence in json.loads(out)["price_basis"]
    comparison = compare_models(workload, ["claude-haiku-4-5"], table=table)
    assert comparison[0].estimate is not None and comparison[0].estimate.channel is not None
    assert budget(workload, "10", table=table)[0].per_request_usd == D("0.0429")  # 42.9 / 1,000
