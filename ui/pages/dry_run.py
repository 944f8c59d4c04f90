"""Dry run: validate a Message Batches file like the API would, count its tokens and price it in every mode.

Several uploads (a job split into files) are dry-run together by `analyze_batch_files`: one report, with the
combined figures and each file's share, every problem named by its file and line. The page stands on its own:
its options (hit rate, output share, counting, price date) are its own widgets; the sidebar's workload form is
not used here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io

import streamlit as st

from estimator import (
    MODES,
    DryRunResult,
    EstimatorError,
    analyze_batch_file,
    analyze_batch_files,
    decimal_text,
    format_usd,
)
from estimator.batches.report import dry_run_to_dict
from pricing import PriceTable, PricingError
from ui import charts
from ui import dry_run as rows
from ui.labels import NOT_PRICED, metric_label, plain
from ui.report import json_text
from ui.session import (
    KEEP,
    api_key,
    offer_download,
    price_table,
    show_figure,
    show_table,
    staleness_warning,
    today,
)

COUNTING_LABELS = {
    "none": "offline approximation",
    "sample": "exact for a sample, scaled (API key)",
    "all": "exact for every request (API key)",
}
UPLOAD_LABEL = "Message Batches files (.jsonl or .json)"
"""No size here: the uploader states its limit (per file) itself, from `server.maxUploadSize`
(.streamlit/config.toml)."""


def render() -> None:
    table = price_table()
    st.subheader("Dry-run a batch file")
    st.caption(
        "Validate a Message Batches file like the API would, count its tokens and price it in every mode before "
        "you submit it. JSONL with one {custom_id, params} per line (a JSON array or a single request also works)."
    )
    sources = dry_run_sources()
    if not sources:
        return
    hits, output, thinking, counting, day = st.columns(5)
    hits.number_input(
        "Hit rate for repeated cached prefixes (%)",
        0.0,
        100.0,
        step=5.0,
        key="dry_run_hit_rate_pct",
        persist_state=KEEP,
    )
    output.number_input(
        "Expected output (% of max_tokens)", 0.0, 100.0, step=5.0, key="dry_run_output_pct", persist_state=KEEP
    )
    thinking.number_input(
        "Expected thinking (% of budget)",
        0.0,
        100.0,
        step=5.0,
        key="dry_run_thinking_pct",
        help="For requests that think: the share of budget_tokens they use (adaptive thinking: of the room "
        "max_tokens leaves). Billed as output.",
        persist_state=KEEP,
    )
    has_key = api_key() is not None
    if not has_key:
        st.session_state["dry_run_counting"] = "none"  # a choice made while a key was set no longer applies
    choices = tuple(COUNTING_LABELS) if has_key else ("none",)
    counting.radio(
        "Token counts", choices, format_func=COUNTING_LABELS.__getitem__, key="dry_run_counting", persist_state=KEEP
    )
    if not has_key:
        counting.caption("Add an API key in the sidebar for exact counts.")
    day.date_input("Prices as of", key="dry_run_as_of", persist_state=KEEP)
    options = rows.dry_run_options(st.session_state.to_dict(), today=today(), has_api_key=has_key)
    staleness_warning(table, options.as_of or today())
    result = dry_run_result(table, sources, options)
    if result is None:
        return
    show_dry_run(result)


@dataclasses.dataclass(frozen=True)
class DryRunSource:
    name: str  # as the report shows it: the upload's name, numbered when two uploads share one
    identity: str  # the upload's id, or the pasted text's hash: re-analyse only when it changes
    data: bytes

    def stream(self) -> io.BytesIO:
        """The bytes as a stream named like the upload: the dry run names the file by it, never by a path."""
        stream = io.BytesIO(self.data)
        stream.name = self.name
        return stream


def dry_run_sources() -> list[DryRunSource]:
    """The files to dry-run: uploads (one or several), or requests pasted as text. Empty (with a hint) until
    there is one."""
    mode = st.radio(
        "Input", ("Upload a file", "Paste requests"), key="dry_run_input", horizontal=True, persist_state=KEEP
    )
    if mode == "Upload a file":
        uploads = st.file_uploader(
            UPLOAD_LABEL, type=["jsonl", "ndjson", "json", "txt"], accept_multiple_files=True, key="batch_upload"
        )
        if not uploads:
            st.info("Upload a file to check it and price it.", icon=":material/upload_file:")
            return []
        names = rows.distinct_names([upload.name for upload in uploads])
        return [
            DryRunSource(name, upload.file_id, upload.getvalue()) for name, upload in zip(names, uploads, strict=True)
        ]
    example = '{"custom_id": "a", "params": {"model": "claude-sonnet-4-6", "max_tokens": 500, "messages": [...]}}'
    text = st.text_area(
        "One request, or JSONL lines", key="batch_paste", height=180, placeholder=example, persist_state=KEEP
    )
    if not text.strip():
        return []
    data = text.encode("utf-8")
    return [DryRunSource("pasted requests", hashlib.sha256(data).hexdigest(), data)]


def dry_run_result(table: PriceTable, sources: list[DryRunSource], options: rows.DryRunOptions) -> DryRunResult | None:
    """Analyse once per set of files and options: the result is kept in the session, so other widgets stay
    quick. Several files are one job, priced together by the dry run itself (never summed here)."""
    key = (tuple((source.identity, source.name) for source in sources), options)
    kept = st.session_state.get("dry_run_kept")
    if kept is not None and kept[0] == key:
        return kept[1]  # type: ignore[no-any-return]
    reading = "Reading the file…" if len(sources) == 1 else "Reading the files…"
    progress = st.progress(0.0, text=reading)
    throttle = rows.ProgressThrottle()
    # Streams carry no size the dry run adds up, while its count of bytes read runs on across files: the
    # reading bar's whole is every upload's bytes.
    upload_bytes = sum(len(source.data) for source in sources)

    def on_progress(stage: str, done: int, total: int) -> None:
        if stage == "reading":
            total = max(total, upload_bytes)
        share = throttle.share(stage, done, total)
        if share is not None:
            label = reading if stage == "reading" else "Counting tokens with the API…"
            progress.progress(share, text=label)

    arguments = rows.dry_run_arguments(options, api_key=api_key(), table=table, on_progress=on_progress)
    try:
        if len(sources) == 1:  # the single-file entry point, as before: the same report as a job of one file
            result = analyze_batch_file(sources[0].stream(), **arguments)
        else:
            result = analyze_batch_files([source.stream() for source in sources], **arguments)
    except (EstimatorError, PricingError) as error:
        st.error(plain(str(error)), icon=":material/error:")
        return None
    finally:
        progress.empty()
    st.session_state["dry_run_kept"] = (key, result)
    return result


def render_dry_run_totals(result: DryRunResult) -> None:
    """The file's expected total per mode with its saving against real-time, four cards in a row; the
    cheapest marked. The low–high range is in each card's help and the chart."""
    expected = [total for _, total, _ in rows.savings_rows(result) if total is not None]
    cheapest = min(expected) if expected else None
    for column, (mode, total, saving) in zip(
        st.columns(len(MODES), gap="small"), rows.savings_rows(result), strict=True
    ):
        item = result.total(mode)
        with column, st.container(border=True, key=f"dry_run_{mode}"):
            if total is None:
                st.metric(metric_label(mode, "expected"), NOT_PRICED)
                st.caption(plain(item.unavailable_reason or ""))
                continue
            st.metric(
                metric_label(mode, "expected"),
                format_usd(total),
                help=f"Range {rows.range_text(item)}; exact expected ${decimal_text(total)}",
            )
            saved = "baseline" if mode == "realtime" else format_usd(saving)
            st.metric(metric_label(mode, "saves"), saved, help="Against real-time")
            if total == cheapest:
                st.badge("cheapest", color="green", icon=":material/check:")


VALIDATION_TABLE_ROWS = 300
"""Problems listed as a table that wraps their full text; more than this go to a sortable grid."""


def show_dry_run(result: DryRunResult) -> None:
    st.caption(rows.summary_text(result))
    st.info(
        f"**Output assumption** (it drives the cost): {plain(result.output_assumption)}. "
        "Change it with *Expected output* above.",
        icon=":material/output:",
    )
    errors = len(result.errors)
    several = len(result.files) > 1
    if errors:
        st.error(
            f"{rows.plural(errors, 'problem')} would make the API reject lines of "
            f"{'these files' if several else 'this file'}; they are listed below with their line numbers. Costs "
            "cover the valid lines only.",
            icon=":material/error:",
        )
    elif result.requests:
        st.success("Every line is valid.", icon=":material/check_circle:")
    assumptions = rows.assumption_lines(result)
    if assumptions:
        with st.expander(f"Every assumption the costs rest on ({len(assumptions)})", icon=":material/rule:"):
            st.markdown("\n".join(f"- {plain(line)}" for line in assumptions))
    for note in result.notes:
        st.info(plain(note), icon=":material/info:")
    if result.models:
        render_dry_run_totals(result)
        show_figure(charts.dry_run_figure(result), key="chart_dry_run")
    if several:
        st.markdown(f"**Expected cost per file** ({rows.plural(len(result.files), 'file')})")
        show_table(rows.file_table(result))
    if result.models:
        st.markdown("**Expected cost per model and mode**")
        show_table(rows.cost_table(result))
        with st.expander("Low and high estimates (the token counts' error band)"):
            show_table(rows.range_table(result))
        st.markdown("**Tokens per model**")
        show_table(rows.model_table(result))
        if any(model.cacheable_tokens for model in result.models):
            st.markdown("**Cached prefixes per model**")
            show_table(rows.cache_table(result))
        media = rows.media_table(result)
        if media is not None:
            st.markdown("**Images and PDFs per model** (estimated offline from their headers)")
            show_table(media)
        tools = rows.server_tools_table(result)
        if tools is not None:
            st.markdown("**Server tools per model**")
            show_table(tools)
        if any(model.count_source != "exact" for model in result.models):
            st.caption("Offline and sampled counts are approximations: the ranges above carry their error band.")
    if result.needs_split:
        st.markdown(
            f"**Split plan**: over one batch's limits, submit {rows.plural(len(result.split), 'batch', 'batches')}"
        )
        show_table(rows.split_table(result))
    if result.problems:
        render_validation_report(result)
    offer_download(
        st.container(),
        "Dry run (JSON)",
        lambda: json_text(dry_run_to_dict(result)),
        "claude-batch-dry-run.json",
        key="download_dry_run_json",
    )


def render_validation_report(result: DryRunResult) -> None:
    """Every problem with its line, custom_id and full text, and its file when there are several (a table that
    wraps; a sortable grid when long)."""
    st.markdown(f"**Validation report** ({rows.problem_counts_text(result)})")
    problems = rows.problem_rows(result)
    if len(problems) <= VALIDATION_TABLE_ROWS:
        st.table(problems, hide_index=True)
    else:
        st.caption("Hover a cell to read its full text; the JSON download has every problem too.")
        st.dataframe(problems, hide_index=True, width="stretch")
