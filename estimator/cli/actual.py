"""`actual`: price what Claude really billed — batch results, responses, Admin usage and cost reports."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TextIO

from estimator.cli.common import dump_json, parse_date
from estimator.errors import EstimatorError
from estimator.format import count_noun, format_percent, format_tokens, format_usd
from estimator.results import CATEGORIES
from estimator.usage.actuals import ActualCosts, actual_costs
from estimator.usage.admin_client import ADMIN_KEY_ENV
from estimator.usage.report import ACTUAL_CSV_COLUMNS, actual_costs_rows, actual_costs_to_dict
from pricing.text_table import render_text_table

__all__ = ["add_actual_command", "render_actual"]

_SHOWN_PROBLEMS = 50
_LABELS = {
    "uncached_input": "uncached input",
    "cache_write_5m": "cache writes (5m)",
    "cache_write_1h": "cache writes (1h)",
    "cache_read": "cache reads",
    "output": "output (thinking included)",
    "web_search": "web search",
    "thinking": "thinking (inside output)",
    "code_execution": "code execution",
}

EPILOG = """examples:
  python -m estimator actual results.jsonl --as-of 2026-11-20        a Message Batches results file
  python -m estimator actual responses.jsonl usage.json --model claude-sonnet-4-6   responses, bare usage
  python -m estimator actual results.jsonl --what-if-model claude-haiku-4-5 --format json
  python -m estimator actual usage_report.json --cost-report cost_report.json    ours beside Anthropic's
  ANTHROPIC_ADMIN_KEY=... python -m estimator actual --admin-from 2026-11-01 --admin-to 2026-11-30

Files may be JSONL, a JSON array or one JSON document, in any mix: each record is read by its shape.
Exit codes: 0 every record priced, 1 some records could not be priced (listed), 2 a file cannot be read.
The Admin key is read from the environment only (never a flag: it would show in the process list)."""


def add_actual_command(commands: Any) -> None:
    parser = commands.add_parser(
        "actual",
        help="price real usage: batch results, responses, Admin usage/cost reports",
        description="Price what Claude really billed, exactly, at each record's date: per model, category and "
        "day, with what-ifs in the other modes and on another model, and Anthropic's own cost report beside it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("files", nargs="*", type=Path, help="results / responses / usage / report files")
    parser.add_argument("--model", default=None, help="model of bare usage objects (they name none)")
    parser.add_argument(
        "--as-of", type=parse_date, default=None, metavar="DATE", help="date of undated records (default today)"
    )
    parser.add_argument("--what-if-model", default=None, metavar="MODEL", help="also price the usage on this model")
    parser.add_argument(
        "--cost-report", action="append", type=Path, default=[], metavar="FILE", help="a saved cost report page"
    )
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.add_argument(
        "--engine",
        choices=("auto", "python", "duckdb", "spark"),
        default="auto",
        help="who prices: the Python pricer, DuckDB (bulk extra) or Spark (spark extra); auto picks DuckDB for "
        "Parquet/CSV or large inputs when it is installed (same figures either way)",
    )
    admin = parser.add_argument_group("fetch the reports with an Admin key")
    admin.add_argument("--admin-from", type=parse_date, default=None, metavar="DATE", help="first day to fetch")
    admin.add_argument("--admin-to", type=parse_date, default=None, metavar="DATE", help="last day (default today)")
    admin.add_argument("--admin-api", choices=("legacy", "analytics"), default="legacy", help="report endpoints")
    admin.add_argument(
        "--admin-key-env", default=ADMIN_KEY_ENV, metavar="NAME", help=f"variable holding the key ({ADMIN_KEY_ENV})"
    )
    admin.add_argument("--admin-base-url", default=None, metavar="URL", help=argparse.SUPPRESS)
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None)
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    parser.set_defaults(handler=_cmd_actual)


def _cmd_actual(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if not args.files and args.admin_from is None:
        raise EstimatorError("give usage files, or --admin-from DATE to fetch the reports with an Admin key")
    show_progress = args.progress if args.progress is not None else err.isatty()
    sources: list[Any] = list(args.files)
    reports: list[Any] = list(args.cost_report)
    if args.admin_from is not None:
        fetched = _fetch(args, err if show_progress else None)
        sources += list(fetched.usage_pages)
        reports += list(fetched.cost_pages)
    engine = _engine(args)
    on_progress = _progress_bar(err) if show_progress else None
    if engine == "python":
        result = actual_costs(
            sources,
            model=args.model,
            as_of=args.as_of,
            what_if_model=args.what_if_model,
            cost_reports=reports,
            on_progress=on_progress,
        )
    else:
        from estimator.bulk import price_files_bulk  # duckdb / pyspark load only when asked for

        result = price_files_bulk(
            args.files, engine=engine, model=args.model, as_of=args.as_of, on_progress=on_progress
        )
    if show_progress:
        err.write("\n")
    if args.format == "json":
        dump_json(actual_costs_to_dict(result), out)
    elif args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=list(ACTUAL_CSV_COLUMNS), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(actual_costs_rows(result))
    else:
        out.write(render_actual(result))
    return 0 if result.fully_priced else 1


def _engine(args: argparse.Namespace) -> Literal["python", "duckdb", "spark"]:
    python_only = [
        flag
        for flag, given in (
            ("--admin-from", args.admin_from is not None),
            ("--cost-report", bool(args.cost_report)),
            ("--what-if-model", args.what_if_model is not None),
        )
        if given
    ]
    if args.engine == "auto":
        if python_only:
            return "python"
        from estimator.bulk import choose_engine

        return choose_engine(args.files)
    if args.engine != "python" and python_only:
        raise EstimatorError(
            f"--engine {args.engine} prices usage files only; {', '.join(python_only)} need --engine python"
        )
    engine: Literal["python", "duckdb", "spark"] = args.engine
    return engine


def _fetch(args: argparse.Namespace, err: TextIO | None) -> Any:
    from estimator.usage.admin_client import fetch_reports

    key = os.environ.get(args.admin_key_env, "").strip()
    if not key:
        raise EstimatorError(f"--admin-from needs an Admin key in the environment variable {args.admin_key_env}")

    def progress(report: str, done: int, total: int) -> None:
        if err is not None:
            err.write(f"\rfetching the {report} report: {done}/{total} windows of up to 31 days   ")
            err.flush()

    return fetch_reports(
        args.admin_from,
        args.admin_to or dt.date.today(),
        api=args.admin_api,
        admin_key=key,
        base_url=args.admin_base_url,
        on_progress=progress,
    )


def _progress_bar(err: TextIO) -> Callable[[int, int], None]:
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and done < total:
            return
        last[0] = now
        share = done / total if total else 1.0
        err.write(f"\rreading [{'#' * int(share * 30):<30}] {share:6.1%} {done / 1e6:,.0f}/{total / 1e6:,.0f} MB   ")
        err.flush()

    return show


def render_actual(result: ActualCosts) -> str:
    requests = result.requests
    lines = [
        f"Actual cost: {format_usd(result.total_usd)}  (exact: ${result.total_usd})",
        f"Requests: {requests['succeeded']:,} succeeded, {requests['errored']:,} errored, "
        f"{requests['canceled']:,} canceled, {requests['expired']:,} expired (only succeeded ones are billed)",
        f"Records: {result.priced_records:,} priced, {result.unpriced_records:,} not priced",
    ]
    if result.hit_rate is not None:
        lines.append(
            f"Cache: {format_percent(result.hit_rate * 100)} of cached-prefix tokens read from the cache "
            f"({format_tokens(result.tokens.cache_read_tokens)} read, "
            f"{format_tokens(result.tokens.cache_write_tokens)} written)"
        )
    if result.output_tokens_per_request is not None:
        lines.append(f"Output per request: {format_tokens(result.output_tokens_per_request)} tokens")
    lines += ["", "Per model:"]
    header = ["Model", "Requests", *(_LABELS[c] for c in CATEGORIES), "Total"]
    rows = [
        [m.model_id, format_tokens(m.requests), *(format_usd(m.usd[c]) for c in CATEGORIES), format_usd(m.total_usd)]
        for m in result.models
    ]
    rows.append(
        [
            "total",
            format_tokens(result.tokens.requests),
            *(format_usd(result.categories[c].usd) for c in CATEGORIES),
            format_usd(result.total_usd),
        ]
    )
    lines.append(render_text_table(header, rows, right_aligned=range(1, len(header))))
    lines += ["", "Tokens per category:"]
    lines.append(
        render_text_table(
            ["Category", "Tokens", "Cost"],
            [
                [_LABELS[c], format_tokens(result.categories[c].tokens), format_usd(result.categories[c].usd)]
                for c in CATEGORIES
            ],
            right_aligned=(1, 2),
        )
    )
    if len(result.days) > 1:
        lines += ["", "Per day:"]
        lines.append(
            render_text_table(
                ["Date", "Cost"],
                [[d.day.isoformat(), format_usd(d.total_usd)] for d in result.days],
                right_aligned=(1,),
            )
        )
    lines += ["", "What the same usage would have cost:"]
    what_if_rows = []
    for item in result.what_if:
        figure = format_usd(item.total_usd) if item.total_usd is not None else f"not priced ({item.reason})"
        what_if_rows.append([item.mode + (" (as billed)" if item.billed else ""), figure])
    if result.what_if_model is not None:
        other = result.what_if_model
        figure = (
            f"{format_usd(other.low_usd)} – {format_usd(other.expected_usd)} – {format_usd(other.high_usd)}"
            if other.available
            else f"not priced ({other.unavailable_reason})"
        )
        what_if_rows.append([f"on {other.model_id} (low – expected – high)", figure])
    lines.append(render_text_table(["As", "Cost"], what_if_rows, right_aligned=(1,)))
    if result.what_if_model is not None and result.what_if_model.available:
        lines.append(f"  token conversion: {result.what_if_model.scale_note}")
    if result.cost_report is not None:
        lines += ["", "Against Anthropic's cost report:"]
        report = result.cost_report
        rows = [
            [
                row.day.isoformat(),
                row.model_id or "(day total)",
                format_usd(row.ours_usd),
                format_usd(row.reported_usd),
                format_usd(row.difference_usd),
            ]
            for row in report.rows
        ]
        lines.append(
            render_text_table(["Date", "Model", "Ours", "Reported", "Difference"], rows, right_aligned=(2, 3, 4))
        )
        verdict = "matches to the cent" if report.to_the_cent else f"differs by ${report.difference_usd}"
        lines.append(f"  total: ours ${report.ours_total_usd}, reported ${report.reported_total_usd}: {verdict}")
        lines += [f"  i {note}" for note in report.notes]
    lines += [""] + [f"i {note}" for note in result.notes] if result.notes else []
    if result.problems:
        errors = len(result.errors)
        lines += [
            "",
            f"Problems: {count_noun(errors, 'error')}, {count_noun(len(result.problems) - errors, 'warning')}",
        ]
        lines += [f"  {problem.text()}" for problem in result.problems[:_SHOWN_PROBLEMS]]
        hidden = len(result.problems) - _SHOWN_PROBLEMS + result.problems_not_listed
        if hidden > 0:
            lines.append(f"  ... {hidden:,} more (--format json lists up to 1,000)")
    lines += ["", "Rounded for reading; `--format json` gives the exact figures."]
    return "\n".join(lines) + "\n"
