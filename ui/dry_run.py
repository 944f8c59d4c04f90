"""Rows and sentences for the dry-run page, from `estimator.analyze_batch_file`'s result.

Pure functions: tables of numbers that sort (`ui.columns.Table`), money rounded for display (the exact figures
are in the JSON download), token counts with the source of the count beside them; sentences with plurals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from estimator.batches.dry_run import DryRunResult, ModeRange
from estimator.format import format_percent, format_tokens, format_usd
from estimator.workload import MODES, Mode
from ui.columns import (
    Cell,
    Column,
    Table,
    count_column,
    display_number,
    money_column,
    money_decimals,
    text_column,
)
from ui.labels import MODE_LABELS, NOT_PRICED

__all__ = [
    "DryRunOptions",
    "ProgressThrottle",
    "cache_table",
    "cost_table",
    "dry_run_options",
    "model_table",
    "plural",
    "problem_counts_text",
    "problem_rows",
    "progress_share",
    "range_table",
    "range_text",
    "savings_rows",
    "split_table",
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
    """Options from the page's widgets (percentages and its own price date); exact counts need a key."""
    from ui.form import widget_decimal  # the widgets' numbers as the Decimals they show

    counting: Counting = state["dry_run_counting"] if has_api_key else "none"
    day = state["dry_run_as_of"]
    return DryRunOptions(
        hit_rate=(widget_decimal(state["dry_run_hit_rate_pct"]) or Decimal(0)) / 100,
        output_ratio=(widget_decimal(state["dry_run_output_pct"]) or Decimal(0)) / 100,
        exact=counting,
        as_of=None if day in (None, today) else day,
    )


def progress_share(done: int, total: int) -> float:
    """The share done, for a progress bar: 0.0 to 1.0."""
    return min(done / total, 1.0) if total > 0 else 1.0


@dataclass
class ProgressThrottle:
    """Says when a progress bar is worth redrawing: once per whole percent of each stage.

    The dry run reports progress per request; redrawing the bar each time sends one message to the browser
    per request (a 220,000-request file spent most of its time there). This bounds the redraws to about
    a hundred per stage, whatever the file's size."""

    _last: tuple[str, int] | None = field(default=None, init=False)

    def share(self, stage: str, done: int, total: int) -> float | None:
        """The share to draw now, or None when the bar would not visibly move."""
        share = progress_share(done, total)
        step = (stage, int(share * 100))
        if step == self._last:
            return None
        self._last = step
        return share


def range_text(item: ModeRange) -> str:
    if not item.available:
        return NOT_PRICED
    return f"{format_usd(item.low_usd)} – {format_usd(item.expected_usd)} – {format_usd(item.high_usd)}"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """'1 valid request', '2 valid requests', '1 batch', '3 batches'."""
    return f"{format_tokens(count)} {noun if count == 1 else (many or noun + 's')}"


def summary_text(result: DryRunResult) -> str:
    errors = len(result.errors)
    parts = [
        f"{plural(result.requests, 'valid request')} of {plural(result.lines, 'line')}",
        plural(result.invalid_lines, "invalid line") if result.invalid_lines else "no invalid line",
        _size_text(result.bytes_read),
        plural(len(result.split), "batch", "batches"),
        f"repeated cached prefixes read at {format_percent(result.hit_rate * 100)}",
    ]
    if errors:
        parts.insert(2, f"{plural(errors, 'error')} to fix before submitting")
    return " · ".join(parts)


def _size_text(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:,.1f} MB" if size_bytes >= 100_000 else f"{size_bytes / 1e3:,.1f} KB"


def problem_counts_text(result: DryRunResult) -> str:
    errors = len(result.errors)
    return f"{plural(errors, 'error')}, {plural(len(result.problems) - errors, 'warning')}"


def problem_rows(result: DryRunResult) -> list[dict[str, Cell]]:
    """Errors first, then warnings, each in line order; every row names its custom_id (— when the line has
    none) and carries the problem's full text."""
    ordered = sorted(result.problems, key=lambda p: (p.severity != "error", p.line))
    return [
        {
            "Line": problem.line,
            "custom_id": problem.custom_id or "—",
            "Severity": problem.severity,
            "Problem": problem.code.replace("_", " "),
            "Details": problem.message,
        }
        for problem in ordered
    ]


def cost_table(result: DryRunResult) -> Table:
    """The expected cost per model and mode, a total row last; numbers that sort, blank where unpriced."""
    items = [*((model.model_name, model.costs) for model in result.models), ("Total", result.totals)]
    expected = [{cost.mode: cost.expected_usd for cost in costs} for _, costs in items]
    places = {mode: money_decimals(values[mode] for values in expected) for mode in MODES}
    rows: list[dict[str, Cell]] = [
        {"Model": name, **{MODE_LABELS[m]: display_number(values[m], places[m]) for m in MODES}}
        for (name, _), values in zip(items, expected, strict=True)
    ]
    columns = {
        "Model": text_column(width="medium"),
        **{
            MODE_LABELS[m]: money_column(places[m], f"Expected {MODE_LABELS[m]} cost; blank: not priced") for m in MODES
        },
    }
    return Table(rows, columns)


def range_table(result: DryRunResult) -> Table:
    """Low, expected and high cost per model and mode (the token counts' error band), one row each."""
    items = [*((model.model_name, model.costs) for model in result.models), ("Total", result.totals)]
    money = [v for _, costs in items for c in costs for v in (c.low_usd, c.expected_usd, c.high_usd)]
    places = money_decimals(money)
    rows: list[dict[str, Cell]] = [
        {
            "Model": name,
            "Mode": MODE_LABELS[cost.mode],
            "Low": display_number(cost.low_usd, places),
            "Expected": display_number(cost.expected_usd, places),
            "High": display_number(cost.high_usd, places),
            "Note": "" if cost.available else (cost.unavailable_reason or NOT_PRICED),
        }
        for name, costs in items
        for cost in costs
    ]
    columns = {
        "Model": text_column(width="medium"),
        "Mode": text_column(),
        "Low": money_column(places),
        "Expected": money_column(places),
        "High": money_column(places),
        "Note": text_column(width="medium"),
    }
    return Table(rows, columns)


def model_table(result: DryRunResult) -> Table:
    """Tokens per model: input with its range, output, and how they were counted."""
    rows: list[dict[str, Cell]] = [
        {
            "Model": model.model_name,
            "Requests": model.requests,
            "Input": model.input_tokens_expected,
            "Input low": model.input_tokens_low,
            "Input high": model.input_tokens_high,
            "Output": model.output_tokens_expected,
            "Output max": model.output_tokens_max,
            "Counted": model.count_detail,
        }
        for model in result.models
    ]
    columns = {
        "Model": text_column(),
        "Requests": count_column(),
        "Input": count_column("Expected input tokens, all requests"),
        "Input low": count_column("Low end of the input count's error band"),
        "Input high": count_column("High end of the input count's error band"),
        "Output": count_column("Expected output tokens (the share of max_tokens above)"),
        "Output max": count_column("Output tokens if every request used its max_tokens"),
        "Counted": text_column("How the tokens were counted", width="medium"),
    }
    return Table(rows, columns)


def cache_table(result: DryRunResult) -> Table:
    """Per model: the cacheable prefixes and the cache writes and reads they lead to."""
    rows: list[dict[str, Cell]] = [
        {
            "Model": model.model_name,
            "Cacheable tokens": model.cacheable_tokens,
            "Distinct prefixes": model.distinct_prefixes,
            "Cache writes": display_number(model.cache_write_tokens, 0),
            "Cache reads": display_number(model.cache_read_tokens, 0),
        }
        for model in result.models
    ]
    columns = {
        "Model": text_column(),
        "Cacheable tokens": count_column("Tokens in prefixes that can be cached"),
        "Distinct prefixes": count_column("Different cacheable prefixes in the file"),
        "Cache writes": count_column("Expected tokens written to the cache"),
        "Cache reads": count_column("Expected tokens read from the cache, at the hit rate above"),
    }
    return Table(rows, columns)


def split_table(result: DryRunResult) -> Table:
    rows: list[dict[str, Cell]] = [
        {
            "Batch": item.index,
            "First line": item.first_line,
            "Last line": item.last_line,
            "Requests": item.requests,
            "Size (MB)": round(item.bytes / 1e6, 1),
        }
        for item in result.split
    ]
    columns = {
        "Batch": count_column(),
        "First line": count_column(),
        "Last line": count_column(),
        "Requests": count_column(),
        "Size (MB)": Column("number", "%,.1f", "Megabytes (10⁶ bytes), as the Batch API counts them", "small"),
    }
    return Table(rows, columns)


def savings_rows(result: DryRunResult) -> list[tuple[Mode, Decimal | None, Decimal | None]]:
    """(mode, expected total, saving against real-time) for the file; None where a mode is unpriced."""
    baseline = result.total("realtime").expected_usd
    rows: list[tuple[Mode, Decimal | None, Decimal | None]] = []
    for mode in MODES:
        expected = result.total(mode).expected_usd
        saving = baseline - expected if baseline is not None and expected is not None else None
        rows.append((mode, expected, saving))
    return rows
