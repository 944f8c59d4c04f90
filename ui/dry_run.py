"""Rows and sentences for the dry-run page, from `estimator.analyze_batch_file`'s result.

Pure functions returning display strings: money rounded for reading (the exact figures are in the JSON
download), token counts with the source of the count beside them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from estimator.batches.dry_run import DryRunResult, ModeRange
from estimator.format import format_percent, format_tokens, format_usd
from estimator.workload import MODES
from ui.labels import MODE_LABELS, NOT_PRICED

__all__ = [
    "DryRunOptions",
    "cost_rows",
    "dry_run_options",
    "model_rows",
    "problem_counts_text",
    "problem_rows",
    "progress_share",
    "range_text",
    "split_rows",
    "summary_text",
]

Counting = Literal["none", "sample", "all"]


@dataclass(frozen=True)
class DryRunOptions:
    """The dry-run page's choices, as `analyze_batch_file` takes them."""

    hit_rate: Decimal
    output_ratio: Decimal
    exact: Counting
    as_of: dt.date | None


def dry_run_options(state: Mapping[str, Any], *, today: dt.date, has_api_key: bool) -> DryRunOptions:
    """Options from the page's widgets (percentages) and the sidebar's date; exact counts need a key."""
    from ui.form import widget_decimal  # the widgets' numbers as the Decimals they show

    counting: Counting = state["dry_run_counting"] if has_api_key else "none"
    day = state["as_of"]
    return DryRunOptions(
        hit_rate=(widget_decimal(state["dry_run_hit_rate_pct"]) or Decimal(0)) / 100,
        output_ratio=(widget_decimal(state["dry_run_output_pct"]) or Decimal(0)) / 100,
        exact=counting,
        as_of=None if day in (None, today) else day,
    )


def progress_share(done: int, total: int) -> float:
    """The share done, for a progress bar: 0.0 to 1.0."""
    return min(done / total, 1.0) if total > 0 else 1.0


def range_text(item: ModeRange) -> str:
    if not item.available:
        return NOT_PRICED
    return f"{format_usd(item.low_usd)} – {format_usd(item.expected_usd)} – {format_usd(item.high_usd)}"


def summary_text(result: DryRunResult) -> str:
    errors = len(result.errors)
    parts = [
        f"{format_tokens(result.requests)} valid requests of {format_tokens(result.lines)} lines",
        f"{format_tokens(result.invalid_lines)} invalid" if result.invalid_lines else "no invalid line",
        _size_text(result.bytes_read),
        f"{len(result.split)} batch{'es' if len(result.split) != 1 else ''}",
        f"repeated cached prefixes read at {format_percent(result.hit_rate * 100)}",
        result.output_assumption,
    ]
    if errors:
        parts.insert(2, f"{format_tokens(errors)} errors to fix before submitting")
    return " · ".join(parts)


def _size_text(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:,.1f} MB" if size_bytes >= 100_000 else f"{size_bytes / 1e3:,.1f} KB"


def problem_counts_text(result: DryRunResult) -> str:
    errors = len(result.errors)
    return f"{errors:,} errors, {len(result.problems) - errors:,} warnings"


def problem_rows(result: DryRunResult) -> list[dict[str, str]]:
    """Errors first, then warnings, each in line order."""
    ordered = sorted(result.problems, key=lambda p: (p.severity != "error", p.line))
    return [
        {
            "Line": str(problem.line),
            "custom_id": problem.custom_id or "",
            "Severity": problem.severity,
            "Problem": problem.code.replace("_", " "),
            "Details": problem.message,
        }
        for problem in ordered
    ]


def model_rows(result: DryRunResult) -> list[dict[str, str]]:
    return [
        {
            "Model": model.model_name,
            "Requests": format_tokens(model.requests),
            "Input tokens (low – expected – high)": f"{format_tokens(model.input_tokens_low)} – "
            f"{format_tokens(model.input_tokens_expected)} – {format_tokens(model.input_tokens_high)}",
            "Counted": model.count_detail,
            "Cached prefixes": f"{format_tokens(model.cacheable_tokens)} tokens, "
            f"{format_tokens(model.distinct_prefixes)} distinct",
            "Output tokens (expected / max)": f"{format_tokens(model.output_tokens_expected)} / "
            f"{format_tokens(model.output_tokens_max)}",
        }
        for model in result.models
    ]


def cost_rows(result: DryRunResult) -> list[dict[str, str]]:
    """Low – expected – high per mode, one row per model and a total row."""
    rows = [
        {"Model": model.model_name, **{MODE_LABELS[mode]: range_text(model.cost(mode)) for mode in MODES}}
        for model in result.models
    ]
    rows.append({"Model": "Total", **{MODE_LABELS[mode]: range_text(result.total(mode)) for mode in MODES}})
    return rows


def split_rows(result: DryRunResult) -> list[dict[str, str]]:
    return [
        {
            "Batch": str(item.index),
            "Lines": f"{item.first_line:,}–{item.last_line:,}",
            "Requests": format_tokens(item.requests),
            "Size": f"{item.bytes / 1e6:,.1f} MB",
        }
        for item in result.split
    ]
