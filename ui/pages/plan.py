"""Plan: the sidebar's workload in every mode, with its figures, a budget, a token counter and downloads."""

from __future__ import annotations

import streamlit as st

from estimator import (
    Estimate,
    EstimateWarning,
    EstimatorError,
    Workload,
    break_even,
    budget,
    count_tokens,
    decimal_text,
    format_tokens,
    format_usd,
    sweep_hit_rate,
    sweep_requests,
)
from estimator.format import count_noun
from estimator.report import estimate_rows, estimate_to_dict
from estimator.throughput import throughput
from pricing import PriceTable, PricingError
from ui import bars, charts, tables
from ui import throughput as limits
from ui.form import FormResult, widget_decimal
from ui.labels import FIELD_LABELS, NOT_PRICED, metric_label, plain
from ui.rates import convert_plan, converted_table, rate_note
from ui.report import csv_text, json_text, markdown_report
from ui.scenario import workload_to_params
from ui.session import (
    KEEP,
    api_key,
    currency,
    current_plan,
    offer_download,
    page_boundary,
    plan_table,
    show_figure,
    show_table,
    staleness_warning,
)


def render() -> None:
    table = plan_table()
    plan = current_plan()
    result = plan.result
    if result is None:
        st.error("Fix the input marked in the sidebar to see the figures:", icon=":material/error:")
        for name, message in plan.errors.items():
            st.markdown(f"- **{FIELD_LABELS.get(name, name)}**: {plain(message)}")
        return
    workload = result.workload
    render_verdict(table, result)
    for sentence in tables.price_basis(result):
        st.info(plain(sentence), icon=":material/storefront:")
    render_mode_metrics(result)
    render_currency(result)
    st.caption(
        f"Totals for {count_noun(workload.requests, 'request')} per {plain(workload.period)} on {result.model_name} · "
        f"prices in effect since {result.prices_effective_from}, as of {result.as_of} · "
        f"{format_tokens(result.prompt_tokens)} prompt tokens per request "
        f"({format_tokens(result.cacheable_prefix_tokens)} cacheable) · table checked {table.checked}"
    )
    staleness_warning(table, result.as_of)
    render_warning_list(tables.listed_warnings(result))
    # st.html, not Markdown with HTML: its script is 31 KB, Markdown's HTML reader (rehype-raw) 188 KB.
    st.html(bars.breakdown_html(result))
    render_throughput(table, workload)
    render_sweeps(table, result)
    render_budget(table, workload)
    render_token_counter(workload)
    render_plan_downloads(table, plan.form, result)


def render_verdict(table: PriceTable, result: Estimate) -> None:
    """The answer at a glance: the cheapest mode, what it saves, and its catch."""
    rules = table.rules.batch
    headline, catch = tables.verdict(result, band=(rules.best_effort_hit_rate_low, rules.best_effort_hit_rate_high))
    with st.container(key="verdict"):
        st.markdown(f"#### {plain(headline)}")
        if catch:
            st.markdown(plain(catch))


def render_mode_metrics(result: Estimate) -> None:
    """Each mode's total, cost per request and saving, four cards in one row (stacked on a phone); the
    cheapest (all of them, when tied) marked. An unpriced mode says so, with the reason."""
    cheapest = {mode.mode for mode in tables.cheapest_modes(result)}
    for column, mode in zip(st.columns(len(result.modes), gap="small"), result.modes, strict=True):
        with column, st.container(border=True, key=f"mode_{mode.mode}"):
            if not mode.available:
                st.metric(metric_label(mode.mode, "total"), NOT_PRICED)
                st.caption(plain(mode.unavailable_reason or ""))
                continue
            delta = tables.mode_delta(result, mode)
            st.metric(
                metric_label(mode.mode, "total"),
                format_usd(mode.total_usd),
                delta=delta[0] if delta else None,
                delta_color="inverse",
                delta_description=delta[1] if delta else None,
                help=f"Exact: ${decimal_text(mode.total_usd)}",
            )
            st.metric(metric_label(mode.mode, "per request"), format_usd(mode.per_request_usd))
            saved = "baseline" if mode.mode == "realtime" else format_usd(mode.savings_usd)
            st.metric(metric_label(mode.mode, "saves"), saved, help="Against real-time")
            if mode.mode in cheapest:
                st.badge("cheapest", color="green", icon=":material/check:")


def render_currency(result: Estimate) -> None:
    """The totals in the session's currency beside the exact USD, at the rate of the plan's date."""
    chosen = currency()
    if chosen is None:
        return
    try:
        converted = convert_plan(result, chosen)
    except EstimatorError as error:  # e.g. no rate on or before the plan's date
        st.error(plain(str(error)), icon=":material/currency_exchange:")
        return
    usd = {mode.mode: mode.total_usd if mode.available else None for mode in result.modes}
    st.markdown(f"**Totals in {converted.currency}**")
    show_table(converted_table(converted, usd), key="plan_currency")
    st.caption(plain(rate_note(converted)))


THROUGHPUT_STYLE = {"fits": st.success, "does not fit": st.error, "time": st.info, "not published": st.warning}
THROUGHPUT_ICONS = {
    "fits": ":material/check_circle:",
    "does not fit": ":material/block:",
    "time": ":material/timer:",
    "not published": ":material/help:",
}


@st.fragment
@page_boundary
def render_throughput(table: PriceTable, workload: Workload) -> None:
    """Whether the plan fits an account tier's rate limits, beside its cost: a fragment, so a change of tier
    reruns only this part of the page."""
    st.markdown("**Throughput**: does it fit the rate limits?")
    tier, verdict = st.columns([1, 4], vertical_alignment="center")
    tier.selectbox(
        "Account tier",
        limits.ACCOUNT_TIERS,
        format_func=limits.TIER_LABELS.__getitem__,
        key="throughput_tier",
        help="The Claude API's usage tier: its published per-minute limits for this model.",
        persist_state=KEEP,
    )
    try:
        fit = throughput(workload, tier=st.session_state["throughput_tier"], table=table)
    except (EstimatorError, PricingError) as error:
        verdict.error(plain(str(error)), icon=":material/error:")
        return
    kind, sentence = limits.verdict(fit, requests=workload.requests, period=workload.period)
    with verdict:
        THROUGHPUT_STYLE[kind](plain(sentence), icon=THROUGHPUT_ICONS[kind])
    rows = limits.limit_rows(fit)
    if rows:
        st.markdown(limits.markdown_table(rows))
    notes = [limits.counted_input_text(fit) if rows else None, limits.source_text(fit)]
    notes.append(limits.channel_note(table, workload))
    st.caption(plain(" ".join(note for note in notes if note)))
    st.caption(plain(limits.batch_text(fit)))


def render_warning_list(warnings: tuple[EstimateWarning, ...]) -> None:
    """All of the plan's traps in one place too, for readers who keep the sidebar closed (on a phone): the
    warnings in full, the notes in an expander drawn only while open."""
    serious = [warning for warning in warnings if warning.severity == "warning"]
    notes = [warning for warning in warnings if warning.severity != "warning"]
    if serious:
        st.warning("\n".join(_warning_line(warning) for warning in serious), icon=":material/warning:")
    if notes:
        one = len(notes) == 1
        label = f"{len(notes)} {'note' if one else 'notes'}, also shown beside {'its input' if one else 'their inputs'}"
        expander = st.expander(label, key="plan_notes", on_change="rerun", icon=":material/info:")
        if expander.open:
            expander.markdown("\n".join(_warning_line(note) for note in notes))


def _warning_line(warning: EstimateWarning) -> str:
    return f"- **{FIELD_LABELS.get(warning.field or '', 'Plan')}**: {warning.message}"


SWEEPS = ("Against the hit rate", "Against the number of requests")


WHAT_IF = "What if: the cost against the hit rate, or against the number of requests"


def render_sweeps(table: PriceTable, result: Estimate) -> None:
    """The two what-if charts, in an expander drawn only while open, as tabs of which only the open one is
    drawn. Plotly is the heaviest part of the browser's work: its script (4.7 MB) doubles a first visit's
    wait and its redraw most of each change's, so the page's answer (verdict, cards, breakdown) comes
    without it and a reader who wants the curves opens them (they stay open for the session)."""
    what_if = st.expander(WHAT_IF, key="plan_what_if", on_change="rerun", icon=":material/show_chart:")
    if not what_if.open:
        return
    with what_if:
        render_sweep_tabs(table, result)


def render_sweep_tabs(table: PriceTable, result: Estimate) -> None:
    hit_rate, requests = st.tabs(SWEEPS, key="plan_sweep", on_change="rerun")
    if hit_rate.open:
        with hit_rate:
            render_hit_rate_chart(table, result)
    if requests.open:
        with requests:
            workload = result.workload
            steps = charts.request_steps(workload.requests)
            sweep = sweep_requests(workload, steps, table=table)
            figure = charts.requests_figure(sweep, current_requests=workload.requests, period=workload.period)
            show_figure(figure, key="chart_requests")


def render_hit_rate_chart(table: PriceTable, result: Estimate) -> None:
    workload = result.workload
    sweep = sweep_hit_rate(workload, table=table)
    try:
        points = break_even(workload.model, as_of=result.as_of, table=table)
    except (EstimatorError, PricingError) as error:
        points = ()
        st.caption(f"Break-even not shown: {plain(str(error))}")
    rules = table.rules.batch
    figure = charts.hit_rate_figure(
        sweep,
        break_evens=points,
        band=(rules.best_effort_hit_rate_low, rules.best_effort_hit_rate_high),
        current_hit_rate=workload.cache_hit_rate,
        period=workload.period,
    )
    show_figure(figure, key="chart_hit_rate")
    if not result.caching_possible:
        st.caption("The prefix cannot be cached (see the warning beside it): the cached lines equal the uncached.")


@st.fragment
@page_boundary
def render_budget(table: PriceTable, workload: Workload) -> None:
    """What a budget buys: a fragment, so a new budget reruns only this part of the page."""
    st.subheader("What a budget buys")
    field, note = st.columns([1, 3])
    field.number_input(
        f"Budget per {plain(workload.period)} (USD)", min_value=0.0, step=10.0, key="budget_usd", persist_state=KEEP
    )
    try:
        results = budget(workload, widget_decimal(st.session_state["budget_usd"]), table=table)
    except (EstimatorError, PricingError) as error:
        field.error(plain(str(error)), icon=":material/error:")
        return
    note.caption("The most requests each mode affords within the budget, at this plan's cost per request.")
    for column, item in zip(st.columns(len(results), gap="small"), results, strict=True):
        value, detail = tables.budget_text(item)
        column.metric(metric_label(item.mode, "requests"), value, help=detail, border=True)


def render_token_counter(workload: Workload) -> None:
    """Count the tokens of pasted text for the plan's model, and offer the count as a workload figure."""
    key = api_key()
    counter = st.expander("Count the tokens of a prompt", key="token_counter", on_change="rerun")
    if not counter.open:
        return  # drawn only while open: nothing to send or redraw on each change of the plan
    with counter:
        st.text_area(
            "Paste a prompt (plain text, or a Messages request as JSON)",
            key="prompt_text",
            height=150,
            persist_state=KEEP,
        )
        if st.button("Count tokens", key="count_tokens"):
            try:
                st.session_state["token_count"] = count_tokens(
                    st.session_state["prompt_text"], model=workload.model, use_api=bool(key), api_key=key
                )
            except (EstimatorError, PricingError) as error:
                st.session_state["token_count"] = None
                st.error(plain(str(error)), icon=":material/error:")
        counted = st.session_state.get("token_count")
        if counted is None:
            st.caption("Counts are exact with an API key (count_tokens); without one they are offline approximations.")
            return
        st.markdown(tables.token_count_text(counted))
        for note in counted.notes:
            st.caption(plain(note))
        prefix, unique = st.columns(2)
        prefix.button("Use as shared prefix", key="use_as_prefix", on_click=use_token_count, args=("prefix_tokens",))
        unique.button(
            "Use as unique input", key="use_as_unique", on_click=use_token_count, args=("unique_input_tokens",)
        )


def use_token_count(field: str) -> None:
    counted = st.session_state.get("token_count")
    if counted is not None:
        st.session_state[field] = counted.expected_tokens


def render_plan_downloads(table: PriceTable, form: FormResult, result: Estimate) -> None:
    """The plan as CSV, JSON and a Markdown report, each built only when its button is clicked."""
    st.subheader("Download")
    params = workload_to_params(result.workload, requests_per_hour=form.requests_per_hour)
    csv_column, json_column, report_column = st.columns(3)
    offer_download(
        csv_column,
        "Plan (CSV)",
        lambda: csv_text(estimate_rows(result)),
        "claude-cost-plan.csv",
        key="download_plan_csv",
    )
    offer_download(
        json_column,
        "Plan (JSON)",
        lambda: json_text(estimate_to_dict(result)),
        "claude-cost-plan.json",
        key="download_plan_json",
    )
    offer_download(
        report_column,
        "Report (Markdown)",
        lambda: markdown_report(result, table, requests_per_hour=form.requests_per_hour, params=params),
        "claude-cost-plan.md",
        key="download_plan_report",
    )
