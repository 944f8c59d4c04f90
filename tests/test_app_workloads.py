"""Richer workloads in the app (issue 15's app inputs), through AppTest: thinking, web fetch, code execution,
channels and endpoints, negotiated rates, another currency, throughput beside the cost, the price table's
staleness, and links that carry the new inputs. Figures are compared with the estimator's own."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import json
import struct
import zlib
from decimal import Decimal

import pytest
from streamlit.testing.v1 import AppTest

from estimator import analyze_batch_file, estimate
from estimator.currency import convert_figures, parse_exchange_rates
from estimator.overrides import apply_overrides, parse_overrides
from estimator.throughput import throughput
from pricing import PriceTable
from tests.test_app import assert_plan_shown, open_section, run_app, texts
from ui import throughput as limits
from ui.labels import plain
from ui.scenario import DEFAULT_WORKLOAD, workload_to_params

ACME = """\
name: Acme agreement 2026
overrides:
  - model: claude-sonnet-4-6
    effective_from: 2026-01-01
    discount: 0.15
"""
RATES = "date,currency,per_usd\n2026-01-01,EUR,0.9\n2026-11-01,EUR,0.92\n"
RICH = dataclasses.replace(
    DEFAULT_WORKLOAD,
    thinking_tokens=2000,
    web_fetches_per_request=Decimal("1.5"),
    tokens_per_web_fetch=2500,
    code_execution_sessions_per_request=Decimal("0.3"),
    code_execution_minutes_per_session=Decimal(7),
    channel="foundry",
    endpoint="regional",
)
"""Every new input away from its default, on a partner's regional endpoint (Foundry: Anthropic-operated, so
code execution keeps its price there)."""


def unescaped(elements: object) -> list[str]:
    """Texts as the reader sees them: `ui.labels.plain` escapes Markdown with backslashes."""
    return [text.replace("\\", "") for text in texts(elements)]


def upload(app: AppTest, key: str, name: str, text: str) -> AppTest:
    """A file given to an uploader of "Your rates and currency" (opened first, as a visitor does)."""
    if not app.session_state["sidebar_terms"]:
        open_section(app, "sidebar_terms")
    app.file_uploader(key=key).set_value((name, text.encode(), "text/plain")).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


# --- the new inputs --------------------------------------------------------------------------------


def test_thinking_tools_and_channel_inputs_price_the_plan(table: PriceTable) -> None:
    app = open_section(run_app(), "sidebar_more")
    app.number_input(key="thinking_tokens").set_value(2000)
    app.number_input(key="web_fetches_per_request").set_value(1.5)
    app.number_input(key="tokens_per_web_fetch").set_value(2500)
    app.number_input(key="code_execution_sessions_per_request").set_value(0.3)
    app.number_input(key="code_execution_minutes_per_session").set_value(7.0)
    app.selectbox(key="channel").set_value("foundry")
    app.run()
    app.radio(key="endpoint").set_value("regional").run()
    assert not app.exception
    result = estimate(RICH, table=table)
    assert result.mode("realtime").line("thinking").usd > 0 and result.mode("realtime").line("code_execution").usd > 0
    assert_plan_shown(app, result)
    assert dict(app.query_params) == workload_to_params(RICH)
    assert app.query_params["thinking_tokens"] == "2000"
    assert app.query_params["code_execution_sessions_per_request"] == "0.3"


def test_a_link_with_the_new_inputs_reopens_the_plan(table: PriceTable) -> None:
    app = run_app(workload_to_params(RICH))
    assert not app.error
    assert_plan_shown(app, estimate(RICH, table=table))
    open_section(app, "sidebar_more")
    assert_plan_shown(app, estimate(RICH, table=table))
    assert app.number_input(key="thinking_tokens").value == 2000
    assert app.number_input(key="code_execution_minutes_per_session").value == pytest.approx(7.0)
    assert app.selectbox(key="channel").value == "foundry"
    assert app.radio(key="endpoint").value == "regional"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("thinking_tokens", "-1", "0 or more"),
        ("thinking_tokens", "1e99", "beyond any real workload"),
        ("tokens_per_web_fetch", "2.5", "whole number"),
        ("web_fetches_per_request", "nan", "finite"),
        ("code_execution_with_web_tools", "maybe", "true or false"),
        ("code_execution_minutes_per_session", "5", "code_execution_sessions_per_request is 0"),
        ("channel", "azure", "one of anthropic, bedrock, vertex, foundry"),
        ("endpoint", "eu", "one of global, regional"),
    ],
)
def test_a_bad_new_link_value_is_named_and_falls_back(table: PriceTable, name: str, value: str, words: str) -> None:
    app = run_app({name: value})
    message = next(text for text in unescaped(app.markdown) if f"{name}=" in text)
    assert words in message
    assert_plan_shown(app, estimate(DEFAULT_WORKLOAD, table=table))
    assert name not in app.query_params


def test_the_link_keeps_minutes_that_follow_their_sessions(table: PriceTable) -> None:
    params = {"code_execution_minutes_per_session": "5", "code_execution_sessions_per_request": "1"}
    app = run_app(params)
    workload = dataclasses.replace(
        DEFAULT_WORKLOAD, code_execution_sessions_per_request=Decimal(1), code_execution_minutes_per_session=Decimal(5)
    )
    assert not app.error
    assert_plan_shown(app, estimate(workload, table=table))


def test_the_regional_endpoint_is_disabled_on_the_claude_api_with_the_reason() -> None:
    app = open_section(run_app(), "sidebar_more")
    endpoint = app.radio(key="endpoint")
    assert endpoint.disabled and endpoint.value == "global"
    assert "Claude API has no regional endpoint" in (endpoint.help or "")
    assert not app.radio(key="geo").disabled  # US-only processing is the Claude API's own option
    app.selectbox(key="channel").set_value("bedrock").run()
    assert not app.radio(key="endpoint").disabled
    geo = app.radio(key="geo")
    assert geo.disabled and "Claude API parameter" in (geo.help or "")


def test_a_link_asking_for_a_regional_claude_api_endpoint_is_marked_and_priced_global(table: PriceTable) -> None:
    app = run_app({"endpoint": "regional"})
    assert any("no regional endpoint" in text and "global endpoint" in text for text in unescaped(app.sidebar.warning))
    assert not app.radio(key="endpoint").disabled  # asked for: left enabled, so it can be turned off
    assert_plan_shown(app, estimate(DEFAULT_WORKLOAD, table=table))
    assert "endpoint" not in app.query_params  # the link holds the plan shown


def test_a_partner_channel_says_what_its_figures_are(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, channel="bedrock", endpoint="regional")
    app = run_app(workload_to_params(workload))
    result = estimate(workload, table=table)
    assert result.channel is not None and result.channel.set_by_partner
    assert plain(result.channel.basis) in texts(app.info)
    assert_plan_shown(app, result)  # the batch modes say "not priced", with Bedrock's reason


def test_a_link_asking_for_us_residency_on_a_partner_is_marked_and_priced_global(table: PriceTable) -> None:
    app = run_app({"channel": "foundry", "geo": "us"})
    assert any("Claude API parameter" in text and "global residency" in text for text in texts(app.sidebar.warning))
    assert_plan_shown(app, estimate(dataclasses.replace(DEFAULT_WORKLOAD, channel="foundry"), table=table))


def test_an_error_inside_the_more_expander_opens_it() -> None:
    app = open_section(run_app(), "sidebar_more")
    app.session_state["sidebar_more"] = False
    app.number_input(key="thinking_tokens").set_value(10**9).run()
    assert app.session_state["sidebar_more"] is True
    assert any("thinking_tokens" in text for text in unescaped(app.sidebar.error))


def test_the_more_inputs_are_drawn_only_while_open_and_keep_their_values(table: PriceTable) -> None:
    app = run_app()
    assert app.session_state["sidebar_more"] is False
    assert not [widget for widget in app.number_input if widget.key == "thinking_tokens"]
    assert not [widget for widget in app.selectbox if widget.key == "channel"]
    open_section(app, "sidebar_more").number_input(key="thinking_tokens").set_value(2000).run()
    app.session_state["sidebar_more"] = False
    app.run()
    assert app.session_state["sidebar_more"] is False  # a note about thinking does not reopen it...
    assert not [widget for widget in app.number_input if widget.key == "thinking_tokens"]
    assert any(
        text.startswith("Thinking (2,000 tokens per request") for text in texts(app.sidebar.info)
    )  # ...it sits under it
    thinking = dataclasses.replace(DEFAULT_WORKLOAD, thinking_tokens=2000)
    assert_plan_shown(app, estimate(thinking, table=table))  # closed, the value still prices the plan
    app.number_input(key="requests").set_value(1234).run()
    assert_plan_shown(app, estimate(dataclasses.replace(thinking, requests=1234), table=table))
    assert open_section(app, "sidebar_more").number_input(key="thinking_tokens").value == 2000


def test_a_message_about_an_input_inside_more_opens_it() -> None:
    app = run_app({"endpoint": "regional"})  # the Claude API has no regional endpoint: marked beside the input
    assert app.session_state["sidebar_more"] is True
    assert any("no regional endpoint" in text for text in unescaped(app.sidebar.warning))


# --- negotiated rates and currency -----------------------------------------------------------------


def test_negotiated_rates_price_the_plan_and_say_so(table: PriceTable) -> None:
    app = upload(run_app(), "overrides_upload", "acme.yaml", ACME)
    negotiated = apply_overrides(table, parse_overrides(ACME, source_name="acme.yaml", table=table))
    result = estimate(DEFAULT_WORKLOAD, table=negotiated)
    assert result.negotiated is not None and result.negotiated.applied
    assert_plan_shown(app, result)
    sentence = result.negotiated.sentence
    assert plain(sentence[0].upper() + sentence[1:] + ".") in texts(app.info)
    assert "In use: Acme agreement 2026 (1 rule)" in texts(app.sidebar.caption)
    app.button(key="overrides_remove").click().run()
    assert_plan_shown(app, estimate(DEFAULT_WORKLOAD, table=table))


def test_negotiated_rates_stay_while_another_page_is_open(table: PriceTable) -> None:
    app = upload(run_app(), "overrides_upload", "acme.yaml", ACME)
    app.query_params["page"] = "Compare models"
    app.run()
    assert any(text.startswith("Priced with the negotiated rates from acme.yaml") for text in unescaped(app.info))
    app.query_params["page"] = "Prices"
    app.run()
    app.query_params["page"] = "Plan"
    app.run()
    negotiated = apply_overrides(table, parse_overrides(ACME, source_name="acme.yaml", table=table))
    assert_plan_shown(app, estimate(DEFAULT_WORKLOAD, table=negotiated))


def test_a_bad_overrides_file_is_named_beside_its_input_and_changes_nothing(table: PriceTable) -> None:
    app = upload(run_app(), "overrides_upload", "bad.yaml", ACME.replace("0.15", "15"))
    assert any(text.startswith("bad.yaml:5") and "fraction" in text for text in unescaped(app.sidebar.error))
    assert app.session_state["sidebar_terms"] is True  # its expander opened to show why
    assert_plan_shown(app, estimate(DEFAULT_WORKLOAD, table=table))


def test_totals_in_another_currency_at_the_rate_of_the_plans_date(table: PriceTable) -> None:
    app = upload(run_app(), "fx_upload", "fx.csv", RATES)
    assert "Type a currency code to see the totals in it." in texts(app.sidebar.caption)
    app.text_input(key="currency_code").input("eur").run()
    result = estimate(DEFAULT_WORKLOAD, table=table)
    rates = parse_exchange_rates(RATES, source_name="fx.csv")
    figures: dict[tuple[str, ...], Decimal | None] = {(mode.mode, "total"): mode.total_usd for mode in result.modes}
    converted = convert_figures(rates, "EUR", result.as_of, figures)
    assert converted.rate_per_usd == Decimal("0.92")  # the newest rate on or before the plan's date
    frame = next(element.value for element in app.dataframe if "EUR" in element.value.columns)
    assert list(frame["EUR"]) == [
        pytest.approx(float(converted.amount(mode.mode, "total")), abs=0.005)  # type: ignore[arg-type]
        for mode in result.modes
    ]
    assert any(text.startswith("EUR at 0.92 per USD, the rate of 2026-11-01 in fx.csv") for text in texts(app.caption))


def test_a_currency_the_file_lacks_is_named_beside_its_input() -> None:
    app = upload(run_app(), "fx_upload", "fx.csv", RATES)
    app.text_input(key="currency_code").input("GBP").run()
    assert any("no rates for 'GBP' (the file has EUR)" in text for text in texts(app.sidebar.error))
    assert not any("GBP" in element.value.columns for element in app.dataframe)


def test_a_plan_dated_before_the_first_rate_says_so() -> None:
    app = upload(run_app({"as_of": "2025-06-01"}), "fx_upload", "fx.csv", RATES)
    app.text_input(key="currency_code").input("EUR").run()
    assert any("no EUR rate on or before 2025-06-01" in text for text in texts(app.error))


# --- throughput --------------------------------------------------------------------------------------


def limit_table(app: AppTest) -> dict[str, list[str]]:
    """The throughput limits as drawn (a Markdown table), column by column, cells unescaped."""
    drawn = next(element.value for element in app.markdown if element.value.startswith("| Per minute"))
    header, _, *rows = [line.strip()[1:-1].split(" | ") for line in drawn.splitlines()]
    cells = [[cell.replace("\\", "").strip() for cell in row] for row in rows]
    return {name: [row[index] for row in cells] for index, name in enumerate(header)}


def test_throughput_for_a_period_without_a_length_gives_the_time_at_the_limit(table: PriceTable) -> None:
    app = run_app()
    fit = throughput(DEFAULT_WORKLOAD, tier="start", table=table)
    kind, sentence = limits.verdict(fit, requests=DEFAULT_WORKLOAD.requests, period="run")
    assert kind == "time" and fit.minutes_for_all_requests is not None
    assert plain(sentence) in texts(app.info)
    assert limits.duration_text(fit.minutes_for_all_requests) in sentence
    rows = limit_table(app)
    assert list(rows["Start limit"]) == ["1,000", "2,000,000", "400,000"]  # Sonnet 4.x, Start tier (rate_limits.yaml)
    assert plain(limits.batch_text(fit)) in texts(app.caption)


def test_throughput_says_when_the_plan_does_not_fit_and_a_higher_tier_does(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, requests=100_000, period="hour")
    app = run_app(workload_to_params(workload))
    fit = throughput(workload, tier="start", table=table)
    assert fit.fits is False and fit.share_of_limits is not None
    assert any(text.startswith("Does not fit the Start tier") for text in texts(app.error))
    shares = list(limit_table(app)["Share used"])
    assert shares == [limits.percent_text(fit.share_of_limits[name]) for name in limits.LIMIT_LABELS]
    app.selectbox(key="throughput_tier").set_value("scale").run()
    assert throughput(workload, tier="scale", table=table).fits is True
    assert any(text.startswith("Fits the Scale tier") for text in texts(app.success))


def test_throughput_says_not_published_for_a_model_without_limits(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, model="claude-3-haiku-20240307")
    app = run_app(workload_to_params(workload))
    fit = throughput(workload, tier="start", table=table)
    assert fit.limits is None
    assert f"Rate limits not published\\: {fit.unavailable_reason}." in texts(app.warning)
    assert any(text.startswith("Batch\\: 1 batch") for text in texts(app.caption))


# --- staleness --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("page", "key"), [("Plan", "as_of"), ("Prices", "prices_as_of"), ("Compare models", "as_of")])
def test_a_date_long_after_the_tables_check_warns(table: PriceTable, page: str, key: str) -> None:
    late = table.checked + dt.timedelta(days=31)
    warning = table.staleness_warning(late)
    assert warning is not None and table.staleness_warning(table.checked + dt.timedelta(days=30)) is None
    app = run_app({"as_of": late.isoformat()} if key == "as_of" else None, page=page)
    if key != "as_of":
        app.date_input(key=key).set_value(late).run()
    assert warning[0].upper() + warning[1:] in texts(app.warning)
    fresh = run_app(page=page)
    assert not any("last checked" in text for text in texts(fresh.warning))


# --- the dry run: thinking, images and PDFs, server tools -----------------------------------------


def _png(width: int, height: int) -> bytes:
    """The smallest PNG whose header states a size (the dry run reads only the header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


THINKING_REQUEST = {
    "custom_id": "look",
    "params": {
        "model": "claude-sonnet-4-6",
        "max_tokens": 4000,
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": "image/png",
                            "data": base64.b64encode(_png(800, 600)).decode(),
                        },
                    },
                    {"type": "text", "text": "What is in this picture?"},
                ],
            }
        ],
    },
}


def test_the_dry_run_shows_thinking_images_and_server_tools(table: PriceTable) -> None:
    text = json.dumps(THINKING_REQUEST)
    app = run_app(page="Dry-run a batch file")
    app.radio(key="dry_run_input").set_value("Paste requests").run()
    app.text_area(key="batch_paste").input(text).run()
    app.number_input(key="dry_run_thinking_pct").set_value(25.0).run()
    assert not app.exception
    upload = io.BytesIO(text.encode())
    upload.name = "pasted requests"
    result = analyze_batch_file(upload, thinking_ratio="0.25", table=table)
    model = result.models[0]
    assert model.thinking_tokens_expected == 500 and model.media.images == 1  # 25% of the 2,000-token budget
    frames = {tuple(element.value.columns): element.value for element in app.dataframe}
    tokens = next(frame for columns, frame in frames.items() if "Thinking" in columns)
    assert list(tokens["Thinking"]) == [model.thinking_tokens_expected]
    assert list(tokens["Output"]) == [model.visible_output_tokens_expected]
    media = next(frame for columns, frame in frames.items() if "Image tokens" in columns)
    assert list(media["Image tokens"]) == [model.media.image_tokens_expected]
    tools = next(frame for columns, frame in frames.items() if "Searches" in columns)
    assert list(tools["Searches high"]) == [3]  # the tool's max_uses
    shown = unescaped(app.markdown)
    assert any("(Expected thinking above)" in line for line in shown)
    assert not any("--thinking-ratio" in line or "--web-searches" in line for line in shown)
