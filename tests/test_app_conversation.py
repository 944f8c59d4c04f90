"""The Conversations page through AppTest (issue 15): a multi-turn conversation priced turn by turn in the four
modes, the chart of cost per conversation against the number of turns, messages beside their inputs, and the
session's negotiated rates and currency applied. Figures are the estimator's own."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from streamlit.testing.v1 import AppTest

from estimator import format_usd
from estimator.conversations import Conversation, estimate_conversation, sweep_turns
from estimator.conversations.turns import MAX_TURNS
from estimator.currency import convert_figures, parse_exchange_rates
from estimator.overrides import apply_overrides, parse_overrides
from pricing import PriceTable
from tests.test_app import metric, open_section, run_app, texts
from tests.test_app_workloads import ACME, RATES, unescaped, upload
from ui import conversation as build
from ui.labels import NOT_PRICED, metric_label

DEFAULT = build.DEFAULT_CONVERSATION


def open_conversation(query: dict[str, str] | None = None) -> AppTest:
    return run_app(query, page="conversation")


def assert_conversation_shown(app: AppTest, conversation: Conversation, table: PriceTable) -> None:
    result = estimate_conversation(conversation, table=table)
    for mode in result.modes:
        shown = metric(app, metric_label(mode.mode, "each"))
        if not mode.available:
            assert shown == NOT_PRICED
            continue
        assert shown == format_usd(mode.per_conversation_usd)
        assert metric(app, metric_label(mode.mode, "in all")) == format_usd(mode.total_usd)
    assert build.facts_text(result).replace("$", "\\$") in texts(app.caption)


def test_the_page_prices_the_default_conversation_on_the_plans_model(table: PriceTable) -> None:
    app = open_conversation()
    assert app.selectbox(key="conversation_model").value == "claude-sonnet-4-6"  # the plan's model
    assert_conversation_shown(app, DEFAULT, table)
    result = estimate_conversation(DEFAULT, table=table)
    cached, plain = result.mode("realtime_cached"), result.mode("realtime")
    assert cached.per_conversation_usd < plain.per_conversation_usd  # caching pays on a 20-turn loop


def test_changing_the_inputs_reprices_every_mode(table: PriceTable) -> None:
    app = open_conversation()
    app.number_input(key="conversation_turns").set_value(40)
    app.number_input(key="conversation_count").set_value(250)
    app.number_input(key="conversation_thinking_tokens").set_value(1000)
    app.toggle(key="conversation_keep_thinking").set_value(True)
    app.radio(key="conversation_cache_ttl").set_value("1h")
    app.number_input(key="conversation_hit_rate_pct").set_value(80.0)
    app.run()
    assert not app.exception
    changed = dataclasses.replace(
        DEFAULT,
        turns=40,
        conversations=250,
        thinking_tokens_per_turn=1000,
        keep_thinking=True,
        cache_ttl="1h",
        cache_hit_rate=Decimal("0.8"),
    )
    assert_conversation_shown(app, changed, table)


def test_the_chart_is_the_sweep_over_the_number_of_turns(table: PriceTable) -> None:
    app = open_conversation()
    chart = app.get("plotly_chart")[0].proto.spec
    assert "Cost per conversation against the number of turns" in chart
    steps = build.turn_steps(DEFAULT.turns)
    assert steps[0] == 1 and steps[-1] == 2 * DEFAULT.turns and DEFAULT.turns in steps
    longest = sweep_turns(DEFAULT, steps, table=table)[-1]
    value = longest.per_conversation_usd["realtime"]
    assert value is not None and str(float(value)) in chart


def test_a_bad_input_is_named_beside_it_and_the_figures_wait() -> None:
    app = open_conversation()
    app.number_input(key="conversation_turns").set_value(MAX_TURNS + 1).run()
    assert not app.exception
    assert any("turns" in text and "beyond any real workload" in text for text in unescaped(app.error))
    assert "Fix the input marked above to see the figures." in texts(app.error)
    assert not app.get("plotly_chart")


def test_warnings_appear_beside_their_inputs(table: PriceTable) -> None:
    app = open_conversation()
    app.number_input(key="conversation_prefix_tokens").set_value(100).run()
    short = dataclasses.replace(DEFAULT, prefix_tokens=100)
    result = estimate_conversation(short, table=table)
    assert result.first_cached_turn is not None and result.first_cached_turn > 1
    beside = unescaped(app.warning) + unescaped(app.info)
    for warning in result.warnings:
        assert warning.message in beside


def test_the_turn_table_opens_on_request_and_the_csv_is_offered(table: PriceTable) -> None:
    app = open_conversation()
    assert not app.dataframe  # drawn only while its expander is open
    assert "download_conversation_csv" in {button.key for button in app.get("download_button")}
    app.session_state["conversation_turns_table"] = True
    app.run()
    rows = app.dataframe[0].value
    result = estimate_conversation(DEFAULT, table=table)
    assert list(rows["Turn"]) == list(range(1, DEFAULT.turns + 1))
    assert list(rows["Prompt tokens"]) == [turn.prompt_tokens for turn in result.mode("realtime").turns]
    csv = build.turn_csv(result).splitlines()
    assert len(csv) == DEFAULT.turns + 1
    assert csv[1].split(",")[-4] == str(result.mode("realtime").turns[0].usd.normalize())


def test_negotiated_rates_and_currency_apply_here_too(table: PriceTable) -> None:
    app = open_conversation()
    upload(app, "overrides_upload", "acme.yaml", ACME)
    upload(app, "fx_upload", "fx.csv", RATES)
    app.text_input(key="currency_code").input("EUR").run()
    negotiated = apply_overrides(table, parse_overrides(ACME, source_name="acme.yaml", table=table))
    assert_conversation_shown(app, DEFAULT, negotiated)
    assert any(text.startswith("Negotiated rates from acme.yaml applied") for text in unescaped(app.info))
    result = estimate_conversation(DEFAULT, table=negotiated)
    rates = parse_exchange_rates(RATES, source_name="fx.csv")
    converted = convert_figures(
        rates, "EUR", dt.date.today(), {("realtime", "total"): result.mode("realtime").total_usd}
    )
    frame = next(element.value for element in app.dataframe if "EUR" in element.value.columns)
    amount = converted.amount("realtime", "total")
    assert amount is not None and abs(frame["EUR"].iloc[0] - float(amount)) < 0.005


def test_the_sidebar_offers_only_the_rates_and_currency_here() -> None:
    app = open_conversation()
    assert "requests" not in {widget.key for widget in app.sidebar.number_input}
    assert not app.sidebar.get("file_uploader")  # drawn once "Your rates and currency" is opened
    open_section(app, "sidebar_terms")
    assert {uploader.key for uploader in app.sidebar.get("file_uploader")} == {"overrides_upload", "fx_upload"}
