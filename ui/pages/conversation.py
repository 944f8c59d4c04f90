"""Conversations: a multi-turn conversation or agent loop, priced turn by turn, with and without caching.

Every turn re-sends the growing context, so the cost grows with the square of the turns; caching (each turn
reads the previous prompt and writes the new tail) changes that several times over. The page stands on its
own: its inputs are its own widgets; the negotiated rates and the currency of the session apply here too.

Residency, fast mode, channel and endpoint are offered as the Plan page's sidebar offers them (same words,
same rules): an option the model or channel lacks is disabled with the reason, or, if asked for, marked
beside its input while the figures are priced without it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from estimator import EstimatorError, decimal_text, format_usd
from estimator.conversations import Conversation, ConversationEstimate, TurnsPoint, estimate_conversation, sweep_turns
from estimator.format import count_noun
from estimator.workload import CHANNELS
from pricing import PriceTable, PricingError
from ui import charts, tables
from ui import conversation as build
from ui.form import OPTION_FALLBACKS, PricedPlan, model_options, offered
from ui.labels import (
    CHANNEL_HELP,
    ENDPOINT_HELP,
    FAST_HELP,
    FAST_LABEL,
    FIELD_LABELS,
    GEO_HELP,
    NOT_PRICED,
    channel_labels,
    geo_labels,
    metric_label,
    plain,
)
from ui.rates import convert_modes, converted_table, rate_note
from ui.session import (
    KEEP,
    currency,
    offer_download,
    page_boundary,
    plan_table,
    show_figure,
    show_table,
    staleness_warning,
    today,
)
from ui.sidebar import ENDPOINT_LABELS, ENDPOINTS, OPTION_WORDS, TTL_LABELS

_KEPT = "conversation_kept"


def render() -> None:
    table = plan_table()
    st.subheader("Conversations and agent loops")
    st.caption(
        "Each turn re-sends everything before it, so the cost grows with the square of the turns. With automatic "
        "caching each turn reads the previous prompt from the cache and writes only the new tail."
    )
    # Read before the inputs are drawn: an option the model lacks is drawn disabled, with the reason.
    conversation, errors = build.conversation_from_widgets(st.session_state.to_dict(), today=today())
    options = None if conversation is None else build.checked_options(conversation, table=table)
    slots = render_inputs(table, options)
    if options is not None:
        errors = options.errors
    if conversation is None or options is None or errors:
        for name, message in errors.items():
            slots.get(name, slots["model"]).error(plain(message), icon=":material/error:")
        st.error("Fix the input marked above to see the figures.", icon=":material/error:")
        return
    mark_options_not_offered(slots, options)
    priced = priced_conversation(table, build.without_unoffered(conversation, options))
    if priced is None:
        return
    result, sweep = priced
    for warning in result.warnings:
        slot = slots.get(warning.field or "model", slots["model"])
        if warning.severity == "warning":
            slot.warning(plain(warning.message), icon=":material/warning:")
        else:
            slot.info(plain(warning.message), icon=":material/info:")
    show_conversation(table, result, sweep, options)


def render_inputs(table: PriceTable, options: PricedPlan | None) -> dict[str, DeltaGenerator]:
    """The conversation's inputs in four rows, each row followed by a slot for the messages about it.
    `options`: which options the model lacks (None while another input is refused: all are offered)."""
    slots: dict[str, DeltaGenerator] = {}
    models = model_options(table, today=today(), include_retired=False, current=st.session_state["conversation_model"])
    names = {model.id: model.name for model in models}
    model, count, turns, day = st.columns(4)
    model.selectbox("Model", list(names), format_func=names.__getitem__, key="conversation_model", persist_state=KEEP)
    count.number_input("Conversations", min_value=0, step=100, key="conversation_count", persist_state=KEEP)
    turns.number_input("Turns per conversation", min_value=1, step=1, key="conversation_turns", persist_state=KEEP)
    day.date_input("Prices as of", key="conversation_as_of", persist_state=KEEP)
    slots["model"] = slots["conversations"] = slots["turns"] = slots["as_of"] = st.container()
    prefix, added, output, thinking = st.columns(4)
    prefix.number_input(
        "Prefix (tools + system)", min_value=0, step=500, key="conversation_prefix_tokens", persist_state=KEEP
    )
    added.number_input(
        "Input per turn",
        min_value=0,
        step=100,
        key="conversation_input_tokens",
        help="The user's message or the tool results each turn adds.",
        persist_state=KEEP,
    )
    output.number_input("Output per turn", min_value=0, step=100, key="conversation_output_tokens", persist_state=KEEP)
    thinking.number_input(
        "Thinking per turn",
        min_value=0,
        step=100,
        key="conversation_thinking_tokens",
        help="Billed as output.",
        persist_state=KEEP,
    )
    tokens = st.container()
    for name in ("prefix_tokens", "input_tokens_per_turn", "output_tokens_per_turn", "thinking_tokens_per_turn"):
        slots[name] = tokens
    keep, ttl, hits, batch_hits = st.columns(4)
    keep.toggle(
        "Keep earlier thinking",
        key="conversation_keep_thinking",
        help="Whether earlier turns' thinking stays in the context. Opus 4.5+ and Sonnet 4.6+ keep it by default; "
        "older models and every Haiku keep only the last turn's.",
        persist_state=KEEP,
    )
    ttl.radio(
        "Cache lifetime (TTL)",
        tuple(TTL_LABELS),
        format_func=TTL_LABELS.__getitem__,
        key="conversation_cache_ttl",
        horizontal=True,
        persist_state=KEEP,
        **_offered(options, "cache_ttl", None),
    )
    hits.number_input(
        "Turns finding the cache (%)",
        min_value=0.0,
        max_value=100.0,
        step=5.0,
        key="conversation_hit_rate_pct",
        help="100% when turns come well within the cache lifetime; less with long pauses.",
        persist_state=KEEP,
    )
    batch_hits.number_input(
        "The same in batches (%)",
        min_value=0.0,
        max_value=100.0,
        step=5.0,
        key="conversation_batch_hit_rate_pct",
        help="Cache hits in batches are best-effort.",
        persist_state=KEEP,
    )
    caching = st.container()
    for name in ("keep_thinking", "cache_ttl", "cache_hit_rate", "batch_cache_hit_rate"):
        slots[name] = caching
    render_option_inputs(table, options, slots)
    return slots


def render_option_inputs(table: PriceTable, options: PricedPlan | None, slots: dict[str, DeltaGenerator]) -> None:
    """Residency, fast mode, channel and endpoint, worded as the Plan page's sidebar words them."""
    geo, fast, channel, endpoint = st.columns(4)
    residency = geo_labels(table)
    geo.radio(
        FIELD_LABELS["geo"],
        tuple(residency),
        format_func=residency.__getitem__,
        key="conversation_geo",
        horizontal=True,
        persist_state=KEEP,
        **_offered(options, "geo", GEO_HELP),
    )
    fast.toggle(FAST_LABEL, key="conversation_fast", persist_state=KEEP, **_offered(options, "fast", FAST_HELP))
    channels = channel_labels(table)
    channel.selectbox(
        FIELD_LABELS["channel"],
        CHANNELS,
        format_func=channels.__getitem__,
        key="conversation_channel",
        help=CHANNEL_HELP,
        persist_state=KEEP,
    )
    endpoint.radio(
        FIELD_LABELS["endpoint"],
        ENDPOINTS,
        format_func=ENDPOINT_LABELS.__getitem__,
        key="conversation_endpoint",
        horizontal=True,
        persist_state=KEEP,
        **_offered(options, "endpoint", ENDPOINT_HELP),
    )
    slots.update(dict.fromkeys(("geo", "fast", "channel", "endpoint"), st.container()))


def _offered(options: PricedPlan | None, name: str, help: str | None) -> dict[str, Any]:
    return {"help": help} if options is None else offered(options, name, help)


def mark_options_not_offered(slots: dict[str, DeltaGenerator], options: PricedPlan) -> None:
    """An option asked for that the model or channel lacks: the reason beside it, and what the figures use
    instead (the sidebar's words). Four inputs share a row and its slot, so the message names its input."""
    for name in OPTION_FALLBACKS:
        if options.fell_back(name):
            slots[name].warning(
                f"{FIELD_LABELS[name]}: {plain(options.unavailable[name])}. The figures are for {OPTION_WORDS[name]}.",
                icon=":material/block:",
            )


def priced_conversation(
    table: PriceTable, conversation: Conversation
) -> tuple[ConversationEstimate, tuple[TurnsPoint, ...]] | None:
    """Price once per conversation and table (a long loop takes a while): kept in the session."""
    kept = st.session_state.get(_KEPT)
    if isinstance(kept, tuple) and kept[0] == conversation and kept[1] is table:
        return kept[2]  # type: ignore[no-any-return]
    try:
        with st.spinner("Pricing every turn…"):
            result = estimate_conversation(conversation, table=table)
            sweep = sweep_turns(conversation, build.turn_steps(conversation.turns), table=table)
    except (EstimatorError, PricingError) as error:
        st.error(plain(str(error)), icon=":material/error:")
        return None
    st.session_state[_KEPT] = (conversation, table, (result, sweep))
    return result, sweep


def show_conversation(
    table: PriceTable, result: ConversationEstimate, sweep: tuple[TurnsPoint, ...], options: PricedPlan
) -> None:
    # What the prices are, as the Plan page says it: a partner channel's basis, the negotiated rates applied.
    for sentence in tables.price_basis(options.result) if options.result is not None else ():
        st.info(plain(sentence), icon=":material/storefront:")
    count = result.conversation.conversations
    for column, mode in zip(st.columns(len(result.modes), gap="small"), result.modes, strict=True):
        with column, st.container(border=True, key=f"conversation_{mode.mode}"):
            if not mode.available:
                st.metric(metric_label(mode.mode, "each"), NOT_PRICED)
                st.caption(plain(mode.unavailable_reason or ""))
                continue
            st.metric(
                metric_label(mode.mode, "each"),
                format_usd(mode.per_conversation_usd),
                help=f"One conversation; exact: ${decimal_text(mode.per_conversation_usd)}",
            )
            st.metric(
                metric_label(mode.mode, "in all"),
                format_usd(mode.total_usd),
                help=f"{count_noun(count, 'conversation')}; exact: ${decimal_text(mode.total_usd)}",
            )
    st.caption(plain(build.facts_text(result)))
    staleness_warning(table, result.as_of)
    render_currency(result)
    show_figure(charts.turns_figure(sweep, current_turns=result.conversation.turns), key="chart_turns")
    turns = st.expander("Turn by turn", key="conversation_turns_table", on_change="rerun")
    if turns.open:  # drawn only while open: a long loop has thousands of rows
        with turns:
            show_table(build.turn_table(result), key="conversation_turn_table")
    offer_download(
        st.container(),
        "Turn by turn (CSV)",
        lambda: build.turn_csv(result),
        "claude-conversation.csv",
        key="download_conversation_csv",
    )


@page_boundary
def render_currency(result: ConversationEstimate) -> None:
    chosen = currency()
    if chosen is None:
        return
    usd = build.totals(result)
    try:
        converted = convert_modes(usd, chosen, result.as_of)
    except EstimatorError as error:
        st.error(plain(str(error)), icon=":material/currency_exchange:")
        return
    st.markdown(f"**Totals in {converted.currency}**")
    show_table(converted_table(converted, usd), key="conversation_currency")
    st.caption(plain(rate_note(converted)))
