"""Price a Claude API workload in every mode: real-time, cached, batch, batch + cached.

Examples:
  python -m estimator estimate --model claude-sonnet-4-6 --requests 1000 \\
      --prefix-tokens 3000 --input-tokens 5000 --output-tokens 1000 --hit-rate 0.85
  python -m estimator estimate ... --format json        exact decimal strings, for CI
  python -m estimator estimate ... --requests-per-hour 120 --ttl 5m   hit rate from traffic
  python -m estimator compare --model claude-sonnet-4-6 --requests 1000 --input-tokens 5000
  python -m estimator breakeven --model claude-opus-5-5
  python -m estimator budget --budget-usd 500 --model claude-haiku-4-5 --input-tokens 2000 --output-tokens 300
  python -m estimator dry-run requests.jsonl                 validate, count and price a batch file offline
  python -m estimator dry-run requests.jsonl --api --sample 200   scale by exact counts of a sample
  python -m estimator count --model claude-opus-5 prompt.txt  tokens of a text or a request (JSON)

Token figures are per request; --prefix-tokens is the shared, cacheable prefix (tools + system + shared
context), --input-tokens the unique input after it. Exit codes: 0 success, 1 dry-run found errors in the
file, 2 bad input (one-line error). An API key (ANTHROPIC_API_KEY) is used only with --api.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from estimator.costs import Estimate, estimate
from estimator.errors import EstimatorError
from estimator.format import format_percent, format_tokens, format_usd
from estimator.planning import (
    ModelComparison,
    break_even,
    budget,
    compare_models,
    hit_rate_from_traffic,
)
from estimator.report import (
    CSV_COLUMNS,
    break_even_to_dict,
    budget_to_dict,
    comparison_rows,
    comparison_to_dict,
    estimate_rows,
    estimate_to_dict,
)
from estimator.workload import DEFAULT_HIT_RATE, MODES, Workload, workload_from
from pricing import PricingError, load_price_table
from pricing.text_table import render_text_table

__all__ = ["main", "render_comparison", "render_estimate"]

_CATEGORY_LABELS = {
    "uncached_input": "Input (uncached)",
    "cache_write_5m": "Cache writes 5m",
    "cache_write_1h": "Cache writes 1h",
    "cache_read": "Cache reads",
    "output": "Output",
    "web_search": "Web search",
}


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        code: int = args.handler(args, out, err)
    except (EstimatorError, PricingError) as error:
        print(f"error: {error}", file=err)
        return 2
    except BrokenPipeError:
        return 0
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m estimator", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    one = commands.add_parser("estimate", help="one workload in every mode")
    _workload_arguments(one, model_required=True)
    one.add_argument("--format", choices=("table", "json", "csv"), default="table")
    one.set_defaults(handler=_cmd_estimate)

    many = commands.add_parser("compare", help="one workload across models, cheapest first")
    _workload_arguments(many, model_required=False)
    many.add_argument("--models", default=None, help="comma-separated ids (default: every current model)")
    many.add_argument("--include-retired", action="store_true")
    many.add_argument(
        "--tokens-measured-for",
        choices=("legacy", "2026"),
        default=None,
        help="tokenizer generation the token figures were measured with (default: that of --model)",
    )
    many.add_argument("--format", choices=("table", "json", "csv"), default="table")
    many.set_defaults(handler=_cmd_compare)

    even = commands.add_parser("breakeven", help="hit rate and reuses above which caching pays, per TTL")
    even.add_argument("--model", required=True)
    even.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    even.add_argument("--batch", action="store_true", help="use batch rates (same ratios)")
    even.add_argument("--format", choices=("table", "json"), default="table")
    even.set_defaults(handler=_cmd_breakeven)

    money = commands.add_parser("budget", help="the most requests each mode affords within a budget")
    money.add_argument("--budget-usd", required=True, help="e.g. 500 or 1250.50")
    _workload_arguments(money, model_required=True, with_requests=False)
    money.add_argument("--format", choices=("table", "json"), default="table")
    money.set_defaults(handler=_cmd_budget)

    from estimator.dry_run_cli import add_count_command, add_dry_run_command

    add_dry_run_command(commands)
    add_count_command(commands)
    return parser


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _workload_arguments(parser: argparse.ArgumentParser, *, model_required: bool, with_requests: bool = True) -> None:
    group = parser.add_argument_group("workload (token figures are per request)")
    group.add_argument("--model", required=model_required, help="model id, alias or name")
    if with_requests:
        group.add_argument("--requests", default="1", help="requests per period (default 1)")
    group.add_argument("--period", default="run", help="label for the period: run, day, week, month")
    group.add_argument("--prefix-tokens", default="0", help="shared cacheable prefix (tools + system + context)")
    group.add_argument("--input-tokens", default="0", help="unique input after the prefix")
    group.add_argument("--output-tokens", default="0")
    hits = group.add_mutually_exclusive_group()
    hits.add_argument("--hit-rate", default=None, help=f"cache hit rate 0..1 (default {DEFAULT_HIT_RATE})")
    hits.add_argument(
        "--requests-per-hour",
        default=None,
        help="derive the hit rate from steady traffic (Poisson arrivals): 1 − e^(−rate·TTL)",
    )
    group.add_argument("--ttl", choices=("5m", "1h"), default="5m", help="cache TTL (default 5m)")
    group.add_argument("--as-of", type=_date, default=None, metavar="DATE", help="price date (default today)")
    group.add_argument("--geo", choices=("global", "us"), default="global", help="data residency")
    group.add_argument("--fast", action="store_true", help="fast mode on the real-time modes")
    group.add_argument("--web-searches", default="0", help="web searches per request")
    group.add_argument("--tool-use", choices=("off", "auto", "any"), default="off", help="tools on every request")


def _workload(args: argparse.Namespace, *, model: str | None = None, requests: object = None) -> Workload:
    hit_rate: object = args.hit_rate if args.hit_rate is not None else DEFAULT_HIT_RATE
    if args.requests_per_hour is not None:
        hit_rate = hit_rate_from_traffic(args.requests_per_hour, args.ttl)
    return workload_from(
        model=model or args.model,
        requests=requests if requests is not None else args.requests,
        period=args.period,
        prefix_tokens=args.prefix_tokens,
        unique_input_tokens=args.input_tokens,
        output_tokens=args.output_tokens,
        cache_hit_rate=hit_rate,
        cache_ttl=args.ttl,
        as_of=args.as_of,
        geo=args.geo,
        fast=args.fast,
        web_searches_per_request=args.web_searches,
        tool_use=args.tool_use,
        tokens_measured_for=getattr(args, "tokens_measured_for", None),
    )


def _cmd_estimate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    result = estimate(_workload(args))
    if args.format == "json":
        _dump_json(estimate_to_dict(result), out)
    elif args.format == "csv":
        _dump_csv(estimate_rows(result), out)
    else:
        out.write(render_estimate(result))
    return 0


def render_estimate(result: Estimate) -> str:
    w = result.workload
    lines = [
        f"{result.model_name} ({result.model_id}), prices as of {result.as_of} "
        f"(in effect since {result.prices_effective_from})",
        f"{format_tokens(w.requests)} requests per {w.period}; per request: prompt "
        f"{format_tokens(result.prompt_tokens)} tokens ({format_tokens(result.cacheable_prefix_tokens)} cacheable "
        f"prefix), output {format_tokens(w.output_tokens)}; cache hit rate "
        f"{format_percent(w.cache_hit_rate * 100)}, TTL {w.cache_ttl}"
        + (", US data residency" if w.geo == "us" else "")
        + (", fast mode" if w.fast else ""),
        "",
    ]
    headers = ["Mode", "Total", "Per request", "Savings", "Savings %", "Rank"]
    rows = []
    for mode in result.modes:
        if not mode.available:
            rows.append([mode.mode, "n/a", "", "", "", mode.unavailable_reason or ""])
            continue
        rows.append(
            [
                mode.mode,
                format_usd(mode.total_usd),
                format_usd(mode.per_request_usd),
                format_usd(mode.savings_usd),
                format_percent(mode.savings_pct),
                str(mode.rank),
            ]
        )
    lines.append(_table(headers, rows))
    lines.append("")
    lines.append("Breakdown per " + w.period + ":")
    available = [m for m in result.modes if m.available]
    breakdown_rows = (
        [
            [_CATEGORY_LABELS[line.category], *[format_usd(m.line(line.category).usd) for m in available]]
            for line in available[0].lines
        ]
        if available
        else []
    )
    lines.append(_table(["Category", *[m.mode for m in available]], breakdown_rows))
    if result.warnings:
        lines.append("")
        for warning in result.warnings:
            mark = "!" if warning.severity == "warning" else "i"
            lines.append(f"{mark} {warning.message}")
    lines.append("")
    lines.append("Rounded for reading; `--format json` gives the exact figures.")
    return "\n".join(lines) + "\n"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The first column names the row; the others are figures."""
    return render_text_table(headers, rows, right_aligned=range(1, len(headers)))


def _cmd_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    table = load_price_table()
    names = [name.strip() for name in args.models.split(",") if name.strip()] if args.models else None
    base_model = args.model or (names[0] if names else "claude-sonnet-4-6")
    workload = _workload(args, model=base_model)
    results = compare_models(workload, names, include_retired=args.include_retired, table=table)
    if args.format == "json":
        _dump_json(comparison_to_dict(results), out)
    elif args.format == "csv":
        _dump_csv(comparison_rows(results), out)
    else:
        out.write(render_comparison(results))
    return 0


def render_comparison(results: Sequence[ModelComparison]) -> str:
    headers = ["Model", "Status", *MODES, "Cheapest", "Tokens"]
    rows = []
    for item in results:
        if item.estimate is None:
            rows.append([item.model_id, item.status, *["n/a"] * len(MODES), "", item.error or ""])
            continue
        cells = []
        for mode in MODES:
            cost = item.estimate.mode(mode)
            cells.append(format_usd(cost.total_usd) if cost.available else "n/a")
        tokens = "as measured"
        if item.scale is not None and item.scale.converts:
            tokens = f"×{item.scale.expected:.2f} ({item.scale.source}→{item.scale.target})"
        cheapest = item.estimate.ranking[0].mode if item.estimate.ranking else ""
        rows.append([item.model_id, item.status, *cells, cheapest, tokens])
    text = _table(headers, rows) + "\n"
    if any(item.scale is not None and item.scale.converts for item in results):
        text += (
            "\nToken figures were converted between tokenizer generations (the 2026 tokenizer of Opus 4.7 and "
            "later counts ~1.3x, 1.0–1.35x, the legacy count); `--format json` gives each model's low/high range.\n"
        )
    return text


def _cmd_breakeven(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    table = load_price_table()
    model = table.model(args.model)
    day = args.as_of or dt.date.today()
    results = break_even(model.id, as_of=day, batch=args.batch, table=table)
    if args.format == "json":
        _dump_json(break_even_to_dict(model.id, day.isoformat(), results), out)
        return 0
    out.write(f"{model.name}: when prompt caching pays ({'batch' if args.batch else 'real-time'} rates, {day})\n")
    for item in results:
        out.write(
            f"  {item.ttl} TTL: write {item.write_mtok} / read {item.read_mtok} vs input {item.input_mtok} per MTok; "
            f"pays above a {format_percent(item.hit_rate * 100)} hit rate, or after {item.reads_to_pay_off} "
            f"cache read{'s' if item.reads_to_pay_off != 1 else ''} per write\n"
        )
    return 0


def _cmd_budget(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    workload = _workload(args, requests=1)
    results = budget(workload, args.budget_usd)
    if args.format == "json":
        _dump_json(budget_to_dict(args.budget_usd, results), out)
        return 0
    out.write(f"Within ${args.budget_usd} on {workload.model}:\n")
    for item in results:
        if item.unavailable_reason:
            out.write(f"  {item.mode:<16} n/a ({item.unavailable_reason})\n")
        elif item.unlimited:
            out.write(f"  {item.mode:<16} unlimited (this workload costs nothing per request)\n")
        else:
            out.write(
                f"  {item.mode:<16} {format_tokens(item.max_requests or 0):>16} requests "
                f"at {format_usd(item.per_request_usd)} each ({format_usd(item.total_usd)})\n"
            )
    return 0


def _dump_json(payload: Any, out: TextIO) -> None:
    json.dump(payload, out, indent=2)
    out.write("\n")


def _dump_csv(rows: list[dict[str, str]], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
