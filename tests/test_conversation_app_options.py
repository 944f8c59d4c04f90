"""The Conversations page's residency, fast mode, channel and endpoint, through AppTest: each one changes the
figures exactly as `estimate_conversation` does with the same inputs; an option the model or channel lacks is
offered disabled with the reason, or, if asked for, marked beside its input while the page stays priced without
it (as the Plan page's sidebar does: issue 13, defect 4); the words are the sidebar's own."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from estimator import InvalidWorkloadError, estimate, format_usd
from estimator.conversations import Conversation, estimate_conversation
from estimator.conversations.turns import MAX_TURNS
from pricing import Model, PriceTable
from tests.test_app import metric, open_section, run_app, texts
from tests.test_app_conversation import DEFAULT, assert_conversation_shown, open_conversation
from tests.test_app_workloads import unescaped
from ui import conversation as build
from ui.columns import factor_text
from ui.form import offered
from ui.labels import NOT_PRICED, metric_label

FIX_INPUT = "Fix the input marked above to see the figures."


def shown_totals(app: AppTest) -> dict[str, str]:
    """Every mode's total over all conversations, as shown."""
    return {m.label: m.value for m in app.metric if m.label.endswith("in all")}


def set_and_run(app: AppTest, **widgets: object) -> AppTest:
    """Set the page's widgets by key (without the `conversation_` prefix) and rerun: a visitor's choice, or a
    value kept in the session from another model (what a disabled widget cannot be set to by a click)."""
    for name, value in widgets.items():
        app.session_state[f"conversation_{name}"] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def page_models(table: PriceTable) -> list[Model]:
    """The models the page lists today (the conversation's own date)."""
    return list(table.models_as_of(dt.date.today(), include_retired=False))


def refuses(conversation: Conversation, table: PriceTable) -> bool:
    try:
        estimate_conversation(conversation, table=table)
    except InvalidWorkloadError:
        return True
    return False


def model_where(table: PriceTable, offers: bool, **options: object) -> str:
    """A model the page lists that offers (or lacks) `options`, found through the estimator."""
    for model in page_models(table):
        if refuses(dataclasses.replace(DEFAULT, model=model.id, **options), table) != offers:
            return model.id
    pytest.fail(f"no model listed today {'offers' if offers else 'lacks'} {options}")


# --- each option changes the figures as the estimator does ----------------------------------------------


def test_us_residency_multiplies_every_figure_by_the_tables_multiplier(table: PriceTable) -> None:
    app = open_conversation()
    before = shown_totals(app)
    geo = app.radio(key="conversation_geo")
    multiplier = table.rules.data_residency.us_multiplier
    assert geo.options == ["global", f"US only (×{factor_text(multiplier)})"] and not geo.disabled
    set_and_run(app, geo="us")
    us = dataclasses.replace(DEFAULT, geo="us")
    assert_conversation_shown(app, us, table)
    assert shown_totals(app) != before
    # The multiplier applies to every token rate, so to every turn: checked by hand on the exact figures.
    plain = estimate_conversation(DEFAULT, table=table).mode("realtime").total_usd
    assert estimate_conversation(us, table=table).mode("realtime").total_usd == plain * multiplier
    assert not any("The figures are for" in text for text in unescaped(app.warning))


def test_fast_mode_prices_real_time_at_the_fast_rates(table: PriceTable) -> None:
    app = open_conversation()
    assert app.toggle(key="conversation_fast").disabled  # the default model has no fast mode today
    model = model_where(table, True, fast=True)
    set_and_run(app, model=model)
    standard = dataclasses.replace(DEFAULT, model=model)
    assert_conversation_shown(app, standard, table)
    toggle = app.toggle(key="conversation_fast")
    assert not toggle.disabled and toggle.label == "Fast mode (real-time only)"
    set_and_run(app, fast=True)
    fast = dataclasses.replace(standard, fast=True)
    assert_conversation_shown(app, fast, table)
    realtime = metric(app, metric_label("realtime", "in all"))
    assert realtime == format_usd(estimate_conversation(fast, table=table).mode("realtime").total_usd)
    assert realtime != format_usd(estimate_conversation(standard, table=table).mode("realtime").total_usd)
    assert not unescaped(app.error)


def test_a_partner_channel_applies_its_rules_and_says_what_its_figures_are(table: PriceTable) -> None:
    app = set_and_run(open_conversation(), channel="vertex")
    vertex = dataclasses.replace(DEFAULT, channel="vertex")
    assert_conversation_shown(app, vertex, table)
    result = estimate_conversation(vertex, table=table)
    assert not result.mode("batch").available  # no published batch price there: "not priced", never $0
    assert metric(app, metric_label("batch", "each")) == NOT_PRICED
    terms = estimate(vertex.as_request(), table=table).channel
    assert terms is not None and terms.basis in unescaped(app.info)
    geo = app.radio(key="conversation_geo")  # inference_geo is the Claude API's: disabled, with the reason
    assert geo.disabled and "Claude API parameter" in (geo.help or "")
    assert not app.radio(key="conversation_endpoint").disabled


def test_a_regional_endpoint_applies_the_channels_premium(table: PriceTable) -> None:
    app = open_conversation()
    endpoint = app.radio(key="conversation_endpoint")
    assert endpoint.disabled and "Claude API has no regional endpoint" in (endpoint.help or "")
    set_and_run(app, channel="vertex")
    global_totals = shown_totals(app)
    set_and_run(app, endpoint="regional")
    regional = dataclasses.replace(DEFAULT, channel="vertex", endpoint="regional")
    assert_conversation_shown(app, regional, table)
    assert shown_totals(app) != global_totals
    assert not any("The figures are for" in text for text in unescaped(app.warning))


# --- an option the model lacks never wipes the page -------------------------------------------------------


def test_an_option_the_new_model_lacks_is_marked_beside_it_and_the_page_stays(table: PriceTable) -> None:
    app = set_and_run(open_conversation(), geo="us")
    model = model_where(table, False, geo="us")
    set_and_run(app, model=model)
    assert FIX_INPUT not in texts(app.error) and not app.exception
    assert_conversation_shown(app, dataclasses.replace(DEFAULT, model=model), table)  # priced for global
    marks = [text for text in unescaped(app.warning) if "The figures are for global residency." in text]
    assert len(marks) == 1 and marks[0].startswith("Data residency: ") and "\n" not in marks[0]
    geo = app.radio(key="conversation_geo")
    assert not geo.disabled and geo.value == "us"  # asked for: left enabled, so it can be turned off
    assert (geo.help or "").startswith("Not offered: ")
    set_and_run(app, geo="global")
    assert not any("The figures are for" in text for text in unescaped(app.warning))
    assert app.radio(key="conversation_geo").disabled


@pytest.mark.parametrize(
    ("widgets", "fallback", "label", "instead"),
    [
        ({"fast": True}, {"fast": False}, "Fast mode", "standard speed"),
        ({"endpoint": "regional"}, {"endpoint": "global"}, "Endpoint", "the global endpoint"),
        ({"channel": "bedrock", "geo": "us"}, {"geo": "global"}, "Data residency", "global residency"),
        (
            {"as_of": dt.date(2024, 12, 1), "cache_ttl": "1h"},
            {"cache_ttl": "5m"},
            "Cache lifetime (TTL)",
            "the 5-minute lifetime",
        ),
    ],
)
def test_an_unoffered_option_asked_for_is_named_and_priced_without(
    table: PriceTable, widgets: dict[str, object], fallback: dict[str, object], label: str, instead: str
) -> None:
    """A session (or a model change) asking for what the model or channel lacks: one line naming the input,
    the figures of the conversation without it, no traceback."""
    app = set_and_run(open_conversation(), **widgets)
    assert FIX_INPUT not in texts(app.error) and not app.exception
    asked = dataclasses.replace(DEFAULT, **widgets)
    assert refuses(asked, table)  # what the estimator itself refuses
    assert_conversation_shown(app, dataclasses.replace(asked, **fallback), table)
    marks = [text for text in unescaped(app.warning) if text.endswith(f"The figures are for {instead}.")]
    assert len(marks) == 1 and marks[0].startswith(f"{label}: ")


def test_a_refused_input_still_shows_its_message_and_the_options_stay_usable() -> None:
    app = set_and_run(open_conversation(), turns=MAX_TURNS + 1)
    assert FIX_INPUT in texts(app.error)
    assert not app.radio(key="conversation_geo").disabled  # not known while another input is refused
    set_and_run(app, turns=DEFAULT.turns, geo="us")
    assert FIX_INPUT not in texts(app.error)


# --- the same words and rules as the sidebar -------------------------------------------------------------


def test_the_options_read_as_the_plan_pages_sidebar() -> None:
    plan = open_section(run_app(), "sidebar_more")  # the plan's model is the page's: the same options offered
    page = open_conversation()
    for kind, key in (("radio", "geo"), ("toggle", "fast"), ("selectbox", "channel"), ("radio", "endpoint")):
        ours, theirs = getattr(page, kind)(key=f"conversation_{key}"), getattr(plan, kind)(key=key)
        assert (ours.label, ours.help, ours.disabled) == (theirs.label, theirs.help, theirs.disabled), key
        if kind != "toggle":
            assert ours.options == theirs.options, key


def test_the_option_widgets_start_at_the_conversations_defaults() -> None:
    state = build.widget_defaults("claude-sonnet-4-6", today=dt.date(2026, 3, 1))
    assert {key: state[key] for key in ("conversation_geo", "conversation_fast")} == {
        "conversation_geo": "global",
        "conversation_fast": False,
    }
    assert (state["conversation_channel"], state["conversation_endpoint"]) == ("anthropic", "global")


def test_checked_options_fall_back_only_from_what_was_asked(table: PriceTable) -> None:
    asked = dataclasses.replace(DEFAULT, endpoint="regional")
    options = build.checked_options(asked, table=table)
    assert options.errors == {} and "endpoint" in options.unavailable
    assert build.without_unoffered(asked, options) == DEFAULT
    assert offered(options, "endpoint", "help")["disabled"] is False  # asked for: it can be turned off
    plain = build.checked_options(DEFAULT, table=table)
    assert build.without_unoffered(DEFAULT, plain) is DEFAULT
    assert offered(plain, "endpoint", "help") == {
        "disabled": True,
        "help": f"Not offered: {plain.unavailable['endpoint']}",
    }
    assert offered(plain, "geo", "help") == {"help": "help"}
