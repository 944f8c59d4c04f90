"""`dry-run`: validate, count and price Message Batches files before sending them."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TextIO

from estimator.batches.dry_run import (
    BATCH_FILE_SUFFIXES,
    DEFAULT_OUTPUT_RATIO,
    DEFAULT_THINKING_RATIO,
    DEFAULT_WEB_SEARCHES,
    MAX_SAMPLE_SIZE,
    DryRunResult,
    analyze_batch_files,
    batch_files_in,
)
from estimator.batches.report import dry_run_to_dict
from estimator.batches.validation import LineProblem
from estimator.cli.common import deadline_argument, parse_date
from estimator.errors import EstimatorError
from estimator.format import count_noun, format_tokens, format_usd
from estimator.tokens.exact import DEFAULT_DEADLINE_S
from estimator.workload import DEFAULT_HIT_RATE, MODES
from pricing.text_table import render_text_table

__all__ = ["add_dry_run_command", "render_dry_run"]

_SHOWN_PROBLEMS = 50
_PROGRESS_MIN_BYTES = 8_000_000


def add_dry_run_command(commands: Any) -> None:
    parser = commands.add_parser(
        "dry-run",
        help="validate, count and price Message Batches files before sending them",
        description="Validate Message Batches files like the API would, count their tokens and price them in every "
        "mode: one report for all the files given (per file and in total) and one split plan. Exit 0 when every "
        "file is valid, 1 when one has errors, 2 when one cannot be read.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="JSONL (one {custom_id, params} per line), a JSON array, - for standard input, or a directory (its "
        f"{', '.join(BATCH_FILE_SUFFIXES)} files)",
    )
    parser.add_argument(
        "--hit-rate",
        default=DEFAULT_HIT_RATE,
        help=f"chance a repeated cached prefix is read (default {DEFAULT_HIT_RATE})",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--output-ratio",
        default=None,
        help=f"expected output as a share of max_tokens (default {DEFAULT_OUTPUT_RATIO})",
    )
    output.add_argument("--output-tokens", default=None, help="expected output tokens per request")
    parser.add_argument(
        "--thinking-ratio",
        default=None,
        help="expected thinking as a share of budget_tokens (adaptive: of the max_tokens left after the visible "
        f"output), for requests that think (default {DEFAULT_THINKING_RATIO})",
    )
    parser.add_argument(
        "--web-searches",
        default=None,
        help=f"expected web searches per request carrying the web search tool, at most its max_uses "
        f"(default {DEFAULT_WEB_SEARCHES})",
    )
    parser.add_argument(
        "--code-execution-minutes",
        default=None,
        help="container minutes per request carrying the code-execution tool (default: the minimum session)",
    )
    parser.add_argument("--as-of", type=parse_date, default=None, metavar="DATE")
    parser.add_argument("--api", action="store_true", help="exact counts with count_tokens (needs ANTHROPIC_API_KEY)")
    parser.add_argument(
        "--sample",
        type=int,
        default=200,
        metavar="N",
        help="with --api: count N random requests per model exactly and scale (default 200); 0 counts every request",
    )
    deadline_argument(parser, DEFAULT_DEADLINE_S)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None)
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    parser.set_defaults(handler=_cmd_dry_run)


def _cmd_dry_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if not 0 <= args.sample <= MAX_SAMPLE_SIZE:
        raise EstimatorError(f"--sample must be 0 (count every request) to {MAX_SAMPLE_SIZE:,}")
    exact: Literal["none", "sample", "all"] = "none" if not args.api else ("all" if args.sample == 0 else "sample")
    show_progress = args.progress if args.progress is not None else err.isatty()
    result = analyze_batch_files(
        batch_files_in(args.files),
        hit_rate=args.hit_rate,
        output_ratio=args.output_ratio,
        output_tokens=args.output_tokens,
        thinking_ratio=args.thinking_ratio,
        web_searches=args.web_searches,
        code_execution_minutes=args.code_execution_minutes,
        as_of=args.as_of,
        exact=exact,
        sample_size=args.sample or 200,
        deadline_s=args.deadline,
        on_progress=_progress_bar(err) if show_progress else None,
    )
    if show_progress:
        err.write("\n")
    if args.format == "json":
        json.dump(dry_run_to_dict(result), out, indent=2)
        out.write("\n")
    else:
        out.write(render_dry_run(result))
    return 1 if result.errors else 0


def _progress_bar(err: TextIO) -> Callable[[str, int, int], None]:
    last = [0.0]

    def show(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and done < total:
            return
        last[0] = now
        share = done / total if total else 1.0
        bar = "#" * int(share * 30)
        unit = f"{done / 1e6:,.0f}/{total / 1e6:,.0f} MB" if stage == "reading" else f"{done:,}/{total:,} requests"
        err.write(f"\r{stage:<8} [{bar:<30}] {share:6.1%} {unit}   ")
        err.flush()

    return show


def render_dry_run(result: DryRunResult) -> str:
    errors = sum(p.count for p in result.errors)
    warnings = sum(p.count for p in result.problems) - errors
    several = len(result.files) > 1
    lines = [
        f"Dry run of {result.source_name}: {count_noun(result.lines, 'line')}, "
        f"{count_noun(result.requests, 'valid request')}, {count_noun(result.invalid_lines, 'invalid line')}, "
        f"{result.bytes_read / 1e6:,.1f} MB",
        "Assumptions:",
        *(f"  - {text}" for text in result.assumptions or (result.output_assumption,)),
    ]
    if several:
        lines += ["", "Per file (expected cost):", _files_table(result)]
    lines += ["", "Per model:", _models_table(result)]
    lines += _media_and_tools_lines(result)
    lines += ["", "Cost (low / expected / high):"]
    cost_rows = []
    for model in result.models:
        cost_rows.append([model.model_id, *[_range_text(model.cost(mode)) for mode in MODES]])
    cost_rows.append(["total", *[_range_text(result.total(mode)) for mode in MODES]])
    lines.append(render_text_table(["Model", *MODES], cost_rows))
    if result.needs_split or several:
        lines += ["", f"Split plan ({count_noun(len(result.split), 'batch', 'batches')}):"]
        lines += [
            f"  batch {s.index}: {s.file + ' ' if s.file else ''}lines {s.first_line:,}–{s.last_line:,}, "
            f"{count_noun(s.requests, 'request')}, {s.bytes / 1e6:,.1f} MB"
            for s in result.split
        ]
    for note in result.notes:
        lines.append(f"i {note}")
    if result.problems:
        lines += ["", f"Problems: {count_noun(errors, 'error')}, {count_noun(warnings, 'warning')}"]
        for problem in result.problems[:_SHOWN_PROBLEMS]:
            lines.append(_problem_text(problem, several))
        if len(result.problems) > _SHOWN_PROBLEMS:
            lines.append(f"  ... {len(result.problems) - _SHOWN_PROBLEMS:,} more entries (--format json lists them)")
    lines += ["", "Rounded for reading; `--format json` gives the exact figures."]
    return "\n".join(lines) + "\n"


def _files_table(result: DryRunResult) -> str:
    rows = [
        [
            f.name,
            format_tokens(f.requests),
            format_tokens(f.invalid_lines),
            f"{f.bytes_read / 1e6:,.1f}",
            *[format_usd(f.total(mode).expected_usd) if f.total(mode).available else "n/a" for mode in MODES],
        ]
        for f in result.files
    ]
    rows.append(
        [
            "total",
            format_tokens(result.requests),
            format_tokens(result.invalid_lines),
            f"{result.bytes_read / 1e6:,.1f}",
            *[format_usd(result.total(mode).expected_usd) if result.total(mode).available else "n/a" for mode in MODES],
        ]
    )
    return render_text_table(["File", "Requests", "Invalid lines", "MB", *MODES], rows)


def _models_table(result: DryRunResult) -> str:
    thinking = any(m.thinking_requests for m in result.models)
    header = ["Model", "Requests", "Input tokens (low / expected / high)", "Cached prefix", "Output (exp / max)"]
    header += ["Thinking (exp, in output)"] if thinking else []
    rows = []
    for m in result.models:
        row = [
            m.model_id,
            format_tokens(m.requests),
            f"{format_tokens(m.input_tokens_low)} / {format_tokens(m.input_tokens_expected)} / "
            f"{format_tokens(m.input_tokens_high)}",
            f"{format_tokens(m.cacheable_tokens)} ({m.distinct_prefixes:,} distinct)",
            f"{format_tokens(m.output_tokens_expected)} / {format_tokens(m.output_tokens_max)}",
        ]
        if thinking:
            row.append(f"{format_tokens(m.thinking_tokens_expected)} ({count_noun(m.thinking_requests, 'request')})")
        rows.append([*row, m.count_detail])
    return render_text_table([*header, "Count"], rows)


def _media_and_tools_lines(result: DryRunResult) -> list[str]:
    lines = []
    for m in result.models:
        tools = m.server_tools
        if tools.web_search_requests:
            lines.append(
                f"  {m.model_id}: web search in {count_noun(tools.web_search_requests, 'request')}, "
                f"~{tools.web_searches_expected:,} searches (up to {tools.web_searches_high:,}), "
                f"{format_usd(tools.web_search_usd_expected)}"
            )
        if tools.web_fetch_requests:
            lines.append(
                f"  {m.model_id}: web fetch in {count_noun(tools.web_fetch_requests, 'request')} "
                "(billed as input tokens)"
            )
        if tools.code_execution_requests:
            cost = format_usd(tools.code_execution_usd) if tools.code_execution_usd is not None else "not priced"
            lines.append(
                f"  {m.model_id}: code execution in {count_noun(tools.code_execution_requests, 'request')}, "
                f"{tools.code_execution_hours:,.2f} container-hours, {cost}"
            )
        if tools.code_execution_free_requests:
            lines.append(
                f"  {m.model_id}: code execution free in "
                f"{count_noun(tools.code_execution_free_requests, 'request')} (alongside web search / web fetch)"
            )
    return lines


def _problem_text(problem: LineProblem, with_file: bool = False) -> str:
    who = f" ({problem.custom_id})" if problem.custom_id else ""
    where = f"{problem.file} line" if with_file and problem.file else "line"
    return f"  {where} {problem.line:,}{who} [{problem.severity}] {problem.code}: {problem.message}"


def _range_text(item: Any) -> str:
    if not item.available:
        return "n/a"
    return f"{format_usd(item.low_usd)} / {format_usd(item.expected_usd)} / {format_usd(item.high_usd)}"
