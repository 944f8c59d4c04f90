"""The sidebar: the workload form shared by the Plan and Compare pages, and the API key field.

Each input is followed by a slot for the messages that concern it, so an error or warning appears beside
the input it is about. Every widget keeps its value for the whole session (`KEEP`): the form is drawn
only on the pages that use it.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from estimator.currency import ExchangeRates
from estimator.errors import EstimatorError
from estimator.overrides import NegotiatedRates
from estimator.workload import CHANNELS
from pricing import PriceTable
from ui.form import HIT_FROM_TRAFFIC, HIT_FROM_VALUE, OPTION_FALLBACKS, PERIODS, PricedPlan, model_options, offered
from ui.labels import (
    CHANNEL_HELP,
    ENDPOINT_HELP,
    FAST_HELP,
    FAST_LABEL,
    GEO_HELP,
    channel_labels,
    geo_labels,
    percent_of_fraction,
    plain,
)
from ui.rates import currency_code, read_exchange_rates, read_overrides
from ui.session import API_KEY, EXCHANGE_RATES, KEEP, NEGOTIATED, api_key_from_environment, price_table

__all__ = ["Slots", "render_api_key_field", "render_workload_form", "show_messages"]

Slots = dict[str, DeltaGenerator]

TTL_LABELS = {"5m": "5 minutes", "1h": "1 hour"}
TOOL_LABELS = {"off": "no tools", "auto": "auto / none", "any": "any / named tool"}
OPTION_WORDS = {
    "geo": "global residency",
    "fast": "standard speed",
    "cache_ttl": "the 5-minute lifetime",
    "endpoint": "the global endpoint",
}
"""What the figures use instead of an option the model lacks (`ui.form.OPTION_FALLBACKS`), in words."""
ENDPOINTS = ("global", "regional")
ENDPOINT_LABELS = {"global": "global", "regional": "regional"}
TOKEN_HELP = {
    "prefix_tokens": "Tools + system prompt + shared context: the part that can be cached.",
    "unique_input_tokens": "What follows the last cache breakpoint: the request's own input.",
    "output_tokens": "What the model writes.",
}
TOKEN_FIELDS = (
    ("prefix_tokens", "Shared prefix"),
    ("unique_input_tokens", "Unique input"),
    ("output_tokens", "Output"),
)


def render_workload_form(table: PriceTable, today: dt.date, plan: PricedPlan) -> Slots:
    """The workload inputs, each followed by a slot for the messages that concern it. An option the model
    does not offer is disabled, with the reason as its help (or marked, if the plan asked for it)."""
    slots: Slots = {}
    st.header("Workload")
    models = model_options(
        table, today=today, include_retired=st.session_state["include_retired"], current=st.session_state["model"]
    )
    names = {model.id: _model_label(model.name, model.status_as_of(today)) for model in models}
    st.selectbox("Model", list(names), format_func=names.__getitem__, key="model", persist_state=KEEP)
    st.checkbox("Include retired models", key="include_retired", persist_state=KEEP)
    slots["model"] = st.container()

    periods = list(dict.fromkeys((*PERIODS, st.session_state["period"])))
    count, per = st.columns([3, 2])
    count.number_input("Requests", min_value=0, step=100, key="requests", persist_state=KEEP)
    per.selectbox(
        "per", periods, key="period", accept_new_options=True, help="A label for the figures.", persist_state=KEEP
    )
    slots["requests"] = slots["period"] = st.container()

    st.markdown("**Tokens per request**")
    for name, label in TOKEN_FIELDS:
        st.number_input(label, min_value=0, step=100, key=name, help=TOKEN_HELP[name], persist_state=KEEP)
        slots[name] = st.container()

    st.markdown("**Prompt caching**")
    st.radio(
        "Cache lifetime (TTL)",
        ("5m", "1h"),
        format_func=TTL_LABELS.__getitem__,
        key="cache_ttl",
        horizontal=True,
        persist_state=KEEP,
        **offered(plan, "cache_ttl", "Hits refresh the entry; the 1-hour lifetime costs more to write."),
    )
    slots["cache_ttl"] = st.container()
    st.radio("Hit rate", (HIT_FROM_VALUE, HIT_FROM_TRAFFIC), key="hit_rate_source", horizontal=True, persist_state=KEEP)
    if st.session_state["hit_rate_source"] == HIT_FROM_VALUE:
        st.number_input(
            "Cache hit rate (%)", min_value=0.0, max_value=100.0, step=1.0, key="cache_hit_rate_pct", persist_state=KEEP
        )
    else:
        st.number_input(
            "Requests per hour",
            min_value=0.0,
            step=10.0,
            key="requests_per_hour",
            help="Steady traffic (random arrivals); each hit refreshes the cache entry.",
            persist_state=KEEP,
        )
        if plan.form.workload is not None:
            derived = percent_of_fraction(plan.form.workload.cache_hit_rate)
            st.caption(f"→ a {derived} hit rate with the {TTL_LABELS[plan.form.workload.cache_ttl]} lifetime")
    slots["cache_hit_rate"] = slots["requests_per_hour"] = st.container()

    st.markdown("**Options**")
    st.date_input(
        "Prices as of",
        key="as_of",
        help="Today's date means today: a shared link then prices on the day.",
        persist_state=KEEP,
    )
    slots["as_of"] = st.container()
    residency = geo_labels(table)
    st.radio(
        "Data residency",
        tuple(residency),
        format_func=residency.__getitem__,
        key="geo",
        horizontal=True,
        persist_state=KEEP,
        **offered(plan, "geo", GEO_HELP),
    )
    slots["geo"] = st.container()
    st.toggle(FAST_LABEL, key="fast", persist_state=KEEP, **offered(plan, "fast", FAST_HELP))
    slots["fast"] = st.container()
    render_more_inputs(table, plan, slots)
    render_own_terms(slots)
    return slots


MORE_INPUTS = "sidebar_more"
"""Session key of the "More" expander's open state: opened by the app when an input inside it has an error."""
MORE_FIELDS = frozenset(
    {
        "thinking_tokens",
        "tool_use",
        "web_searches_per_request",
        "web_fetches_per_request",
        "tokens_per_web_fetch",
        "code_execution_sessions_per_request",
        "code_execution_minutes_per_session",
        "code_execution_with_web_tools",
        "channel",
        "endpoint",
    }
)


def render_more_inputs(table: PriceTable, plan: PricedPlan, slots: Slots) -> None:
    """Thinking, server tools and the channel: inputs most plans leave at zero, kept out of the way until
    needed. Drawn only while open: ten widgets fewer for the browser to load and draw on a first visit;
    their values stay (`KEEP`). An error, or an option the model lacks, opens it by itself; other messages
    about its inputs appear right under it while it is closed."""
    if not MORE_FIELDS.isdisjoint(inputs_needing_attention(plan)):
        st.session_state[MORE_INPUTS] = True
    more = st.expander("More: thinking, tools, channel", key=MORE_INPUTS, on_change="rerun")
    if not more.open:
        slots.update(dict.fromkeys(MORE_FIELDS, st.container()))
        return
    with more:
        st.number_input(
            "Thinking tokens per request",
            min_value=0,
            step=100,
            key="thinking_tokens",
            help="Extended thinking: billed as output, shown apart. An assumption: it varies with effort and task.",
            persist_state=KEEP,
        )
        slots["thinking_tokens"] = st.container()
        st.radio(
            "Tools on every request",
            tuple(TOOL_LABELS),
            format_func=TOOL_LABELS.__getitem__,
            key="tool_use",
            horizontal=True,
            persist_state=KEEP,
        )
        slots["tool_use"] = st.container()
        st.number_input(
            "Web searches per request", min_value=0.0, step=1.0, key="web_searches_per_request", persist_state=KEEP
        )
        slots["web_searches_per_request"] = st.container()
        st.number_input(
            "Web fetches per request",
            min_value=0.0,
            step=1.0,
            key="web_fetches_per_request",
            help="No fee of its own: the fetched content is billed as input.",
            persist_state=KEEP,
        )
        st.number_input(
            "Tokens per web fetch",
            min_value=0,
            step=500,
            key="tokens_per_web_fetch",
            help="A 10 kB page ≈ 2,500 tokens, 100 kB ≈ 25,000.",
            persist_state=KEEP,
        )
        slots["web_fetches_per_request"] = slots["tokens_per_web_fetch"] = st.container()
        st.number_input(
            "Code-execution sessions per request",
            min_value=0.0,
            step=0.1,
            key="code_execution_sessions_per_request",
            help="Container sessions a request opens: 0.3 when three requests in ten run code.",
            persist_state=KEEP,
        )
        st.number_input(
            "Minutes per session",
            min_value=0.0,
            step=1.0,
            key="code_execution_minutes_per_session",
            help="Each session is billed at least the table's minimum.",
            persist_state=KEEP,
        )
        st.checkbox(
            "With web search / fetch 20260209 or later (code execution free)",
            key="code_execution_with_web_tools",
            persist_state=KEEP,
        )
        slots["code_execution_sessions_per_request"] = slots["code_execution_minutes_per_session"] = st.container()
        slots["code_execution_with_web_tools"] = slots["code_execution_sessions_per_request"]
        channel_names = channel_labels(table)
        st.selectbox(
            "Channel",
            CHANNELS,
            format_func=channel_names.__getitem__,
            key="channel",
            help=CHANNEL_HELP,
            persist_state=KEEP,
        )
        slots["channel"] = st.container()
        st.radio(
            "Endpoint",
            ENDPOINTS,
            format_func=ENDPOINT_LABELS.__getitem__,
            key="endpoint",
            horizontal=True,
            persist_state=KEEP,
            **offered(plan, "endpoint", ENDPOINT_HELP),
        )
        slots["endpoint"] = st.container()


OWN_TERMS = "sidebar_terms"
OVERRIDES_UPLOAD = "overrides_upload"
FX_UPLOAD = "fx_upload"
OVERRIDES_ERROR = "overrides_error"
FX_ERROR = "fx_error"


OWN_TERMS_SLOTS = frozenset({"overrides", "currency"})


def render_own_terms(slots: Slots) -> None:
    """Negotiated rates and another currency, from the user's own files (kept for the session once read).
    Drawn only while open (it opens by itself on a refused file); the files stay for the session, and the
    verdict says when negotiated rates are in use."""
    negotiated = st.session_state.get(NEGOTIATED)
    rates = st.session_state.get(EXCHANGE_RATES)
    if st.session_state.get(OVERRIDES_ERROR) or st.session_state.get(FX_ERROR):
        st.session_state[OWN_TERMS] = True
    terms = st.expander("Your rates and currency", key=OWN_TERMS, on_change="rerun")
    if not terms.open:
        slots.update(dict.fromkeys(OWN_TERMS_SLOTS, st.container()))  # messages about the rates in use
        return
    with terms:
        st.file_uploader(
            "Negotiated rates (YAML overrides file)",
            type=["yaml", "yml"],
            key=OVERRIDES_UPLOAD,
            on_change=_read_overrides_upload,
            help="A discount per model or category, or explicit rates, with dates: applied on top of the public "
            "table to every figure of the Plan and Compare pages.",
        )
        if isinstance(negotiated, NegotiatedRates):
            st.caption(f"In use: {plain(negotiated.name or negotiated.source_name)} ({_rules(negotiated)})")
            st.button("Use the public prices", key="overrides_remove", on_click=_remove, args=(NEGOTIATED,))
        slots["overrides"] = st.container()
        if error := st.session_state.get(OVERRIDES_ERROR):
            slots["overrides"].error(plain(error), icon=":material/error:")
        st.file_uploader(
            "Exchange rates (CSV date,currency,per_usd)",
            type=["csv", "txt"],
            key=FX_UPLOAD,
            on_change=_read_fx_upload,
            help="Units of the currency one US dollar buys, per date: totals convert at the rate of the plan's date.",
        )
        st.text_input("Currency", key="currency_code", max_chars=3, placeholder="EUR", persist_state=KEEP)
        slots["currency"] = st.container()
        if error := st.session_state.get(FX_ERROR):
            slots["currency"].error(plain(error), icon=":material/error:")
        elif isinstance(rates, ExchangeRates):
            st.caption(f"Rates from {plain(rates.source_name)}: {', '.join(rates.currencies)}")
            _check_currency(rates, slots["currency"])


def _rules(negotiated: NegotiatedRates) -> str:
    count = len(negotiated.rules)
    return f"{count} rule" + ("" if count == 1 else "s")


def _check_currency(rates: ExchangeRates, slot: DeltaGenerator) -> None:
    code = str(st.session_state.get("currency_code") or "")
    if not code.strip():
        slot.caption("Type a currency code to see the totals in it.")
        return
    try:
        currency_code(code, rates)
    except EstimatorError as error:
        slot.error(plain(str(error)), icon=":material/error:")


def _read_overrides_upload() -> None:
    """A callback, so the plan priced in the same run already uses the new rates. Clearing the upload goes back
    to the public prices; a bad file keeps the rates in use and says why it was refused."""
    upload = st.session_state.get(OVERRIDES_UPLOAD)
    st.session_state[OVERRIDES_ERROR] = None
    if upload is None:
        st.session_state[NEGOTIATED] = None
        return
    try:
        st.session_state[NEGOTIATED] = read_overrides(upload.name, upload.getvalue(), table=price_table())
    except EstimatorError as error:
        st.session_state[OVERRIDES_ERROR] = str(error)


def _read_fx_upload() -> None:
    upload = st.session_state.get(FX_UPLOAD)
    st.session_state[FX_ERROR] = None
    if upload is None:
        st.session_state[EXCHANGE_RATES] = None
        return
    try:
        st.session_state[EXCHANGE_RATES] = read_exchange_rates(upload.name, upload.getvalue())
    except EstimatorError as error:
        st.session_state[FX_ERROR] = str(error)


def _remove(key: str) -> None:
    st.session_state[key] = None
    st.session_state[OVERRIDES_ERROR] = None


def _model_label(name: str, status: str) -> str:
    return name if status == "active" else f"{name} ({status})"


def render_api_key_field() -> None:
    """The key lives in this session only: never shown, logged or put in the link."""
    st.markdown("**Token counting**")
    typed = st.text_input(
        "Anthropic API key (optional)",
        type="password",
        key="api_key_input",
        help="Used only in this session, for exact token counts. Also read from ANTHROPIC_API_KEY or st.secrets.",
        persist_state=KEEP,
    )
    st.session_state[API_KEY] = typed.strip() or api_key_from_environment()
    if st.session_state[API_KEY]:
        st.caption("Exact counts available (count_tokens API).")
    else:
        st.caption("Offline approximations: without a key, token counts from text are estimates.")


SLOT_OF_CODE = {"negotiated_rates": "overrides"}
"""Warnings shown beside another input than the field they name (the negotiated rates concern the model's
prices, but are read from the overrides file)."""


def inputs_needing_attention(plan: PricedPlan) -> set[str]:
    """The inputs with an error, or asking for an option the model lacks: shown, even inside an expander."""
    return set(plan.errors) | {name for name in OPTION_FALLBACKS if plan.fell_back(name)}


def show_messages(slots: Slots, plan: PricedPlan) -> None:
    """Each error and warning beside the input it concerns; an option the model lacks, marked beside it."""
    for name, message in plan.errors.items():
        slots.get(name, slots["model"]).error(plain(message), icon=":material/error:")
    for name in OPTION_FALLBACKS:
        if plan.fell_back(name):
            fallback = OPTION_WORDS[name]
            slots.get(name, slots["model"]).warning(
                f"{plain(plan.unavailable[name])}. The figures are for {fallback}.", icon=":material/block:"
            )
    for warning in plan.warnings:
        slot = slots.get(SLOT_OF_CODE.get(warning.code) or warning.field or "model", slots["model"])
        if warning.severity == "warning":
            slot.warning(warning.message, icon=":material/warning:")
        else:
            slot.info(warning.message, icon=":material/info:")
