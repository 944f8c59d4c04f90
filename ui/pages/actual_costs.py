"""Actual costs: price what Claude really billed, see what it would have cost otherwise, reconcile a batch's
dry run with its results, and start the next plan from what was observed.

Inputs: uploaded results / responses / usage and cost report files (any mix, read by shape) and Parquet/CSV usage
tables, or reports fetched with an Admin key typed here. Large uploads (over the command line's `--engine auto`
threshold) and tables are priced by DuckDB from a temporary copy, the rest by the Python pricer: the same report
either way, and a caption says which. The key lives in this session's state only: it is a password field, never put in
the page, the link, a download or the logs, and the server's own environment is never read for it (a shared app
must not spend its host's admin access on a visitor's behalf).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import os
import tempfile
from typing import Any

import streamlit as st

from estimator import EstimatorError, format_usd
from estimator.bulk import AUTO_THRESHOLD_BYTES
from estimator.bulk.inputs import HEAD_BYTES
from estimator.format import count_noun
from estimator.usage.actuals import ActualCosts, actual_costs
from estimator.usage.errors import UsageFileError
from estimator.usage.reconcile import Reconciliation, reconcile
from pricing import PriceTable, PricingError
from ui import actual_costs as build
from ui.dry_run import ProgressThrottle
from ui.session import KEEP, offer_download, price_table, show_table, staleness_warning, today

ADMIN_KEY = "admin_key_input"
"""Session-state key of the typed Admin key (a password widget's own state: never shown, never stored)."""
INPUTS = ("Upload usage files", "Fetch with an Admin key", "Reconcile a batch")
NO_MODEL = "(none)"
_KEPT_RESULT = "actual_costs_kept"
_KEPT_RECONCILE = "reconcile_kept"
_FETCHED = "admin_pages"
CARD_WIDTH_PX = 220


def defaults() -> dict[str, Any]:
    """The page's widget values on a first visit."""
    day = today()
    admin_from, admin_to = build.admin_period(day)
    return {
        "actual_input": INPUTS[0],
        "actual_model": NO_MODEL,
        "actual_what_if_model": NO_MODEL,
        "actual_as_of": day,
        "admin_from": admin_from,
        "admin_to": admin_to,
        "admin_api": "legacy",
        ADMIN_KEY: "",
        "reconcile_hit_rate_pct": 90.0,
        "reconcile_output_pct": 50.0,
    }


def render() -> None:
    for key, value in defaults().items():
        st.session_state.setdefault(key, value)
    table = price_table()
    st.subheader("Actual costs")
    st.caption(
        "Price what Claude really billed — Message Batches results, Messages responses, Admin usage and cost "
        "reports — exactly, at each record's date, and compare it with the estimate and with Anthropic's own "
        "cost report."
    )
    choice = st.radio("Input", INPUTS, key="actual_input", horizontal=True, persist_state=KEEP)
    if choice == INPUTS[2]:
        render_reconcile(table)
        return
    options = render_options(table)
    sources = fetched_sources() if choice == INPUTS[1] else uploaded_sources()
    if not sources:
        return
    found = priced(table, sources, options)
    if found is not None:
        result, engine = found
        st.caption(build.engine_caption(engine, len(sources), _upload_bytes(sources)))
        show_actual(table, result)


@dataclasses.dataclass(frozen=True)
class Options:
    model: str | None
    as_of: dt.date
    what_if_model: str | None


def render_options(table: PriceTable) -> Options:
    names = [NO_MODEL, *(model.id for model in table.models_as_of(today(), include_retired=True))]
    model_column, date_column, what_if_column = st.columns(3)
    model = model_column.selectbox(
        "Model of bare usage objects", names, key="actual_model", persist_state=KEEP, help="They name none"
    )
    as_of = date_column.date_input(
        "Undated records priced as of", key="actual_as_of", persist_state=KEEP, help="Batch results carry no date"
    )
    what_if = what_if_column.selectbox(
        "What if on another model", names, key="actual_what_if_model", persist_state=KEEP
    )
    return Options(
        None if model == NO_MODEL else model,
        as_of if isinstance(as_of, dt.date) else today(),
        None if what_if == NO_MODEL else what_if,
    )


@dataclasses.dataclass(frozen=True)
class Source:
    name: str
    identity: str
    data: bytes | None = None
    page: dict[str, Any] | None = None
    is_cost_report: bool = False


def uploaded_sources() -> list[Source]:
    uploads = st.file_uploader(
        "Results, responses, usage or cost report files (.jsonl or .json), or usage tables (Parquet, CSV)",
        type=["jsonl", "ndjson", "json", "txt", "parquet", "csv"],
        accept_multiple_files=True,
        key="actual_upload",
    )
    if not uploads:
        st.info("Upload one or more files to price them.", icon=":material/upload_file:")
        return []
    return [Source(upload.name, upload.file_id, upload.getvalue()) for upload in uploads]


def fetched_sources() -> list[Source]:
    """Reports fetched with an Admin key typed here; kept in the session until fetched again."""
    key_column, from_column, to_column, api_column = st.columns([3, 2, 2, 2])
    key_column.text_input(
        "Admin API key", type="password", key=ADMIN_KEY, help="sk-ant-admin01-…: kept in this session only"
    )
    from_column.date_input("From", key="admin_from", persist_state=KEEP)
    to_column.date_input("To", key="admin_to", persist_state=KEEP)
    api_column.radio("Endpoints", ("legacy", "analytics"), key="admin_api", persist_state=KEEP)
    if st.button("Fetch the usage and cost reports", key="admin_fetch"):
        fetch_now()
    pages = st.session_state.get(_FETCHED)
    if not pages:
        st.info("Type an Admin key and fetch the reports.", icon=":material/key:")
        return []
    usage, cost, identity = pages
    return [Source("usage report", f"{identity}-u{i}", page=page) for i, page in enumerate(usage)] + [
        Source("cost report", f"{identity}-c{i}", page=page, is_cost_report=True) for i, page in enumerate(cost)
    ]


def fetch_now() -> None:
    from estimator.usage.admin_client import fetch_reports

    key = str(st.session_state.get(ADMIN_KEY) or "").strip()
    if not key:
        st.error("Type an Admin API key first.", icon=":material/key:")
        return
    progress = st.progress(0.0, text="Fetching…")
    throttle = ProgressThrottle()

    def on_progress(report: str, done: int, total: int) -> None:
        share = throttle.share(report, done, total)
        if share is not None:
            progress.progress(share, text=f"Fetching the {report} report…")

    try:
        fetched = fetch_reports(
            st.session_state["admin_from"],
            st.session_state["admin_to"],
            api=st.session_state["admin_api"],
            admin_key=key,
            on_progress=on_progress,
        )
    except EstimatorError as error:
        st.error(str(error), icon=":material/error:")
        return
    finally:
        progress.empty()
    identity = hashlib.sha256(repr((fetched.usage_pages, fetched.cost_pages)).encode()).hexdigest()
    st.session_state[_FETCHED] = (fetched.usage_pages, fetched.cost_pages, identity)
    for note in fetched.notes:
        st.info(note, icon=":material/info:")


def priced(table: PriceTable, sources: list[Source], options: Options) -> tuple[ActualCosts, build.Engine] | None:
    """Price once per set of files and options (the result and who priced it are kept in the session): large
    uploads and Parquet/CSV tables by DuckDB, as `actual --engine auto` does; the rest by the Python pricer."""
    key = (tuple(source.identity for source in sources), options)
    kept = st.session_state.get(_KEPT_RESULT)
    if kept is not None and kept[0] == key:
        return kept[1]  # type: ignore[no-any-return]
    engine = source_engine(sources, options)
    try:
        with st.spinner("Pricing…"):
            if engine == "duckdb":
                result = priced_by_duckdb(table, sources, options)
            else:
                result = priced_by_python(table, sources, options)
    except (EstimatorError, PricingError) as error:
        st.error(build.page_text(str(error)), icon=":material/error:")
        return None
    result = build.in_page_words(result)
    st.session_state[_KEPT_RESULT] = (key, (result, engine))
    return result, engine


BULK_THRESHOLD_BYTES = AUTO_THRESHOLD_BYTES
"""Uploads larger than this in all go to DuckDB (the command line's threshold; the tests lower it)."""


def source_engine(sources: list[Source], options: Options) -> build.Engine:
    size = _upload_bytes(sources)
    if size is None:  # reports fetched with an Admin key: only the Python pricer reads them
        return "python"
    heads = [(source.data or b"")[:HEAD_BYTES] for source in sources]
    return build.upload_engine(heads, size, what_if_model=options.what_if_model, threshold_bytes=BULK_THRESHOLD_BYTES)


def _upload_bytes(sources: list[Source]) -> int | None:
    if any(source.data is None for source in sources):
        return None
    return sum(len(source.data or b"") for source in sources)


def priced_by_duckdb(table: PriceTable, sources: list[Source], options: Options) -> ActualCosts:
    """The uploads written to a temporary folder (DuckDB reads files by path; the folder also takes DuckDB's
    spill files) and priced there; the folder is removed whatever happens, and the result names the uploads,
    not the temporary paths."""
    from estimator.bulk import price_files_bulk  # DuckDB loads only for a large upload

    with tempfile.TemporaryDirectory(prefix="claude-cost-upload-") as folder:
        names: dict[str, str] = {}
        for index, source in enumerate(sources, start=1):
            directory = os.path.join(folder, str(index))  # one folder per upload: two may share a name
            os.mkdir(directory)
            path = os.path.join(directory, _file_name(source.name))
            with open(path, "wb") as handle:
                handle.write(source.data or b"")
            names[path] = source.name
        try:
            result = price_files_bulk(
                list(names),
                engine="duckdb",
                model=options.model,
                as_of=options.as_of,
                table=table,
                temp_directory=os.path.join(folder, "spill"),
            )
        except EstimatorError as error:
            raise UsageFileError(build.renamed_text(str(error), names)) from None
    return build.with_upload_names(result, names)


def _file_name(name: str) -> str:
    """An upload's name as a file name: its last part, never hidden (the browser sends any text)."""
    base = os.path.basename(name.replace("\\", "/")).lstrip("._")
    return base or "upload"


def priced_by_python(table: PriceTable, sources: list[Source], options: Options) -> ActualCosts:
    usage: list[Any] = []
    reports: list[Any] = []
    for source in sources:
        item: Any = source.page
        if item is None:
            item = io.BytesIO(source.data or b"")
            item.name = source.name
        (reports if source.is_cost_report else usage).append(item)
    return actual_costs(
        usage,
        model=options.model,
        as_of=options.as_of,
        what_if_model=options.what_if_model,
        cost_reports=reports,
        table=table,
    )


def show_actual(table: PriceTable, result: ActualCosts) -> None:
    staleness_warning(table, build.latest_day(result))
    row = st.container(horizontal=True)
    for label, value, help_text in build.headline(result):
        row.metric(label, value, help=help_text, border=True, width=CARD_WIDTH_PX)
    if result.unpriced_records:
        st.error(
            f"{count_noun(result.unpriced_records, 'record')} could not be priced; they are listed below with their "
            "lines and left out of the totals.",
            icon=":material/error:",
        )
    for note in build.notes_of(result):
        st.info(note, icon=":material/info:")
    if not result.models:
        return
    st.markdown("**What the same usage would have cost**")
    st.plotly_chart(build.what_if_figure(result), theme="streamlit", key="actual_what_if_chart")
    st.markdown("**Per model** (cost per category)")
    show_table(build.model_table(result), key="actual_models")
    left, right = st.columns(2)
    with left:
        st.markdown("**Per category**")
        show_table(build.category_table(result), key="actual_categories")
    with right:
        if len(result.days) > 1:
            st.markdown("**Per day**")
            show_table(build.day_table(result), key="actual_days")
    report = build.cost_report_table(result)
    if report is not None:
        st.markdown("**Against Anthropic's cost report**")
        show_table(report, key="actual_cost_report")
    if result.problems:
        st.markdown(build.problems_heading(result))
        st.dataframe(build.problem_rows(result), hide_index=True)
    render_use_as_plan(table, result)
    downloads = st.columns(2)
    offer_download(
        downloads[0], "Actual costs (JSON)", build.actual_json_text(result), "claude-actual-costs.json",
        key="download_actual_json",
    )  # fmt: skip
    offer_download(
        downloads[1], "Actual costs (CSV)", build.actual_csv_text(result), "claude-actual-costs.csv",
        key="download_actual_csv",
    )  # fmt: skip


def render_use_as_plan(table: PriceTable, result: ActualCosts, reconciliation: Reconciliation | None = None) -> None:
    try:
        workload = result.calibrated_workload(table=table)
    except EstimatorError as error:
        st.caption(f"No plan can be calibrated from this usage: {error}")
        return
    state = build.plan_state(workload, today=today(), table=table)
    if reconciliation is not None:
        state.update(build.dry_run_state(reconciliation))
    st.button(
        f"Use as plan: {workload.model}, {count_noun(workload.requests, 'request')} per {workload.period}",
        key="actual_use_as_plan",
        on_click=_apply_state,
        args=(state,),
        help="Puts the observed averages (tokens, hit rate, TTL) into the Plan page's form",
    )
    if st.session_state.get("actual_plan_applied"):
        st.success("The Plan page now starts from these results.", icon=":material/check_circle:")


def _apply_state(state: dict[str, Any]) -> None:
    """A button callback: runs before the next run draws the form, so its widgets can take the new values."""
    st.session_state.update(state)
    st.session_state["actual_plan_applied"] = True


# --- reconcile ------------------------------------------------------------------------------------


def render_reconcile(table: PriceTable) -> None:
    requests_column, results_column = st.columns(2)
    requests_upload = requests_column.file_uploader(
        "The batch file you submitted", type=["jsonl", "ndjson", "json", "txt"], key="reconcile_requests"
    )
    results_upload = results_column.file_uploader(
        "Its results file", type=["jsonl", "ndjson", "json", "txt"], key="reconcile_results"
    )
    hits, output, day = st.columns(3)
    hits.number_input("Dry run's hit rate (%)", 0.0, 100.0, step=5.0, key="reconcile_hit_rate_pct", persist_state=KEEP)
    output.number_input(
        "Dry run's output (% of max_tokens)", 0.0, 100.0, step=5.0, key="reconcile_output_pct", persist_state=KEEP
    )
    day.date_input("The day the batch ran", key="actual_as_of", persist_state=KEEP)
    if requests_upload is None or results_upload is None:
        st.info(
            "Upload the batch file and its results to compare the estimate with the bill.",
            icon=":material/upload_file:",
        )
        return
    result = reconciled(table, requests_upload, results_upload)
    if result is None:
        return
    row = st.container(horizontal=True)
    for label, value, help_text in build.reconcile_summary(result):
        row.metric(label, value, help=help_text, border=True, width=CARD_WIDTH_PX)
    for note in result.notes:
        st.info(note, icon=":material/info:")
    suggestion = build.dry_run_suggestion(result)
    if suggestion is not None:
        st.success(suggestion, icon=":material/tune:")
    st.markdown("**Estimate range against the actual, per request**")
    st.plotly_chart(build.reconcile_figure(result), theme="streamlit", key="reconcile_chart")
    show_table(build.reconcile_table(result), key="reconcile_requests_table")
    if result.problems:
        st.dataframe(build.reconcile_problem_rows(result), hide_index=True)
    st.caption(f"Actual total {format_usd(result.total.actual_usd)}; the figures are exact in the downloads.")
    render_use_as_plan(table, result.actual, result)
    downloads = st.columns(2)
    offer_download(
        downloads[0], "Reconciliation (JSON)", build.reconcile_json_text(result), "claude-reconcile.json",
        key="download_reconcile_json",
    )  # fmt: skip
    offer_download(
        downloads[1], "Per request (CSV)", build.reconcile_csv_text(result), "claude-reconcile.csv",
        key="download_reconcile_csv",
    )  # fmt: skip


def reconciled(table: PriceTable, requests_upload: Any, results_upload: Any) -> Reconciliation | None:
    hit_rate = st.session_state["reconcile_hit_rate_pct"]
    output = st.session_state["reconcile_output_pct"]
    day = st.session_state["actual_as_of"]
    key = (requests_upload.file_id, results_upload.file_id, hit_rate, output, day)
    kept = st.session_state.get(_KEPT_RECONCILE)
    if kept is not None and kept[0] == key:
        return kept[1]  # type: ignore[no-any-return]
    requests_file = io.BytesIO(requests_upload.getvalue())
    requests_file.name = requests_upload.name
    results_file = io.BytesIO(results_upload.getvalue())
    results_file.name = results_upload.name
    try:
        with st.spinner("Estimating each request and pricing its result…"):
            result = reconcile(
                requests_file,
                results_file,
                hit_rate=build.fraction(hit_rate),
                output_ratio=build.fraction(output),
                as_of=day if isinstance(day, dt.date) else None,
                table=table,
            )
    except (EstimatorError, PricingError) as error:
        st.error(str(error), icon=":material/error:")
        return None
    st.session_state[_KEPT_RECONCILE] = (key, result)
    return result
