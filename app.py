"""Claude cost planner: the Streamlit app. `streamlit run app.py` (or `scripts/app`).

UI only: every number comes from `estimator` (costs, sweeps, break-even, budgets, model comparison) and
`pricing` (the table, its history and diffs). Figures come from `ui.charts`, tables and reports from
`ui.tables` and `ui.report`, the shareable link from `ui.scenario`. The workload form sits in the sidebar
so the Plan and Compare pages share it; each page renders only while its tab is open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import os

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from estimator import (
    MODES,
    DryRunResult,
    Estimate,
    EstimateWarning,
    EstimatorError,
    Workload,
    analyze_batch_file,
    break_even,
    budget,
    compare_models,
    count_tokens,
    decimal_text,
    estimate,
    format_tokens,
    format_usd,
    sweep_hit_rate,
    sweep_requests,
)
from estimator.batches.report import dry_run_to_dict
from estimator.report import comparison_rows, comparison_to_dict, estimate_rows, estimate_to_dict
from pricing import PriceTable, PricingError, load_price_table
from pricing.cli import render_diff
from pricing.diff import diff_dates
from ui import charts, dry_run, tables
from ui.form import (
    HIT_FROM_TRAFFIC,
    HIT_FROM_VALUE,
    MEASURED_FOR_PLAN_MODEL,
    PERIODS,
    FormResult,
    error_field,
    model_options,
    page_defaults,
    widget_decimal,
    widget_state,
    workload_from_widgets,
)
from ui.labels import FIELD_LABELS, NOT_PRICED, cost_change, metric_label
from ui.report import csv_text, json_text, markdown_report
from ui.scenario import (
    DEFAULT_WORKLOAD,
    PARAM_NAMES,
    requests_per_hour_from_params,
    workload_from_params,
    workload_to_params,
)

PAGES = ("Plan", "Dry-run a batch file", "Compare models", "Prices")
API_KEY = "anthropic_api_key"  # session-state key of the API key in use (typed, or from the environment)

# Widgets whose values must survive while their page is closed: Streamlit drops the state of widgets
# that a run does not draw, and each tab draws only while open.
KEPT_KEYS = (
    "cache_hit_rate_pct",
    "dry_run_input",
    "batch_paste",
    "dry_run_hit_rate_pct",
    "dry_run_output_pct",
    "dry_run_counting",
    "prompt_text",
    "requests_per_hour",
    "budget_usd",
    "compare_include_retired",
    "tokens_measured_for",
    "prices_as_of",
    "prices_include_all",
    "prices_model",
    "prices_diff_from",
    "prices_diff_to",
)
CARD_WIDTH_PX = 240  # four cards fit a wide page; narrower pages wrap them, never cutting a figure short
TTL_LABELS = {"5m": "5 minutes", "1h": "1 hour"}
TOOL_LABELS = {"off": "no tools", "auto": "auto / none", "any": "any / named tool"}

Slots = dict[str, DeltaGenerator]


@st.cache_resource(show_spinner=False)
def price_table() -> PriceTable:
    return load_price_table()


def api_key_from_environment() -> str | None:
    """ANTHROPIC_API_KEY from the environment, else from st.secrets; None when neither has one."""
    key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if key:
        return key
    try:
        secret = st.secrets["ANTHROPIC_API_KEY"]
    except (KeyError, FileNotFoundError):  # no secrets file, or no key in it
        return None
    return str(secret).strip() or None


def init_session_state(table: PriceTable, today: dt.date) -> None:
    """Seed every widget once per session: from the link's query parameters, else the default scenario."""
    if "link_errors" in st.session_state:
        for key in KEPT_KEYS:
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
        return
    params = st.query_params.to_dict()
    workload, errors = workload_from_params(params, table=table)
    workload = workload or DEFAULT_WORKLOAD
    rate, _ = requests_per_hour_from_params(params)
    st.session_state.update(widget_state(workload, requests_per_hour=rate, today=today, table=table))
    st.session_state.update(page_defaults(workload, today=today))
    st.session_state["link_errors"] = errors
    st.session_state[API_KEY] = api_key_from_environment()


MIME_TYPES = {".csv": "text/csv", ".json": "application/json", ".md": "text/markdown"}


def offer_download(where: DeltaGenerator, label: str, data: str, file_name: str, *, key: str) -> None:
    """A download that does not rerun the app when clicked (the figures are already on the page)."""
    mime = MIME_TYPES[file_name[file_name.rindex(".") :]]
    where.download_button(label, data, file_name=file_name, mime=mime, key=key, on_click="ignore")


# --- the workload form (sidebar) -------------------------------------------------------------------


def render_workload_form(table: PriceTable, today: dt.date) -> Slots:
    """The workload inputs, each followed by a slot for the messages that concern it."""
    slots: Slots = {}
    st.header("Workload")
    models = model_options(
        table, today=today, include_retired=st.session_state["include_retired"], current=st.session_state["model"]
    )
    names = {model.id: _model_label(model.name, model.status_as_of(today)) for model in models}
    st.selectbox("Model", list(names), format_func=names.__getitem__, key="model")
    st.checkbox("Include retired models", key="include_retired")
    slots["model"] = st.container()

    periods = list(dict.fromkeys((*PERIODS, st.session_state["period"])))
    count, per = st.columns([3, 2])
    count.number_input("Requests", min_value=0, step=100, key="requests")
    per.selectbox("per", periods, key="period", accept_new_options=True, help="A label for the figures.")
    slots["requests"] = slots["period"] = st.container()

    st.markdown("**Tokens per request**")
    token_help = {
        "prefix_tokens": "Tools + system prompt + shared context: the part that can be cached.",
        "unique_input_tokens": "What follows the last cache breakpoint: the request's own input.",
        "output_tokens": "What the model writes.",
    }
    for name, label in (
        ("prefix_tokens", "Shared prefix"),
        ("unique_input_tokens", "Unique input"),
        ("output_tokens", "Output"),
    ):
        st.number_input(label, min_value=0, step=100, key=name, help=token_help[name])
        slots[name] = st.container()

    st.markdown("**Prompt caching**")
    st.radio("Cache lifetime (TTL)", ("5m", "1h"), format_func=TTL_LABELS.__getitem__, key="cache_ttl", horizontal=True)
    slots["cache_ttl"] = st.container()
    st.radio("Hit rate", (HIT_FROM_VALUE, HIT_FROM_TRAFFIC), key="hit_rate_source", horizontal=True)
    if st.session_state["hit_rate_source"] == HIT_FROM_VALUE:
        st.number_input("Cache hit rate (%)", min_value=0.0, max_value=100.0, step=1.0, key="cache_hit_rate_pct")
    else:
        st.number_input(
            "Requests per hour",
            min_value=0.0,
            step=10.0,
            key="requests_per_hour",
            help="Steady traffic (random arrivals); each hit refreshes the cache entry.",
        )
    slots["cache_hit_rate"] = slots["requests_per_hour"] = st.container()

    st.markdown("**Options**")
    st.date_input("Prices as of", key="as_of", help="Today's date means today: a shared link then prices on the day.")
    slots["as_of"] = st.container()
    us = decimal_text(table.rules.data_residency.us_multiplier)
    geo_labels = {"global": "global", "us": f"US only (×{us})"}
    st.radio("Data residency", ("global", "us"), format_func=geo_labels.__getitem__, key="geo", horizontal=True)
    slots["geo"] = st.container()
    st.toggle("Fast mode (real-time only)", key="fast")
    slots["fast"] = st.container()
    st.radio("Tools on every request", tuple(TOOL_LABELS), format_func=TOOL_LABELS.__getitem__, key="tool_use")
    slots["tool_use"] = st.container()
    st.number_input("Web searches per request", min_value=0.0, step=1.0, key="web_searches_per_request")
    slots["web_searches_per_request"] = st.container()
    return slots


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
    )
    st.session_state[API_KEY] = typed.strip() or api_key_from_environment()
    if st.session_state[API_KEY]:
        st.caption("Exact counts available (count_tokens API).")
    else:
        st.caption("Offline approximations: without a key, token counts from text are estimates.")


def show_messages(slots: Slots, errors: dict[str, str], warnings: tuple[EstimateWarning, ...]) -> None:
    """Each error and warning beside the input it concerns."""
    for name, message in errors.items():
        slots.get(name, slots["model"]).error(message, icon=":material/error:")
    for warning in warnings:
        slot = slots.get(warning.field or "model", slots["model"])
        if warning.severity == "warning":
            slot.warning(warning.message, icon=":material/warning:")
        else:
            slot.info(warning.message, icon=":material/info:")


# --- page 1: plan ----------------------------------------------------------------------------------


def render_plan_page(table: PriceTable, form: FormResult, result: Estimate | None, errors: dict[str, str]) -> None:
    if result is None:
        st.error("Fix the input marked in the sidebar to see the figures:", icon=":material/error:")
        for name, message in errors.items():
            st.markdown(f"- **{FIELD_LABELS.get(name, name)}**: {message}")
        return
    workload = result.workload
    st.caption(
        f"Totals for {format_tokens(workload.requests)} requests per {workload.period} on {result.model_name} · "
        f"prices in effect since {result.prices_effective_from}, as of {result.as_of} · "
        f"{format_tokens(result.prompt_tokens)} prompt tokens per request "
        f"({format_tokens(result.cacheable_prefix_tokens)} cacheable) · table checked {table.checked}"
    )
    render_mode_metrics(result)
    render_warning_list(result.warnings)
    st.plotly_chart(charts.breakdown_figure(result), theme="streamlit", key="chart_breakdown")
    left, right = st.columns(2)
    with left:
        render_hit_rate_chart(table, result)
    with right:
        steps = charts.request_steps(workload.requests)
        sweep = sweep_requests(workload, steps, table=table)
        figure = charts.requests_figure(sweep, current_requests=workload.requests, period=workload.period)
        st.plotly_chart(figure, theme="streamlit", key="chart_requests")
    render_budget(table, workload)
    render_token_counter(workload)
    render_plan_downloads(table, form, result)


def render_mode_metrics(result: Estimate) -> None:
    """Each mode's total, cost per request and saving; an unpriced mode says so, with the reason."""
    row = st.container(horizontal=True)
    for mode in result.modes:
        with row.container(border=True, width=CARD_WIDTH_PX, key=f"mode_{mode.mode}"):
            if not mode.available:
                st.metric(metric_label(mode.mode, "total"), NOT_PRICED)
                st.caption(mode.unavailable_reason or "")
                continue
            st.metric(
                metric_label(mode.mode, "total"),
                format_usd(mode.total_usd),
                delta=cost_change(mode),
                delta_color="inverse",
                delta_description="vs real-time" if cost_change(mode) else None,
                help=f"Exact: ${decimal_text(mode.total_usd)}" + (" · cheapest mode" if mode.rank == 1 else ""),
            )
            st.metric(metric_label(mode.mode, "per request"), format_usd(mode.per_request_usd))
            saved = "baseline" if mode.mode == "realtime" else format_usd(mode.savings_usd)
            st.metric(metric_label(mode.mode, "saves"), saved)
            if mode.rank == 1:
                st.badge("cheapest", color="green")


def render_warning_list(warnings: tuple[EstimateWarning, ...]) -> None:
    """All of the plan's traps in one place too, for readers who keep the sidebar closed."""
    if not warnings:
        return
    serious = [warning for warning in warnings if warning.severity == "warning"]
    notes = [warning for warning in warnings if warning.severity != "warning"]
    title = f"Warnings ({len(serious)}) and notes ({len(notes)}), also shown beside their inputs"
    with st.expander(title, expanded=bool(serious)):
        for warning in warnings:
            icon = ":material/warning:" if warning.severity == "warning" else ":material/info:"
            st.markdown(f"{icon} **{FIELD_LABELS.get(warning.field or '', 'Plan')}**: {warning.message}")


def render_hit_rate_chart(table: PriceTable, result: Estimate) -> None:
    workload = result.workload
    sweep = sweep_hit_rate(workload, table=table)
    try:
        points = break_even(workload.model, as_of=result.as_of, table=table)
    except (EstimatorError, PricingError) as error:
        points = ()
        st.caption(f"Break-even not shown: {error}")
    rules = table.rules.batch
    figure = charts.hit_rate_figure(
        sweep,
        break_evens=points,
        band=(rules.best_effort_hit_rate_low, rules.best_effort_hit_rate_high),
        current_hit_rate=workload.cache_hit_rate,
        period=workload.period,
    )
    st.plotly_chart(figure, theme="streamlit", key="chart_hit_rate")
    if not result.caching_possible:
        st.caption("The prefix cannot be cached (see the warning beside it): the cached lines equal the uncached.")


def render_budget(table: PriceTable, workload: Workload) -> None:
    st.subheader("What a budget buys")
    field, note = st.columns([1, 3])
    field.number_input(f"Budget per {workload.period} (USD)", min_value=0.0, step=10.0, key="budget_usd")
    try:
        results = budget(workload, widget_decimal(st.session_state["budget_usd"]), table=table)
    except (EstimatorError, PricingError) as error:
        field.error(str(error), icon=":material/error:")
        return
    note.caption("The most requests each mode affords within the budget, at this plan's cost per request.")
    row = st.container(horizontal=True)
    for item in results:
        value, detail = tables.budget_text(item)
        row.metric(metric_label(item.mode, "requests"), value, help=detail, border=True, width=CARD_WIDTH_PX)


def render_token_counter(workload: Workload) -> None:
    """Count the tokens of pasted text for the plan's model, and offer the count as a workload figure."""
    key = st.session_state.get(API_KEY)
    with st.expander("Count the tokens of a prompt"):
        st.text_area("Paste a prompt (plain text, or a Messages request as JSON)", key="prompt_text", height=150)
        if st.button("Count tokens", key="count_tokens"):
            try:
                st.session_state["token_count"] = count_tokens(
                    st.session_state["prompt_text"], model=workload.model, use_api=bool(key), api_key=key
                )
            except (EstimatorError, PricingError) as error:
                st.session_state["token_count"] = None
                st.error(str(error), icon=":material/error:")
        counted = st.session_state.get("token_count")
        if counted is None:
            st.caption("Counts are exact with an API key (count_tokens); without one they are offline approximations.")
            return
        st.markdown(tables.token_count_text(counted))
        for note in counted.notes:
            st.caption(note)
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
    st.subheader("Download")
    params = workload_to_params(result.workload, requests_per_hour=form.requests_per_hour)
    report = markdown_report(result, table, requests_per_hour=form.requests_per_hour, params=params)
    csv_column, json_column, report_column = st.columns(3)
    offer_download(
        csv_column, "Plan (CSV)", csv_text(estimate_rows(result)), "claude-cost-plan.csv", key="download_plan_csv"
    )
    offer_download(
        json_column,
        "Plan (JSON)",
        json_text(estimate_to_dict(result)),
        "claude-cost-plan.json",
        key="download_plan_json",
    )
    offer_download(report_column, "Report (Markdown)", report, "claude-cost-plan.md", key="download_plan_report")


# --- page 2: dry-run a batch file ------------------------------------------------------------------

COUNTING_LABELS = {
    "none": "offline approximation",
    "sample": "exact for a sample, scaled (API key)",
    "all": "exact for every request (API key)",
}


def render_dry_run_page(table: PriceTable, today: dt.date) -> None:
    st.subheader("Dry-run a batch file")
    st.caption(
        "Validate a Message Batches file like the API would, count its tokens and price it in every mode before "
        "you submit it. JSONL with one {custom_id, params} per line (a JSON array or a single request also works)."
    )
    source = dry_run_source()
    if source is None:
        return
    hits, output, counting = st.columns(3)
    hits.number_input("Hit rate for repeated cached prefixes (%)", 0.0, 100.0, step=5.0, key="dry_run_hit_rate_pct")
    output.number_input("Expected output (% of max_tokens)", 0.0, 100.0, step=5.0, key="dry_run_output_pct")
    has_key = bool(st.session_state.get(API_KEY))
    if not has_key:
        st.session_state["dry_run_counting"] = "none"  # a choice made while a key was set no longer applies
    choices = tuple(COUNTING_LABELS) if has_key else ("none",)
    counting.radio("Token counts", choices, format_func=COUNTING_LABELS.__getitem__, key="dry_run_counting")
    if not has_key:
        counting.caption("Add an API key in the sidebar for exact counts.")
    options = dry_run.dry_run_options(st.session_state.to_dict(), today=today, has_api_key=has_key)
    result = dry_run_result(table, source, options)
    if result is None:
        return
    show_dry_run(result)


@dataclasses.dataclass(frozen=True)
class DryRunSource:
    name: str
    identity: str  # the upload's id, or the pasted text's hash: re-analyse only when it changes
    data: bytes


def dry_run_source() -> DryRunSource | None:
    """The file to dry-run: an upload, or requests pasted as text. None (with a hint) until there is one."""
    mode = st.radio("Input", ("Upload a file", "Paste requests"), key="dry_run_input", horizontal=True)
    if mode == "Upload a file":
        upload = st.file_uploader(
            "Message Batches file (.jsonl or .json, up to 256 MB)",
            type=["jsonl", "ndjson", "json", "txt"],
            key="batch_upload",
        )
        if upload is None:
            st.info("Upload a file to check it and price it.", icon=":material/upload_file:")
            return None
        return DryRunSource(upload.name, upload.file_id, upload.getvalue())
    example = '{"custom_id": "a", "params": {"model": "claude-sonnet-4-6", "max_tokens": 500, "messages": [...]}}'
    text = st.text_area("One request, or JSONL lines", key="batch_paste", height=180, placeholder=example)
    if not text.strip():
        return None
    data = text.encode("utf-8")
    return DryRunSource("pasted requests", hashlib.sha256(data).hexdigest(), data)


def dry_run_result(table: PriceTable, source: DryRunSource, options: dry_run.DryRunOptions) -> DryRunResult | None:
    """Analyse once per file and options: the result is kept in the session, so other widgets stay quick."""
    key = (source.identity, options)
    kept = st.session_state.get("dry_run_kept")
    if kept is not None and kept[0] == key:
        return kept[1]  # type: ignore[no-any-return]
    progress = st.progress(0.0, text="Reading the file…")

    def on_progress(stage: str, done: int, total: int) -> None:
        label = "Reading the file…" if stage == "reading" else "Counting tokens with the API…"
        progress.progress(dry_run.progress_share(done, total), text=label)

    upload = io.BytesIO(source.data)
    upload.name = source.name  # shown in the report as the file's name
    try:
        result = analyze_batch_file(
            upload,
            hit_rate=options.hit_rate,
            output_ratio=options.output_ratio,
            as_of=options.as_of,
            exact=options.exact,
            api_key=st.session_state.get(API_KEY),
            table=table,
            on_progress=on_progress,
        )
    except (EstimatorError, PricingError) as error:
        st.error(str(error), icon=":material/error:")
        return None
    finally:
        progress.empty()
    st.session_state["dry_run_kept"] = (key, result)
    return result


def render_dry_run_totals(result: DryRunResult) -> None:
    """The file's expected total per mode, with its low–high range: the figures to budget with."""
    row = st.container(horizontal=True)
    for mode in MODES:
        item = result.total(mode)
        if not item.available:
            row.metric(metric_label(mode, "expected"), NOT_PRICED, help=item.unavailable_reason, border=True)
            continue
        row.metric(
            metric_label(mode, "expected"),
            format_usd(item.expected_usd),
            help=f"Range {dry_run.range_text(item)}; exact expected ${decimal_text(item.expected_usd)}",
            border=True,
            width=CARD_WIDTH_PX,
        )


def show_dry_run(result: DryRunResult) -> None:
    st.caption(dry_run.summary_text(result))
    errors = len(result.errors)
    if errors:
        st.error(
            f"{errors:,} problems would make the API reject lines of this file; they are listed below with their "
            "line numbers. Costs cover the valid lines only.",
            icon=":material/error:",
        )
    elif result.requests:
        st.success("Every line is valid.", icon=":material/check_circle:")
    for note in result.notes:
        st.info(note, icon=":material/info:")
    if result.models:
        render_dry_run_totals(result)
        st.markdown("**Cost per mode and model** (low – expected – high)")
        st.dataframe(dry_run.cost_rows(result), hide_index=True)
        st.markdown("**Tokens per model**")
        st.dataframe(dry_run.model_rows(result), hide_index=True)
        if any(model.count_source != "exact" for model in result.models):
            st.caption("Offline and sampled counts are approximations: the ranges above carry their error band.")
    if result.needs_split:
        st.markdown(f"**Split plan**: over one batch's limits, submit {len(result.split)} batches")
        st.dataframe(dry_run.split_rows(result), hide_index=True)
    if result.problems:
        st.markdown(f"**Validation report** ({dry_run.problem_counts_text(result)})")
        st.dataframe(dry_run.problem_rows(result), hide_index=True)
    offer_download(
        st.container(),
        "Dry run (JSON)",
        json_text(dry_run_to_dict(result)),
        "claude-batch-dry-run.json",
        key="download_dry_run_json",
    )


# --- page 3: compare models ------------------------------------------------------------------------


def render_compare_page(table: PriceTable, workload: Workload | None, today: dt.date) -> None:
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
    include.checkbox("Include retired models", key="compare_include_retired")
    measured.selectbox(
        "Token figures were counted for",
        tuple(measured_labels),
        format_func=measured_labels.__getitem__,
        key="tokens_measured_for",
        help="Token counts differ between tokenizer generations; figures are converted for the other one.",
    )
    try:
        comparisons = compare_models(workload, include_retired=st.session_state["compare_include_retired"], table=table)
    except (EstimatorError, PricingError) as error:
        st.error(str(error), icon=":material/error:")
        return
    st.caption(
        f"The plan's workload ({format_tokens(workload.requests)} requests per {workload.period}) on every "
        f"model callable on {workload.as_of or today}, cheapest first (by each model's cheapest mode)."
    )
    choice = st.session_state["tokens_measured_for"]
    note = tables.tokenizer_note(comparisons, measured_with=f"for {measured_labels[choice]}")
    if note:
        st.info(note, icon=":material/translate:")
    st.dataframe(tables.comparison_rows(comparisons), hide_index=True, height="content")
    st.plotly_chart(charts.comparison_figure(comparisons), theme="streamlit", key="chart_compare")
    csv_column, json_column = st.columns(2)
    offer_download(
        csv_column,
        "Comparison (CSV)",
        csv_text(comparison_rows(comparisons)),
        "claude-model-comparison.csv",
        key="download_compare_csv",
    )
    offer_download(
        json_column,
        "Comparison (JSON)",
        json_text(comparison_to_dict(comparisons)),
        "claude-model-comparison.json",
        key="download_compare_json",
    )


# --- page 4: prices --------------------------------------------------------------------------------


def render_prices_page(table: PriceTable) -> None:
    render_price_list(table)
    render_model_history(table)
    render_price_diff(table)


def render_price_list(table: PriceTable) -> None:
    st.subheader("Price table")
    day, include = st.columns(2)
    day.date_input("As of", key="prices_as_of")
    include.checkbox("Include retired and unreleased models", key="prices_include_all")
    as_of = st.session_state["prices_as_of"]
    st.caption(f"USD per million tokens, in effect on {as_of}. Table checked {table.checked}.")
    rows = tables.price_rows(table, as_of, include_all=st.session_state["prices_include_all"])
    st.dataframe(rows, hide_index=True, height="content")


def render_model_history(table: PriceTable) -> None:
    st.subheader("One model: history and sources")
    names = {model.id: model.name for model in table.models}
    st.selectbox("Model", list(names), format_func=names.__getitem__, key="prices_model")
    model = table.model(st.session_state["prices_model"])
    day = st.session_state["prices_as_of"]
    st.markdown("\n".join(f"- {fact}" for fact in tables.model_facts(table, model, day)))
    st.markdown("**Price history** (USD per million tokens; 3P = third-party reading)")
    st.dataframe(tables.history_rows(model), hide_index=True)
    st.markdown(f"**Sources** (checked {model.checked})")
    keys = [key for period in model.prices for key in period.sources] + list(model.sources)
    st.markdown("\n".join(tables.source_lines(table, keys)))
    if model.notes:
        st.markdown("**Notes**\n" + "\n".join(f"- {note}" for note in model.notes))


def render_price_diff(table: PriceTable) -> None:
    st.subheader("What changed between two dates")
    before, after = st.columns(2)
    before.date_input("From", key="prices_diff_from")
    after.date_input("To", key="prices_diff_to")
    old, new = st.session_state["prices_diff_from"], st.session_state["prices_diff_to"]
    try:
        diff = diff_dates(table, old, new)
    except PricingError as error:
        st.error(str(error), icon=":material/error:")
        return
    if diff.identical:
        st.success(f"No price changed between {old} and {new}.")
        return
    st.caption(
        f"{diff.count('changed')} rates changed, {diff.count('added')} added, {diff.count('removed')} removed; "
        f"models added: {', '.join(diff.models_added) or 'none'}; removed: {', '.join(diff.models_removed) or 'none'}."
    )
    st.dataframe(tables.rate_change_rows(diff), hide_index=True)
    with st.expander("As text (like `python -m pricing diff`)"):
        st.code(render_diff(diff), language=None)


# --- the script ------------------------------------------------------------------------------------


def estimate_plan(table: PriceTable, form: FormResult) -> tuple[Estimate | None, dict[str, str]]:
    """The plan's estimate, or the errors to show beside the inputs they concern."""
    if form.workload is None:
        return None, dict(form.errors)
    try:
        return estimate(form.workload, table=table), {}
    except (EstimatorError, PricingError) as error:
        return None, {error_field(error): str(error)}


def sync_query_params(form: FormResult) -> None:
    """Keep the address bar a link to this plan. Only the workload's parameters are touched: the open
    tab has its own, and the API key never goes there."""
    if form.workload is None:
        return
    wanted = workload_to_params(form.workload, requests_per_hour=form.requests_per_hour)
    current = {name: value for name, value in st.query_params.to_dict().items() if name in PARAM_NAMES}
    if current == wanted:
        return
    for name in [name for name in current if name not in wanted]:
        del st.query_params[name]
    st.query_params.update(wanted)


def show_link_errors() -> None:
    errors = st.session_state["link_errors"]
    if not errors:
        return
    with st.container(border=True):
        st.error("The link's scenario had problems; the plan uses the defaults for these:", icon=":material/link_off:")
        for message in errors:
            st.markdown(f"- {message}")
        if st.button("Dismiss", key="dismiss_link_errors"):
            st.session_state["link_errors"] = []
            st.rerun()


st.set_page_config(page_title="Claude cost planner", page_icon=":material/savings:", layout="wide")
try:
    table = price_table()
except PricingError as error:
    st.error(f"The price table cannot be loaded: {error}", icon=":material/error:")
    st.stop()
today = dt.date.today()
init_session_state(table, today)

with st.sidebar:
    slots = render_workload_form(table, today)
    render_api_key_field()
form = workload_from_widgets(st.session_state.to_dict(), today=today, table=table)
result, errors = estimate_plan(table, form)
show_messages(slots, errors, result.warnings if result else ())

st.title("Claude cost planner")
st.caption("Estimates, not invoices: every figure is computed exactly from a sourced price table; display rounds.")
show_link_errors()
plan_tab, dry_run_tab, compare_tab, prices_tab = st.tabs(PAGES, key="page", bind="query-params")
if plan_tab.open:
    with plan_tab:
        render_plan_page(table, form, result, errors)
if dry_run_tab.open:
    with dry_run_tab:
        render_dry_run_page(table, today)
if compare_tab.open:
    with compare_tab:
        render_compare_page(table, form.workload if result else None, today)
if prices_tab.open:
    with prices_tab:
        render_prices_page(table)
sync_query_params(form)
