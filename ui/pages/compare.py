"""Compare models: the sidebar's workload on every model callable on the plan's date, cheapest first."""

from __future__ import annotations

import streamlit as st

from estimator import EstimatorError, compare_models
from estimator.format import count_noun
from estimator.overrides import NegotiatedPriceTable
from estimator.report import comparison_rows, comparison_to_dict
from pricing import PricingError
from ui import charts, tables
from ui.form import MEASURED_FOR_PLAN_MODEL
from ui.labels import plain
from ui.report import csv_text, json_text
from ui.session import (
    KEEP,
    current_plan,
    offer_download,
    plan_table,
    show_figure,
    show_table,
    staleness_warning,
    today,
)

VIEWS = ("Table", "Chart")


def render() -> None:
    table = plan_table()
    plan = current_plan()
    workload = plan.result.workload if plan.result is not None else None
    if workload is None:
        st.error("Fix the input marked in the sidebar to compare models.", icon=":material/error:")
        return
    plan_model = table.model(workload.model)
    measured_labels = {
        MEASURED_FOR_PLAN_MODEL: f"{plan_model.name} ({plan_model.tokenizer} tokenizer)",
        "legacy": "a legacy-tokenizer model",
        "2026": "a 2026-tokenizer model",
    }
    include, measured = st.columns(2)
    include.checkbox("Include retired models", key="compare_include_retired", persist_state=KEEP)
    measured.selectbox(
        "Token figures were counted for",
        tuple(measured_labels),
        format_func=measured_labels.__getitem__,
        key="tokens_measured_for",
        help="Token counts differ between tokenizer generations; figures are converted for the other one.",
        persist_state=KEEP,
    )
    try:
        comparisons = compare_models(workload, include_retired=st.session_state["compare_include_retired"], table=table)
    except (EstimatorError, PricingError) as error:
        st.error(plain(str(error)), icon=":material/error:")
        return
    st.caption(
        f"The plan's workload ({count_noun(workload.requests, 'request')} per {plain(workload.period)}) on every "
        f"model callable on {workload.as_of or today()}, cheapest first (by each model's cheapest mode)."
    )
    staleness_warning(table, workload.as_of or today())
    if isinstance(table, NegotiatedPriceTable):
        st.info(
            f"Priced with the negotiated rates from {plain(table.negotiated.source_name)} where a rule names the "
            "model (or every model); the others at the public prices.",
            icon=":material/storefront:",
        )
    choice = st.session_state["tokens_measured_for"]
    note = tables.tokenizer_note(comparisons, measured_with=f"for {measured_labels[choice]}")
    if note:
        st.info(note, icon=":material/translate:")
    table_tab, chart_tab = st.tabs(VIEWS, key="compare_view", on_change="rerun")
    if table_tab.open:
        with table_tab:
            show_table(tables.comparison_table(comparisons))
            every_mode = st.expander("Every mode's total per model", key="compare_every_mode", on_change="rerun")
            if every_mode.open:  # a second grid to draw, only for a reader who asks for it
                with every_mode:
                    show_table(tables.comparison_modes_table(comparisons))
    if chart_tab.open:  # drawn only when asked for: the page opens on the table, without plotly's redraw
        with chart_tab:
            show_figure(charts.comparison_figure(comparisons), key="chart_compare")
    csv_column, json_column = st.columns(2)
    offer_download(
        csv_column,
        "Comparison (CSV)",
        lambda: csv_text(comparison_rows(comparisons)),
        "claude-model-comparison.csv",
        key="download_compare_csv",
    )
    offer_download(
        json_column,
        "Comparison (JSON)",
        lambda: json_text(comparison_to_dict(comparisons)),
        "claude-model-comparison.json",
        key="download_compare_json",
    )
