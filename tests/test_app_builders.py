"""The builders behind the new parts of the app, without Streamlit: throughput sentences and durations, the
conversation form, the uploads of negotiated rates and exchange rates, and the actual-costs helpers that
left their page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import pytest

from estimator.conversations import Conversation
from estimator.conversations.turns import MAX_TURNS
from estimator.currency import ExchangeRateError, parse_exchange_rates
from estimator.overrides import MAX_OVERRIDES_BYTES, OverridesError
from estimator.throughput import throughput
from pricing import PriceTable
from ui import conversation, rates
from ui import throughput as limits
from ui.actual_costs import ADMIN_PERIOD_DAYS, admin_period
from ui.columns import display_number, money_decimals
from ui.scenario import DEFAULT_WORKLOAD

TODAY = dt.date(2026, 11, 25)


# --- throughput ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        ("0.001", "under a second"),
        ("0.5", "30 s"),
        ("0.999", "1 min"),  # 59.94 s rounds to a minute: the unit follows the rounded value
        ("2.725", "3 min"),
        ("59.6", "1 h"),
        ("272.5", "4 h 33 min"),
        ("1439.9", "1 day"),
        ("5000", "3.5 days"),
    ],
)
def test_durations_read_in_the_unit_that_fits(minutes: str, text: str) -> None:
    assert limits.duration_text(Decimal(minutes)) == text


@pytest.mark.parametrize(
    ("period", "requests", "tier", "kind"),
    [
        ("run", 1000, "start", "time"),
        ("hour", 1000, "start", "fits"),
        ("hour", 100_000, "start", "does not fit"),
        ("hour", 100_000, "scale", "fits"),
    ],
)
def test_the_throughput_verdict(table: PriceTable, period: str, requests: int, tier: str, kind: str) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, period=period, requests=requests)
    fit = throughput(workload, tier=tier, table=table)
    found, sentence = limits.verdict(fit, requests=requests, period=period)
    assert found == kind
    assert fit.minutes_for_all_requests is not None
    assert limits.duration_text(fit.minutes_for_all_requests) in sentence
    if fit.share_of_limits is not None:
        assert limits.percent_text(max(fit.share_of_limits.values())) in sentence


def test_limit_rows_mark_the_limit_that_binds(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, period="hour", requests=100_000)
    fit = throughput(workload, table=table)
    rows = limits.limit_rows(fit)
    assert [row["Binds first"] for row in rows] == ["", "yes", ""]  # input tokens (rate_limits.yaml, Sonnet 4.x)
    assert fit.binding_limit == "input tokens"
    assert limits.percent_text(Decimal("4.541666")) == "454%"
    assert limits.percent_text(Decimal("0.0123")) == "1.2%"


def test_a_model_without_limits_is_not_published_and_still_has_a_batch_plan(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, model="claude-3-haiku-20240307", requests=250_000)
    fit = throughput(workload, table=table)
    kind, sentence = limits.verdict(fit, requests=workload.requests, period=workload.period)
    assert kind == "not published" and "not published" in sentence
    assert limits.limit_rows(fit) == []
    assert limits.batch_text(fit).startswith("Batch: 3 batches of up to 100,000 requests, in 2 waves")


def test_partner_channels_get_the_note_that_their_quotas_apply(table: PriceTable) -> None:
    assert limits.channel_note(table, DEFAULT_WORKLOAD) is None
    bedrock = dataclasses.replace(DEFAULT_WORKLOAD, channel="bedrock")
    assert (
        limits.channel_note(table, bedrock)
        == "These are the Claude API's limits; on Amazon Bedrock its own quotas apply."
    )


# --- the conversation form -------------------------------------------------------------------------


def test_the_conversation_widgets_round_trip() -> None:
    state = conversation.widget_defaults("claude-opus-4-6", today=TODAY)
    result, errors = conversation.conversation_from_widgets(state, today=TODAY)
    assert errors == {}
    assert result == dataclasses.replace(conversation.DEFAULT_CONVERSATION, model="claude-opus-4-6")
    assert state["conversation_hit_rate_pct"] == 100.0


def test_the_conversation_form_reads_percentages_and_dates() -> None:
    state = conversation.widget_defaults("claude-sonnet-4-6", today=TODAY)
    state.update(conversation_hit_rate_pct=85.1, conversation_as_of=dt.date(2026, 3, 1))
    result, _ = conversation.conversation_from_widgets(state, today=TODAY)
    assert result is not None
    assert result.cache_hit_rate == Decimal("0.851")
    assert result.as_of == dt.date(2026, 3, 1)


def test_each_bad_conversation_input_gets_its_own_message() -> None:
    state = conversation.widget_defaults("claude-sonnet-4-6", today=TODAY)
    state.update(
        conversation_turns=MAX_TURNS + 1, conversation_output_tokens=-1, conversation_hit_rate_pct=float("nan")
    )
    result, errors = conversation.conversation_from_widgets(state, today=TODAY)
    assert result is None
    assert set(errors) == {"turns", "output_tokens_per_turn", "cache_hit_rate"}
    assert "beyond any real workload" in errors["turns"]


@pytest.mark.parametrize(("current", "upper"), [(1, 10), (20, 40), (MAX_TURNS, MAX_TURNS)])
def test_turn_steps_span_twice_the_conversation(current: int, upper: int) -> None:
    steps = conversation.turn_steps(current)
    assert steps[0] == 1 and steps[-1] == upper and current in steps
    assert steps == sorted(set(steps)) and len(steps) <= 42


def test_the_turn_csv_holds_exact_figures(table: PriceTable) -> None:
    from estimator.conversations import estimate_conversation

    short = Conversation(model="claude-sonnet-4-6", turns=3, prefix_tokens=5000, output_tokens_per_turn=100)
    result = estimate_conversation(short, table=table)
    lines = conversation.turn_csv(result).splitlines()
    assert lines[0].split(",") == list(conversation.TURN_CSV_COLUMNS)
    third = dict(zip(conversation.TURN_CSV_COLUMNS, lines[3].split(","), strict=True))
    turn = result.mode("realtime_cached").turns[2]
    assert Decimal(third["realtime_cached_usd"]) == turn.usd
    assert Decimal(third["cached_cache_read_tokens"]) == turn.cache_read_tokens


# --- uploads: negotiated rates and exchange rates --------------------------------------------------


def test_an_overrides_upload_is_checked_like_the_cli_file(table: PriceTable) -> None:
    good = b"overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-01-01\n    discount: 0.1\n"
    assert len(rates.read_overrides("acme.yaml", good, table=table).rules) == 1
    with pytest.raises(OverridesError, match="not UTF-8"):
        rates.read_overrides("acme.yaml", b"\xff\xfe", table=table)
    with pytest.raises(OverridesError, match="larger than"):
        rates.read_overrides("acme.yaml", b" " * (MAX_OVERRIDES_BYTES + 1), table=table)
    with pytest.raises(OverridesError, match=r"acme\.yaml:4"):
        rates.read_overrides("acme.yaml", good.replace(b"0.1", b"10"), table=table)


def test_an_exchange_rates_upload_and_its_currency() -> None:
    loaded = rates.read_exchange_rates("fx.csv", b"\xef\xbb\xbfdate,currency,per_usd\n2026-01-01,EUR,0.9\n")
    assert loaded.currencies == ("EUR",)
    assert rates.currency_code(" eur ", loaded) == "EUR"
    with pytest.raises(ExchangeRateError, match="three-letter code"):
        rates.currency_code("EURO", loaded)
    with pytest.raises(ExchangeRateError, match="the file has EUR"):
        rates.currency_code("GBP", loaded)
    with pytest.raises(ExchangeRateError, match="not UTF-8"):
        rates.read_exchange_rates("fx.csv", b"\xff\xfe")


def test_converted_figures_keep_unpriced_modes_unpriced(table: PriceTable) -> None:
    from estimator import estimate

    early = dataclasses.replace(DEFAULT_WORKLOAD, model="claude-3-haiku-20240307", as_of=dt.date(2024, 5, 1))
    result = estimate(early, table=table)
    fx = parse_exchange_rates("date,currency,per_usd\n2024-01-01,EUR,0.9\n", source_name="fx.csv")
    converted = rates.convert_plan(result, rates.Currency(fx, "EUR"))
    usd = {mode.mode: mode.total_usd if mode.available else None for mode in result.modes}
    table_rows = rates.converted_table(converted, usd).rows
    realtime = result.mode("realtime").total_usd
    assert realtime is not None
    euros = realtime * Decimal("0.9")
    assert table_rows[0]["EUR"] == display_number(euros, money_decimals([euros]))  # rounded half-up for reading
    assert [row["EUR"] for row in table_rows[1:]] == [None, None, None]
    assert [row["Note"] for row in table_rows[1:]] == ["not priced"] * 3


# --- actual costs: arithmetic moved out of the page ------------------------------------------------


def test_the_admin_reports_default_to_the_last_week() -> None:
    assert admin_period(TODAY) == (TODAY - dt.timedelta(days=ADMIN_PERIOD_DAYS), TODAY)


def test_the_limits_table_is_markdown_with_every_cell_literal(table: PriceTable) -> None:
    fit = throughput(DEFAULT_WORKLOAD, tier="start", table=table)
    rows = limits.limit_rows(fit)
    drawn = limits.markdown_table(rows).splitlines()
    assert drawn[0] == "| " + " | ".join(rows[0]) + " |"
    assert drawn[1] == "|" + "---|" * len(rows[0])
    assert len(drawn) == 2 + len(rows)
    hostile = limits.markdown_table([{"a|b": "**x** | [y](http://z)", "c": ""}]).splitlines()
    for line in (hostile[0], hostile[2]):  # a pipe in a cell is escaped: still two cells per row
        assert len(re.split(r"(?<!\\)\|", line)) == 4
    assert "**x**" not in hostile[2] and "](http://" not in hostile[2]
    assert limits.markdown_table([]) == ""
