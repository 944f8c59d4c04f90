"""Plan files: a team's workloads as a table, saved as the `costs.yaml` that CI checks, with the gate's
verdict (budgets, and the allowed increase over an uploaded baseline lock).

The page stands on its own (the sidebar's workload form is not used). An uploaded plan may not name files
(a batch file, usage exports, prompt files): this server does not read files on a plan's say-so; such plans
are checked with `python -m estimator check costs.yaml` where the files are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from estimator import EstimatorError
from estimator.plans import CostLock, Plan, PlanCheck, PlanFileError, check_plan, lock_plan, parse_plan
from estimator.plans.lock import lock_to_json, parse_lock
from estimator.plans.render import markdown_text, render_markdown
from pricing import PriceTable, PricingError
from ui import plan_files as rows
from ui.form import widget_decimal
from ui.session import KEEP, offer_download, price_table, show_table, staleness_warning, today

EDITOR = "plan_files_editor"
BASE = "plan_files_base"
"""Session keys: the editor's widget, and the rows it starts from (replaced when a plan is uploaded)."""
MAX_UPLOAD_BYTES = 1_000_000


def render() -> None:
    table = price_table()
    st.subheader("Plan files")
    st.caption(
        "Your workloads as a plan file (costs.yaml) to commit next to your code: CI runs "
        "`python -m estimator check costs.yaml --baseline costs.lock.json --max-increase 10%` on each pull request."
    )
    seed_settings(rows.DEFAULT_SETTINGS, replace=False)
    load_uploaded_plan(table)
    base_rows = st.session_state.get(BASE, list(rows.DEFAULT_ROWS))
    edited = st.data_editor(
        _frame(base_rows), key=EDITOR, num_rows="dynamic", hide_index=True, column_config=_column_config()
    )
    settings = plan_settings()
    try:
        text = rows.plan_yaml(edited.to_dict("records"), settings)
        plan = parse_plan(text, source_name="costs.yaml", base_dir=None, table=table)
    except (rows.RowsError, PlanFileError) as error:
        st.error("The plan cannot be saved yet:\n\n" + "\n".join(f"- {line}" for line in str(error).splitlines()))
        return
    check = checked(plan, baseline_from_upload(), table)
    if check is None:
        return
    show_verdict(check)
    show_downloads(plan, text, check, table)


def load_uploaded_plan(table: PriceTable) -> None:
    """An uploaded plan replaces the table's rows once (per upload), and the editor starts afresh."""
    upload = st.file_uploader("Open a plan file (costs.yaml)", type=["yaml", "yml"], key="plan_files_upload")
    if upload is None or st.session_state.get("plan_files_upload_id") == upload.file_id:
        return
    st.session_state["plan_files_upload_id"] = upload.file_id
    data = upload.getvalue()
    try:
        if len(data) > MAX_UPLOAD_BYTES:
            raise PlanFileError(f"{upload.name}: larger than {MAX_UPLOAD_BYTES:,} bytes; is it a plan file?")
        plan = parse_plan(data.decode("utf-8"), source_name=upload.name, base_dir=None, table=table)
    except UnicodeDecodeError:
        st.error(f"{upload.name} is not UTF-8 text.")
        return
    except (PlanFileError, PricingError, EstimatorError) as error:
        st.error("\n\n".join(str(error).splitlines()))
        return
    plan_rows, skipped = rows.rows_from_plan(plan)
    st.session_state[BASE] = plan_rows
    st.session_state.pop(EDITOR, None)  # the old edits belong to the old rows
    seed_settings(rows.settings_from_plan(plan), replace=True)
    if skipped:
        st.warning(f"Not shown (they name files): {', '.join(skipped)}.")


SETTING_KEYS = ("plan_files_period", "plan_files_mode", "plan_files_budget", "plan_files_max_increase")
PERIODS = ("day", "week", "month", "year")
MODES = ("cheapest", "realtime", "realtime_cached", "batch", "batch_cached")


def seed_settings(settings: rows.PlanSettings, *, replace: bool) -> None:
    """The settings widgets' values: seeded once per session, replaced when a plan is uploaded."""
    values = {
        "plan_files_period": settings.period if settings.period in PERIODS else "month",
        "plan_files_mode": settings.mode,
        "plan_files_budget": float(settings.budget_usd or 0),
        "plan_files_max_increase": settings.max_increase or "",
    }
    for key, value in values.items():
        if replace or key not in st.session_state:
            st.session_state[key] = value


def plan_settings() -> rows.PlanSettings:
    period, mode, budget, increase = st.columns(4)
    chosen_period = period.selectbox("Totals per", PERIODS, key="plan_files_period", persist_state=KEEP)
    chosen_mode = mode.selectbox("Default mode", MODES, key="plan_files_mode", persist_state=KEEP)
    budget_value = budget.number_input(
        f"Plan budget ($ per {chosen_period}; 0 = none)",
        min_value=0.0,
        step=100.0,
        key="plan_files_budget",
        persist_state=KEEP,
    )
    increase_text = increase.text_input(
        "Max increase over the baseline (10% or $5)", key="plan_files_max_increase", persist_state=KEEP
    )
    return rows.PlanSettings(
        period=chosen_period,
        mode=chosen_mode,
        budget_usd=widget_decimal(budget_value) or None,  # 0 means no budget
        max_increase=increase_text.strip() or None,
    )


def baseline_from_upload() -> CostLock | None:
    upload = st.file_uploader(
        "Baseline lock file (costs.lock.json), to compare with", type=["json"], key="plan_files_lock"
    )
    if upload is None:
        return None
    try:
        return parse_lock(upload.getvalue().decode("utf-8"), source_name=upload.name)
    except (EstimatorError, UnicodeDecodeError) as error:
        st.error(str(error))
        return None


def checked(plan: Plan, baseline: CostLock | None, table: PriceTable) -> PlanCheck | None:
    day = st.date_input("Prices as of", value=today(), key="plan_files_as_of", persist_state=KEEP)
    if isinstance(day, dt.date):
        staleness_warning(table, day)
    try:
        return check_plan(plan, as_of=day if isinstance(day, dt.date) else None, baseline=baseline, table=table)
    except (EstimatorError, PricingError) as error:
        st.error("\n\n".join(str(error).splitlines()))
        return None


def show_verdict(check: PlanCheck) -> None:
    if check.passed:
        st.success(rows.verdict_text(check), icon=":material/check_circle:")
    else:
        st.error(rows.verdict_text(check), icon=":material/error:")
        st.markdown("\n".join(f"- {markdown_text(failure)}" for failure in check.failures))
    show_table(rows.check_table(check), key="plan_files_check")
    explanation = rows.attribution_markdown(check)
    if explanation is not None:
        st.markdown(explanation)
    if check.warnings:
        with st.expander(f"Warnings ({len(check.warnings)})"):
            st.markdown("\n".join(f"- {markdown_text(warning)}" for warning in check.warnings))


def show_downloads(plan: Plan, text: str, check: PlanCheck, table: PriceTable) -> None:
    plan_column, report_column, lock_column = st.columns(3)
    # ui.session.offer_download knows no YAML type; same button, same no-rerun click.
    plan_column.download_button(
        "Save the plan (costs.yaml)",
        text,
        file_name="costs.yaml",
        mime="application/yaml",
        key="plan_files_save",
        on_click="ignore",
    )
    offer_download(report_column, "Report (Markdown)", render_markdown(check), "cost-check.md", key="plan_files_md")
    reason = lock_column.text_input("Reason for a new baseline", key="plan_files_reason", persist_state=KEEP)
    if reason.strip():
        lock = lock_plan(plan, reason=reason, as_of=check.as_of, table=table)
        offer_download(
            lock_column,
            "New baseline (costs.lock.json)",
            lock_to_json(lock),
            "costs.lock.json",
            key="plan_files_new_lock",
        )


def _frame(base_rows: list[dict[str, Any]]) -> Any:
    import pandas as pd  # type: ignore[import-untyped]  # loaded by Streamlit already; no stubs installed

    return pd.DataFrame(base_rows, columns=[column.name for column in rows.COLUMNS])


def _column_config() -> dict[str, Any]:
    config: dict[str, Any] = {}
    for column in rows.COLUMNS:
        if column.kind == "choice":
            config[column.name] = st.column_config.SelectboxColumn(
                column.label, options=column.options, help=column.help
            )
        elif column.kind == "whole":
            config[column.name] = st.column_config.NumberColumn(
                column.label, min_value=0, step=1, format="%d", help=column.help
            )
        elif column.kind == "number":
            config[column.name] = st.column_config.NumberColumn(column.label, min_value=0.0, help=column.help)
        elif column.kind == "flag":
            config[column.name] = st.column_config.CheckboxColumn(column.label, help=column.help)
        else:
            config[column.name] = st.column_config.TextColumn(column.label, help=column.help)
    return config
