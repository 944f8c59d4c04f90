"""The sidebar: the workload form shared by the Plan and Compare pages, and the API key field.

Each input is followed by a slot for the messages that concern it, so an error or warning appears beside
the input it is about. Every widget keeps its value for the whole session (`KEEP`): the form is drawn
only on the pages that use it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pricing import PriceTable
from ui.columns import factor_text
from ui.form import HIT_FROM_TRAFFIC, HIT_FROM_VALUE, OPTION_FALLBACKS, PERIODS, PricedPlan, model_options
from ui.labels import percent_of_fraction, plain
from ui.session import API_KEY, KEEP, api_key_from_environment

__all__ = ["Slots", "render_api_key_field", "render_workload_form", "show_messages"]

Slots = dict[str, DeltaGenerator]

TTL_LABELS = {"5m": "5 minutes", "1h": "1 hour"}
TOOL_LABELS = {"off": "no tools", "auto": "auto / none", "any": "any / named tool"}
OPTION_WORDS = {"geo": "global residency", "fast": "standard speed", "cache_ttl": "the 5-minute lifetime"}
"""What the figures use instead of an option the model lacks (`ui.form.OPTION_FALLBACKS`), in words."""
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
        **_offered(plan, "cache_ttl", "Hits refresh the entry; the 1-hour lifetime costs more to write."),
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
    us = factor_text(table.rules.data_residency.us_multiplier)
    geo_labels = {"global": "global", "us": f"US only (×{us})"}
    st.radio(
        "Data residency",
        ("global", "us"),
        format_func=geo_labels.__getitem__,
        key="geo",
        horizontal=True,
        persist_state=KEEP,
        **_offered(plan, "geo", "Where inference runs; US-only costs more."),
    )
    slots["geo"] = st.container()
    st.toggle(
        "Fast mode (real-time only)",
        key="fast",
        persist_state=KEEP,
        **_offered(plan, "fast", "Faster output at fast-mode rates, for real-time requests."),
    )
    slots["fast"] = st.container()
    st.radio(
        "Tools on every request",
        tuple(TOOL_LABELS),
        format_func=TOOL_LABELS.__getitem__,
        key="tool_use",
        persist_state=KEEP,
    )
    slots["tool_use"] = st.container()
    st.number_input(
        "Web searches per request", min_value=0.0, step=1.0, key="web_searches_per_request", persist_state=KEEP
    )
    slots["web_searches_per_request"] = st.container()
    return slots


def _offered(plan: PricedPlan, name: str, help: str) -> dict[str, Any]:
    """A widget's `disabled` and `help`: an option the model lacks is disabled unless the plan asked for it
    (then it stays enabled, so it can be turned off, and is marked beside it)."""
    reason = plan.unavailable.get(name)
    if reason is None:
        return {"help": help}
    return {"disabled": not plan.fell_back(name), "help": f"Not offered: {reason}"}


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


def show_messages(slots: Slots, plan: PricedPlan) -> None:
    """Each error and warning beside the input it concerns; an option the model lacks, marked beside it."""
    for name, message in plan.errors.items():
        slots.get(name, slots["model"]).error(plain(message), icon=":material/error:")
    for name in OPTION_FALLBACKS:
        if plan.fell_back(name):
            fallback = OPTION_WORDS[name]
            slots[name].warning(
                f"{plain(plan.unavailable[name])}. The figures are for {fallback}.", icon=":material/block:"
            )
    for warning in plan.warnings:
        slot = slots.get(warning.field or "model", slots["model"])
        if warning.severity == "warning":
            slot.warning(warning.message, icon=":material/warning:")
        else:
            slot.info(warning.message, icon=":material/info:")
