"""Tables, figures and state for the Actual costs page, as pure functions of `ActualCosts` / `Reconciliation`.

No Streamlit here (tests call these directly). Money stays exact until a table cell or a figure: tables hold
numbers rounded as `estimator.format` shows them (the downloads carry the exact strings), figures get floats
only in their data. `plan_state` and `dry_run_state` give the session-state values that make the Plan page's
form and the Dry-run page start from what these results showed ("use as plan").
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import plotly.graph_objects as go

from estimator.format import count_noun, format_percent, format_tokens, format_usd
from estimator.results import CATEGORIES
from estimator.usage.actuals import ActualCosts
from estimator.usage.reconcile import Reconciliation
from estimator.usage.report import (
    ACTUAL_CSV_COLUMNS,
    RECONCILE_CSV_COLUMNS,
    actual_costs_rows,
    actual_costs_to_dict,
    reconciliation_rows,
    reconciliation_to_dict,
)
from estimator.workload import Workload
from pricing import PriceTable
from ui.charts import MODE_COLORS, NEUTRAL_COLOR
from ui.columns import (
    Table,
    count_column,
    display_number,
    money_column,
    money_decimals,
    percent_column,
    text_column,
)
from ui.form import HIT_FROM_VALUE, widget_decimal, widget_state
from ui.labels import CATEGORY_LABELS, MODE_LABELS, NOT_PRICED

__all__ = [
    "ACTUAL_COLOR",
    "AS_OF_INPUT",
    "ENGINE_LABELS",
    "HIT_RATE_INPUT",
    "MODEL_INPUT",
    "OUTPUT_INPUT",
    "PAGE_WORDS",
    "Engine",
    "actual_csv_text",
    "actual_json_text",
    "admin_period",
    "category_table",
    "cost_report_table",
    "day_table",
    "dry_run_state",
    "dry_run_suggestion",
    "engine_caption",
    "fraction",
    "headline",
    "in_page_words",
    "latest_day",
    "model_table",
    "notes_of",
    "page_text",
    "plan_state",
    "problem_rows",
    "problems_heading",
    "reconcile_csv_text",
    "reconcile_figure",
    "reconcile_json_text",
    "reconcile_problem_rows",
    "reconcile_summary",
    "reconcile_table",
    "renamed_text",
    "upload_engine",
    "what_if_figure",
    "with_upload_names",
]

ACTUAL_COLOR = "#D55E00"
_MAX_REQUESTS_SHOWN = 200


ADMIN_PERIOD_DAYS = 7
"""The Admin reports a first visit fetches: the last week."""


def admin_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The Admin reports' default dates: the last `ADMIN_PERIOD_DAYS` days up to today."""
    return today - dt.timedelta(days=ADMIN_PERIOD_DAYS), today


def latest_day(result: ActualCosts) -> dt.date:
    """The newest day the usage was priced at (the default day when no record is dated)."""
    return max((day.day for day in result.days), default=result.default_day)


def problems_heading(result: ActualCosts) -> str:
    """'**Problems** (2 errors, 1 warning)': Markdown, counts with their plurals."""
    errors = len(result.errors)
    warnings = len(result.problems) - errors
    return (
        f"**Problems** ({errors:,} error{'' if errors == 1 else 's'}, "
        f"{warnings:,} warning{'' if warnings == 1 else 's'})"
    )


def headline(result: ActualCosts) -> list[tuple[str, str, str]]:
    """(label, value, help) for the page's metric cards."""
    counts = result.requests
    not_billed = counts["errored"] + counts["canceled"] + counts["expired"]
    cards = [
        ("Actual cost", format_usd(result.total_usd), f"Exact: ${result.total_usd}"),
        (
            "Requests billed",
            format_tokens(counts["succeeded"]),
            f"{counts['errored']:,} errored, {counts['canceled']:,} canceled, {counts['expired']:,} expired: "
            f"{not_billed:,} not billed",
        ),
        (
            "Cache hit rate",
            format_percent(None if result.hit_rate is None else result.hit_rate * 100),
            "Cache reads ÷ (reads + writes), per cached-prefix token",
        ),
        (
            "Output per request",
            "—" if result.output_tokens_per_request is None else format_tokens(result.output_tokens_per_request),
            "Output tokens (thinking included) per billed request",
        ),
    ]
    if result.unpriced_records:
        cards.append(
            ("Not priced", format_tokens(result.unpriced_records), "Records that could not be priced: see Problems")
        )
    return cards


def model_table(result: ActualCosts) -> Table:
    amounts = [m.usd[c] for m in result.models for c in CATEGORIES] + [m.total_usd for m in result.models]
    places = money_decimals(amounts)
    rows: list[dict[str, Any]] = []
    for model in result.models:
        row: dict[str, Any] = {"Model": model.model_name, "Requests": model.requests}
        for category in CATEGORIES:
            row[CATEGORY_LABELS[category]] = display_number(model.usd[category], places)
        row["Total"] = display_number(model.total_usd, places)
        rows.append(row)
    columns = {"Model": text_column(width="medium"), "Requests": count_column()}
    columns.update({CATEGORY_LABELS[c]: money_column(places) for c in CATEGORIES})
    columns["Total"] = money_column(places, "Exact figures in the JSON download")
    return Table(rows, columns)


def category_table(result: ActualCosts) -> Table:
    places = money_decimals(item.usd for item in result.categories.values())
    rows: list[dict[str, Any]] = [
        {
            "Category": CATEGORY_LABELS[category],
            "Tokens": result.categories[category].tokens,
            "Cost": display_number(result.categories[category].usd, places),
        }
        for category in CATEGORIES
    ]
    return Table(
        rows,
        {
            "Category": text_column(width="medium"),
            "Tokens": count_column("Tokens (web search: searches)"),
            "Cost": money_column(places),
        },
    )


def day_table(result: ActualCosts) -> Table:
    places = money_decimals(day.total_usd for day in result.days)
    rows: list[dict[str, Any]] = [
        {"Date": day.day.isoformat(), "Cost": display_number(day.total_usd, places)} for day in result.days
    ]
    return Table(rows, {"Date": text_column(), "Cost": money_column(places)})


def cost_report_table(result: ActualCosts) -> Table | None:
    report = result.cost_report
    if report is None:
        return None
    values = [v for row in report.rows for v in (row.ours_usd, row.reported_usd, row.difference_usd)]
    places = max(money_decimals(values), 2)
    rows: list[dict[str, Any]] = [
        {
            "Date": row.day.isoformat(),
            "Model": row.model_id or "day total",
            "Ours": display_number(row.ours_usd, places),
            "Reported": display_number(row.reported_usd, places),
            "Difference": display_number(row.difference_usd, places),
        }
        for row in report.rows
    ]
    return Table(
        rows,
        {
            "Date": text_column(),
            "Model": text_column(width="medium"),
            "Ours": money_column(places, "Priced from usage with the price table"),
            "Reported": money_column(places, "Anthropic's cost report (cents ÷ 100)"),
            "Difference": money_column(places, "Ours − reported"),
        },
    )


def problem_rows(result: ActualCosts) -> list[dict[str, str]]:
    return [
        {
            "File": problem.source,
            "Line": str(problem.line) if problem.line else "",
            "custom_id": problem.custom_id or "",
            "Severity": problem.severity,
            "Problem": problem.code.replace("_", " "),
            "Details": problem.message,
            "Records": f"{problem.records:,}",
        }
        for problem in result.problems
    ]


def what_if_figure(result: ActualCosts) -> go.Figure:
    """The same usage in every mode (bars), the actual marked; another model as a bar with its range."""
    labels: list[str] = []
    values: list[float | None] = []
    colors: list[str] = []
    texts: list[str] = []
    for item in result.what_if:
        label = MODE_LABELS[item.mode] + (" (as billed)" if item.billed else "")
        labels.append(label)
        values.append(None if item.total_usd is None else float(item.total_usd))
        colors.append(MODE_COLORS[item.mode])
        texts.append(format_usd(item.total_usd) if item.total_usd is not None else NOT_PRICED)
    errors_plus: list[float] = [0.0] * len(labels)
    errors_minus: list[float] = [0.0] * len(labels)
    other = result.what_if_model
    if other is not None and other.available and other.expected_usd is not None:
        labels.append(f"On {other.model_name}")
        values.append(float(other.expected_usd))
        colors.append(NEUTRAL_COLOR)
        texts.append(f"{format_usd(other.low_usd)} – {format_usd(other.high_usd)}")
        errors_plus.append(float((other.high_usd or other.expected_usd) - other.expected_usd))
        errors_minus.append(float(other.expected_usd - (other.low_usd or other.expected_usd)))
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=values,
            marker_color=colors,
            text=texts,
            textposition="outside",
            error_y={"type": "data", "array": errors_plus, "arrayminus": errors_minus, "visible": True},
            hovertemplate="%{x}: %{text}<extra></extra>",
            name="What-if",
        )
    )
    figure.add_hline(
        y=float(result.total_usd),
        line_dash="dash",
        line_color=ACTUAL_COLOR,
        annotation_text=f"actual {format_usd(result.total_usd)}",
    )
    figure.update_layout(
        yaxis={"title": "USD", "tickprefix": "$", "rangemode": "tozero"},
        showlegend=False,
        margin={"t": 30, "b": 10},
    )
    return figure


# --- reconcile -----------------------------------------------------------------------------------


def reconcile_summary(result: Reconciliation) -> list[tuple[str, str, str]]:
    total = result.total
    range_text = (
        f"{format_usd(total.low_usd)} – {format_usd(total.expected_usd)} – {format_usd(total.high_usd)}"
        if total.expected_usd is not None
        else NOT_PRICED
    )
    return [
        ("Estimated (low – expected – high)", range_text, f"The dry run of the succeeded requests, {total.mode}"),
        ("Actual", format_usd(total.actual_usd), f"Exact: ${total.actual_usd}"),
        (
            "Error of the expected figure",
            format_percent(total.error_pct),
            "inside the range" if total.inside else "outside the range",
        ),
        (
            "Requests inside their range",
            format_percent(None if result.coverage is None else result.coverage * 100),
            "Per request, how often the actual fell between low and high",
        ),
    ]


def reconcile_table(result: Reconciliation) -> Table:
    shown = [r for r in result.per_request if r.result_type == "succeeded"][:_MAX_REQUESTS_SHOWN]
    amounts = [v for r in shown for v in (r.low_usd, r.expected_usd, r.high_usd, r.actual_usd)]
    places = money_decimals(amounts)
    rows: list[dict[str, Any]] = [
        {
            "custom_id": r.custom_id,
            "Low": display_number(r.low_usd, places),
            "Expected": display_number(r.expected_usd, places),
            "High": display_number(r.high_usd, places),
            "Actual": display_number(r.actual_usd, places),
            "Error": None if r.error_pct is None else float(round(r.error_pct, 1)),
            "Inside": "yes" if r.inside else ("no" if r.inside is not None else "—"),
            "Output / max_tokens": f"{format_tokens(r.actual_output_tokens or 0)} / {format_tokens(r.max_tokens or 0)}",
        }
        for r in shown
    ]
    return Table(
        rows,
        {
            "custom_id": text_column(width="medium"),
            "Low": money_column(places),
            "Expected": money_column(places),
            "High": money_column(places),
            "Actual": money_column(places),
            "Error": percent_column("Actual − expected, as a share of expected"),
            "Inside": text_column(),
            "Output / max_tokens": text_column(),
        },
    )


def reconcile_figure(result: Reconciliation) -> go.Figure:
    """Each request's estimated range (a bar from low to high, expected marked) and its actual cost."""
    shown = [r for r in result.per_request if r.expected_usd is not None and r.actual_usd is not None]
    shown = shown[:_MAX_REQUESTS_SHOWN]
    ids = [r.custom_id for r in shown]
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=ids,
            y=[float((r.high_usd or Decimal(0)) - (r.low_usd or Decimal(0))) for r in shown],
            base=[float(r.low_usd or 0) for r in shown],
            marker_color=MODE_COLORS["batch_cached"],
            opacity=0.35,
            name="estimated range",
            hovertemplate="%{x}: %{base:$.4f} – %{y:$.4f} wide<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=ids,
            y=[float(r.expected_usd or 0) for r in shown],
            mode="markers",
            marker={"symbol": "line-ew-open", "size": 14, "color": MODE_COLORS["batch"]},
            name="expected",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=ids,
            y=[float(r.actual_usd or 0) for r in shown],
            mode="markers",
            marker={"size": 8, "color": ACTUAL_COLOR},
            name="actual",
        )
    )
    figure.update_layout(
        yaxis={"title": "USD per request", "tickprefix": "$", "rangemode": "tozero"},
        xaxis={"title": "custom_id", "showticklabels": len(ids) <= 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.25, "xanchor": "left", "x": 0},
        margin={"t": 20},
    )
    return figure


# --- use as plan -----------------------------------------------------------------------------------


def plan_state(workload: Workload, *, today: dt.date, table: PriceTable) -> dict[str, Any]:
    """The sidebar form's widget values that show `workload` (a hit rate given as a value, not traffic)."""
    state = widget_state(workload, requests_per_hour=None, today=today, table=table)
    state["hit_rate_source"] = HIT_FROM_VALUE
    return state


def fraction(percent: object) -> Decimal:
    """A percentage widget's number as the fraction the estimator takes (85.0 → 0.85, never 0.8499…)."""
    value = widget_decimal(percent)
    return Decimal(0) if value is None else value / 100


def dry_run_state(result: Reconciliation) -> dict[str, Any]:
    """The Dry-run page's options set to what the results showed (percentages, as its widgets hold them)."""
    params = result.dry_run_parameters()
    state: dict[str, Any] = {}
    if "hit_rate" in params:
        state["dry_run_hit_rate_pct"] = float(params["hit_rate"] * 100)
    if "output_ratio" in params:
        state["dry_run_output_pct"] = float(params["output_ratio"] * 100)
    return state


# --- downloads -------------------------------------------------------------------------------------


def actual_json_text(result: ActualCosts) -> str:
    return json.dumps(actual_costs_to_dict(result), indent=2) + "\n"


def actual_csv_text(result: ActualCosts) -> str:
    return _csv(ACTUAL_CSV_COLUMNS, actual_costs_rows(result))


def reconcile_json_text(result: Reconciliation) -> str:
    return json.dumps(reconciliation_to_dict(result), indent=2) + "\n"


def reconcile_csv_text(result: Reconciliation) -> str:
    return _csv(RECONCILE_CSV_COLUMNS, reconciliation_rows(result))


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


Engine = Literal["python", "duckdb"]
ENGINE_LABELS: dict[Engine, str] = {"python": "the Python pricer", "duckdb": "DuckDB"}


def upload_engine(
    heads: Sequence[bytes], size_bytes: int, *, what_if_model: str | None, threshold_bytes: int
) -> Engine:
    """Who prices uploaded files (`heads`: their first bytes), by the rule of `actual --engine auto`: DuckDB
    for Parquet or CSV tables, or for more than `threshold_bytes` in all, when it is installed; the Python
    pricer otherwise, and whenever a what-if on another model is asked for (only it prices one) unless a
    table needs DuckDB."""
    from estimator.bulk import engine_for
    from estimator.bulk.inputs import TABULAR, kind_of

    kinds = [kind for kind in map(kind_of, heads) if kind is not None]
    if what_if_model is not None and not TABULAR & set(kinds):
        return "python"
    return engine_for(kinds, size_bytes, threshold_bytes=threshold_bytes)


def engine_caption(engine: Engine, files: int, size_bytes: int | None) -> str:
    """'Priced by DuckDB: 2 files, 120.4 MB' (no size for fetched reports)."""
    if size_bytes is None:
        return f"Priced by {ENGINE_LABELS[engine]}."
    size = f"{size_bytes / 1e6:,.1f} MB" if size_bytes >= 100_000 else f"{size_bytes / 1e3:,.1f} kB"
    return f"Priced by {ENGINE_LABELS[engine]}: {count_noun(files, 'file')}, {size}."


MODEL_INPUT = "Model of bare usage objects"
AS_OF_INPUT = "Undated records priced as of"
HIT_RATE_INPUT = "Hit rate for repeated cached prefixes (%)"
OUTPUT_INPUT = "Expected output (% of max_tokens)"
"""The labels of the inputs that the estimator's messages name by their command-line flags."""

PAGE_WORDS = (
    ("set --as-of / as_of to", f"set “{AS_OF_INPUT}” above to"),
    ("pass --as-of for undated files", f"set “{AS_OF_INPUT}” above for undated files"),
    ("undated files take --as-of", f"undated files take “{AS_OF_INPUT}” above"),
    ("pass --model (model=...)", f"choose “{MODEL_INPUT}” above"),
    ("pass --model", f"choose “{MODEL_INPUT}” above"),
    ("use --admin-api legacy", "choose the legacy endpoints"),
)
"""The estimator's messages name command-line flags (they serve the CLI and Python alike); this page words
them as its own inputs. Longest phrases first: each is replaced whole."""


def page_text(text: str) -> str:
    """A message of the estimator in this page's words: each flag it names becomes the input that sets it."""
    for flag_words, page_words in PAGE_WORDS:
        text = text.replace(flag_words, page_words)
    return text


def in_page_words(result: ActualCosts) -> ActualCosts:
    """The result with its problems' messages and its notes in this page's words (`page_text`)."""
    return dataclasses.replace(
        result,
        problems=tuple(dataclasses.replace(problem, message=page_text(problem.message)) for problem in result.problems),
        notes=tuple(page_text(note) for note in result.notes),
    )


def dry_run_suggestion(result: Reconciliation) -> str | None:
    """What the Dry-run page's inputs should be for the next similar file, by their labels; None without one."""
    params = result.dry_run_parameters()
    settings = []
    if "hit_rate" in params:
        settings.append(f"“{HIT_RATE_INPUT}” to {format_percent(params['hit_rate'] * 100)}")
    if "output_ratio" in params:
        settings.append(f"“{OUTPUT_INPUT}” to {format_percent(params['output_ratio'] * 100)}")
    if not settings:
        return None
    return f"For the next dry run of a similar file, set {' and '.join(settings)} on the Dry-run page."


def reconcile_problem_rows(result: Reconciliation) -> list[dict[str, str]]:
    """The reconciliation's problems, each with its line, custom_id and the problem in words."""
    return [
        {
            "Line": str(problem.line) if problem.line else "",
            "custom_id": problem.custom_id or "",
            "Problem": problem.code.replace("_", " "),
            "Details": page_text(problem.message),
        }
        for problem in result.problems
    ]


def with_upload_names(result: ActualCosts, names: Mapping[str, str]) -> ActualCosts:
    """The result with the temporary paths uploads were priced from (`names`: path → upload name) replaced by
    the uploads' names, wherever a file is named (sources, problems and their messages, not-billed lines)."""

    def renamed(text: str) -> str:
        return renamed_text(text, names)

    return dataclasses.replace(
        result,
        sources=tuple(renamed(source) for source in result.sources),
        problems=tuple(
            dataclasses.replace(problem, source=renamed(problem.source), message=renamed(problem.message))
            for problem in result.problems
        ),
        not_billed=tuple(dataclasses.replace(item, source=renamed(item.source)) for item in result.not_billed),
        notes=tuple(renamed(note) for note in result.notes),
    )


def renamed_text(text: str, names: Mapping[str, str]) -> str:
    """An error message with temporary paths replaced by the uploads' names."""
    for path, name in names.items():
        text = text.replace(path, name)
    return text


def notes_of(result: ActualCosts) -> list[str]:
    """Notes worth showing above the tables, the cost report's own included."""
    notes = list(result.notes)
    if result.cost_report is not None:
        report = result.cost_report
        verdict = (
            "matches Anthropic's cost report to the cent"
            if report.to_the_cent
            else f"differs from Anthropic's cost report by {format_usd(report.difference_usd)}"
        )
        notes.insert(0, f"Our total {verdict} (ours ${report.ours_total_usd}, reported ${report.reported_total_usd}).")
        notes += list(report.notes)
    return notes
