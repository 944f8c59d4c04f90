"""Prices: the table as of a date, one model's history and sources, and what changed between two dates."""

from __future__ import annotations

import streamlit as st

from pricing import PriceTable, PricingError
from pricing.cli import render_diff
from pricing.diff import diff_dates
from ui import tables
from ui.labels import plain
from ui.session import KEEP, price_table, show_table, staleness_warning


def render() -> None:
    table = price_table()
    render_price_list(table)
    render_model_history(table)
    render_price_diff(table)


def render_price_list(table: PriceTable) -> None:
    st.subheader("Price table")
    day, include = st.columns(2)
    day.date_input("As of", key="prices_as_of", persist_state=KEEP)
    include.checkbox("Include retired and unreleased models", key="prices_include_all", persist_state=KEEP)
    as_of = st.session_state["prices_as_of"]
    st.caption(f"USD per million tokens, in effect on {as_of}. Table checked {table.checked}.")
    staleness_warning(table, as_of)
    include_all = st.session_state["prices_include_all"]
    show_table(tables.price_list_table(table, as_of, include_all=include_all))
    with st.expander("Ids, aliases and notes"):
        show_table(tables.price_notes_table(table, as_of, include_all=include_all))


def render_model_history(table: PriceTable) -> None:
    st.subheader("One model: history and sources")
    names = {model.id: model.name for model in table.models}
    st.selectbox("Model", list(names), format_func=names.__getitem__, key="prices_model", persist_state=KEEP)
    model = table.model(st.session_state["prices_model"])
    day = st.session_state["prices_as_of"]
    st.markdown("\n".join(f"- {fact}" for fact in tables.model_facts(table, model, day)))
    st.markdown("**Price history** (USD per million tokens)")
    show_table(tables.history_table(model))
    with st.expander("What each row rests on"):
        st.markdown("\n".join(f"- {plain(note)}" for note in tables.history_notes(model)))
    st.markdown(f"**Sources** (checked {model.checked})")
    keys = [key for period in model.prices for key in period.sources] + list(model.sources)
    st.markdown("\n".join(tables.source_lines(table, keys)))
    if model.notes:
        st.markdown("**Notes**\n" + "\n".join(f"- {note}" for note in model.notes))


def render_price_diff(table: PriceTable) -> None:
    st.subheader("What changed between two dates")
    before, after = st.columns(2)
    before.date_input("From", key="prices_diff_from", persist_state=KEEP)
    after.date_input("To", key="prices_diff_to", persist_state=KEEP)
    old, new = st.session_state["prices_diff_from"], st.session_state["prices_diff_to"]
    try:
        diff = diff_dates(table, old, new)
    except PricingError as error:
        st.error(plain(str(error)), icon=":material/error:")
        return
    if diff.identical:
        st.success(f"No price changed between {old} and {new}.")
        return
    st.caption(
        f"{diff.count('changed')} rates changed, {diff.count('added')} added, {diff.count('removed')} removed; "
        f"models added: {', '.join(diff.models_added) or 'none'}; removed: {', '.join(diff.models_removed) or 'none'}."
    )
    show_table(tables.rate_change_table(diff, table))
    with st.expander("As plain text"):
        st.code(render_diff(diff), language=None)
