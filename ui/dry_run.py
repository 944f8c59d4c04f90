"""Rows and sentences for the dry-run page, from `estimator.analyze_batch_file`'s result (or
`analyze_batch_files`', for several uploads: the same record, with a share per file).

Pure functions: tables of numbers that sort (`ui.columns.Table`), money rounded for display (the exact figures
are in the JSON download), token counts with the source of the count beside them; sentences with plurals. A
column naming the file appears only when there are several files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TypedDict

from estimator.batches.dry_run import DEFAULT_THINKING_RATIO, DryRunResult, ModeRange
from estimator.batches.results import ServerToolUse
from estimator.format import count_noun, format_percent, format_tokens, format_usd
from estimator.workload import MODES, Mode
from pricing import PriceTable
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
    "PAGE_PHRASES",
    "PAGE_WORDS",
    "DryRunArguments",
    "DryRunOptions",
    "ProgressThrottle",
    "assumption_lines",
    "cache_table",
    "cost_table",
    "distinct_names",
    "dry_run_arguments",
    "dry_run_options",
    "file_table",
    "media_table",
    "model_table",
    "page_text",
    "plural",
    "problem_counts_text",
    "problem_rows",
    "progress_share",
    "range_table",
    "range_text",
    "savings_rows",
    "server_tools_table",
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
    thinking_ratio: Decimal = DEFAULT_THINKING_RATIO


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
        thinking_ratio=(widget_decimal(state["dry_run_thinking_pct"]) or Decimal(0)) / 100,
    )


class DryRunArguments(TypedDict):
    """The page's options as `analyze_batch_file` and `analyze_batch_files` both take them (`**arguments`)."""

    hit_rate: Decimal
    output_ratio: Decimal
    thinking_ratio: Decimal
    as_of: dt.date | None
    exact: Counting
    api_key: str | None
    table: PriceTable
    on_progress: Callable[[str, int, int], None]


def dry_run_arguments(
    options: DryRunOptions,
    *,
    api_key: str | None,
    table: PriceTable,
    on_progress: Callable[[str, int, int], None],
) -> DryRunArguments:
    """The same options for one file or several, so that a job of several is priced exactly as one file is."""
    return DryRunArguments(
        hit_rate=options.hit_rate,
        output_ratio=options.output_ratio,
        thinking_ratio=options.thinking_ratio,
        as_of=options.as_of,
        exact=options.exact,
        api_key=api_key,
        table=table,
        on_progress=on_progress,
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


plural = count_noun
"""'1 valid request', '2 valid requests', '1 batch', '3 batches' (the estimator's wording, as the CLI's)."""


def distinct_names(names: Sequence[str]) -> list[str]:
    """Upload names made distinct, in order: the first keeps its name, a later one of the same name is numbered
    ('a.jsonl', 'a.jsonl (2)'), so that its problems and its row are told apart (the dry run names files by
    these names). A number already taken by an upload of that name is skipped."""
    taken = set(names)  # a number never takes the name another upload bears itself
    seen: set[str] = set()
    distinct: list[str] = []
    for name in names:
        chosen, number = name, 1
        while chosen in seen or (chosen != name and chosen in taken):
            number += 1
            chosen = f"{name} ({number})"
        seen.add(chosen)
        distinct.append(chosen)
    return distinct


def _several_files(result: DryRunResult) -> bool:
    return len(result.files) > 1


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
    if _several_files(result):
        parts.insert(0, plural(len(result.files), "file"))
    return " · ".join(parts)


def _size_text(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:,.1f} MB" if size_bytes >= 100_000 else f"{size_bytes / 1e3:,.1f} KB"


def problem_counts_text(result: DryRunResult) -> str:
    errors = len(result.errors)
    return f"{plural(errors, 'error')}, {plural(len(result.problems) - errors, 'warning')}"


def problem_rows(result: DryRunResult) -> list[dict[str, Cell]]:
    """Errors first, then warnings, each in file and line order; every row names its custom_id (— when the
    line has none) and carries the problem's full text. With several files, a first column names the file (—
    for a problem of the whole job, such as a model's breakpoints below the minimum)."""
    several = _several_files(result)
    order = {item.name: index for index, item in enumerate(result.files)} if several else {}
    ordered = sorted(
        result.problems, key=lambda p: (p.severity != "error", order.get(p.file or "", len(order)), p.line)
    )
    return [
        {
            **({"File": problem.file or "—"} if several else {}),
            "Line": problem.line,
            "custom_id": problem.custom_id or "—",
            "Severity": problem.severity,
            "Problem": problem.code.replace("_", " "),
            "Details": page_text(problem.message),
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


def file_table(result: DryRunResult) -> Table:
    """Per file, in upload order: valid requests of lines, errors and warnings, and the expected cost in each
    mode (the dry run's own share per file: the page never adds figures up)."""
    expected = [{cost.mode: cost.expected_usd for cost in item.totals} for item in result.files]
    places = {mode: money_decimals(values[mode] for values in expected) for mode in MODES}
    rows: list[dict[str, Cell]] = [
        {
            "File": item.name,
            "Requests": item.requests,
            "Lines": item.lines,
            "Errors": item.errors,
            "Warnings": item.warnings,
            **{MODE_LABELS[m]: display_number(values[m], places[m]) for m in MODES},
        }
        for item, values in zip(result.files, expected, strict=True)
    ]
    columns = {
        "File": text_column(width="medium"),
        "Requests": count_column("Valid requests: the ones priced"),
        "Lines": count_column(),
        "Errors": count_column("Problems that would make the API reject a line"),
        "Warnings": count_column(),
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
    """Tokens per model: input with its range, output (thinking apart, when any request thinks), and how
    they were counted."""
    rows: list[dict[str, Cell]] = [
        {
            "Model": model.model_name,
            "Requests": model.requests,
            "Multi-turn": model.multi_turn_requests,
            "Input": model.input_tokens_expected,
            "Input low": model.input_tokens_low,
            "Input high": model.input_tokens_high,
            "Output": model.visible_output_tokens_expected,
            "Thinking": model.thinking_tokens_expected,
            "Output max": model.output_tokens_max,
            "Counted": model.count_detail,
        }
        for model in result.models
    ]
    columns = {
        "Model": text_column(),
        "Requests": count_column(),
        "Multi-turn": count_column("Requests that carry earlier turns (their cache breakpoints are priced as given)"),
        "Input": count_column("Expected input tokens, all requests (images and PDFs included)"),
        "Input low": count_column("Low end of the input count's error band"),
        "Input high": count_column("High end of the input count's error band"),
        "Output": count_column("Expected visible output tokens (the share of max_tokens above)"),
        "Thinking": count_column("Expected thinking tokens (the share of the thinking budget above): billed as output"),
        "Output max": count_column("Output tokens, thinking included, if every request used its max_tokens"),
        "Counted": text_column("How the tokens were counted", width="medium"),
    }
    if not any(model.thinking_tokens_expected for model in result.models):
        del columns["Thinking"]
    if not any(model.multi_turn_requests for model in result.models):
        del columns["Multi-turn"]
    return Table(rows, columns)


def media_table(result: DryRunResult) -> Table | None:
    """Images and PDFs per model, counted offline from their headers, with the range their rules allow; None
    when the file has none."""
    models = [model for model in result.models if model.media.images or model.media.pdfs]
    if not models:
        return None
    rows: list[dict[str, Cell]] = [
        {
            "Model": model.model_name,
            "Images": model.media.images,
            "Image tokens": model.media.image_tokens_expected,
            "Image range": _range(model.media.image_tokens_low, model.media.image_tokens_high),
            "PDFs": model.media.pdfs,
            "PDF pages": model.media.pdf_pages,
            "PDF tokens": model.media.pdf_tokens_expected,
            "PDF range": _range(model.media.pdf_tokens_low, model.media.pdf_tokens_high),
        }
        for model in models
    ]
    columns = {
        "Model": text_column(),
        "Images": count_column(),
        "Image tokens": count_column("Expected tokens of every image, from its pixel size (already in Input)"),
        "Image range": text_column("Low – high, as the model generation's resize rules allow"),
        "PDFs": count_column(),
        "PDF pages": count_column(),
        "PDF tokens": count_column("Expected tokens: text plus a page image per page (already in Input)"),
        "PDF range": text_column("Low – high, per page"),
    }
    return Table(rows, columns)


def server_tools_table(result: DryRunResult) -> Table | None:
    """Server tools found in the requests' `tools`, and what the priced ones are expected to cost; None when no
    request carries one."""
    models = [model for model in result.models if _uses_server_tools(model.server_tools)]
    if not models:
        return None
    search = money_decimals(model.server_tools.web_search_usd_expected for model in models)
    code = money_decimals(model.server_tools.code_execution_usd for model in models)
    rows: list[dict[str, Cell]] = [
        {
            "Model": model.model_name,
            "Web search requests": model.server_tools.web_search_requests,
            "Searches": model.server_tools.web_searches_expected,
            "Searches high": model.server_tools.web_searches_high,
            "Web search cost": display_number(model.server_tools.web_search_usd_expected, search),
            "Web fetch requests": model.server_tools.web_fetch_requests,
            "Code execution requests": model.server_tools.code_execution_requests,
            "Free with web tools": model.server_tools.code_execution_free_requests,
            "Container hours": display_number(model.server_tools.code_execution_hours, 2),
            "Code execution cost": display_number(model.server_tools.code_execution_usd, code),
        }
        for model in models
    ]
    columns = {
        "Model": text_column(),
        "Web search requests": count_column("Requests whose tools include web search"),
        "Searches": count_column("Expected searches (the assumption above), at most each tool's max_uses"),
        "Searches high": count_column("Searches if every request used its max_uses"),
        "Web search cost": money_column(search, "Expected search fees, the same in every mode"),
        "Web fetch requests": count_column("No fee: the fetched content is input, and cannot be counted offline"),
        "Code execution requests": count_column("Requests that pay container time"),
        "Free with web tools": count_column("Requests whose code execution is free alongside the dated web tools"),
        "Container hours": Column("number", "%,.2f", "Expected container-hours, each session at least the minimum"),
        "Code execution cost": money_column(code, "Container time; blank: no rate in the price table"),
    }
    return Table(rows, columns)


def _uses_server_tools(tools: ServerToolUse) -> bool:
    return bool(
        tools.web_search_requests
        or tools.web_fetch_requests
        or tools.code_execution_requests
        or tools.code_execution_free_requests
    )


def _range(low: int, high: int) -> str:
    return f"{format_tokens(low)} – {format_tokens(high)}"


PAGE_WORDS: dict[str, str | None] = {
    "--hit-rate": "the hit rate above",
    "--output-ratio": "Expected output above",
    "--thinking-ratio": "Expected thinking above",
    "--web-searches": None,
    "--code-execution-minutes": None,
}
"""The dry run states its assumptions with the CLI's flags; on this page, the inputs that set them (None: the
page has no input for it, and the flag is left out)."""


PAGE_PHRASES = (
    ("; --code-execution-minutes)", ")"),
    ("; --api counts them exactly", "; exact counts (an API key, then “Token counts” above) include them"),
)
"""Other places where the dry run's texts name a flag, each replaced whole (`page_text`)."""


def page_text(text: str) -> str:
    """A text of the dry run in this page's words: a flag becomes the input that sets it, or is left out."""
    for flag, words in PAGE_WORDS.items():
        if words is None:
            text = text.replace(f" ({flag})", "")
        else:
            text = text.replace(f"({flag})", f"({words})").replace(f"set {flag}", f"set {words}")
    for flag_words, page_words in PAGE_PHRASES:
        text = text.replace(flag_words, page_words)
    return text


def assumption_lines(result: DryRunResult) -> list[str]:
    """Every assumption the costs rest on, each naming the input of this page that changes it."""
    return [page_text(assumption) for assumption in result.assumptions]


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
    """The batches to submit; with several files, each names its file (a batch never spans two)."""
    several = _several_files(result)
    rows: list[dict[str, Cell]] = [
        {
            "Batch": item.index,
            **({"File": item.file} if several else {}),
            "First line": item.first_line,
            "Last line": item.last_line,
            "Requests": item.requests,
            "Size (MB)": round(item.bytes / 1e6, 1),
        }
        for item in result.split
    ]
    columns = {
        "Batch": count_column(),
        **({"File": text_column(width="medium")} if several else {}),
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
