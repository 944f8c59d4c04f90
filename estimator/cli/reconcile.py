"""`reconcile`: a batch file's dry run against its results, and the values to use next time."""

from __future__ import annotations

import argparse
import csv
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from estimator.batches.dry_run import DEFAULT_OUTPUT_RATIO
from estimator.cli.common import dump_json, parse_date
from estimator.format import decimal_text, format_percent, format_tokens, format_usd
from estimator.usage.reconcile import Reconciliation, reconcile
from estimator.usage.report import RECONCILE_CSV_COLUMNS, reconciliation_rows, reconciliation_to_dict
from estimator.workload import DEFAULT_HIT_RATE
from pricing.text_table import render_text_table

__all__ = ["add_reconcile_command", "render_reconciliation"]

_SHOWN_REQUESTS = 20

EPILOG = """examples:
  python -m estimator reconcile requests.jsonl results.jsonl --as-of 2026-11-20
  python -m estimator reconcile requests.jsonl results.jsonl --hit-rate 0.8 --output-ratio 0.3 --format json

Give the --hit-rate and --output-ratio (or --output-tokens) the dry run used: the report checks them and
suggests the values the results support. Exit codes: 0 every result priced, 1 some results could not be priced
or the batch file has errors (listed), 2 a file cannot be read."""


def add_reconcile_command(commands: Any) -> None:
    parser = commands.add_parser(
        "reconcile",
        help="a batch file's dry-run estimate against its results, per request and in total",
        description="Join a Message Batches file with its results by custom_id: the dry run's low / expected / "
        "high against the actual cost, per request and in total, how often the actual fell inside the range, and "
        "the observed output ratio and hit rate as the values for the next dry run.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("requests", type=Path, help="the batch file that was submitted (JSONL of custom_id, params)")
    parser.add_argument("results", type=Path, help="its results file (JSONL of custom_id, result)")
    parser.add_argument(
        "--hit-rate", default=DEFAULT_HIT_RATE, help=f"the dry run's hit rate (default {DEFAULT_HIT_RATE})"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--output-ratio", default=None, help=f"the dry run's output ratio (default {DEFAULT_OUTPUT_RATIO})"
    )
    output.add_argument("--output-tokens", default=None, help="the dry run's output tokens per request")
    parser.add_argument(
        "--as-of", type=parse_date, default=None, metavar="DATE", help="the day the batch ran (default today)"
    )
    parser.add_argument("--totals-only", action="store_true", help="skip the per-request estimates (faster)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(handler=_cmd_reconcile)


def _cmd_reconcile(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    result = reconcile(
        args.requests,
        args.results,
        hit_rate=args.hit_rate,
        output_ratio=args.output_ratio,
        output_tokens=args.output_tokens,
        as_of=args.as_of,
        per_request=not args.totals_only,
    )
    if args.format == "json":
        dump_json(reconciliation_to_dict(result), out)
    elif args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=list(RECONCILE_CSV_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(reconciliation_rows(result))
    else:
        out.write(render_reconciliation(result))
    errors = [p for p in result.problems if p.severity == "error"]
    return 0 if result.actual.fully_priced and not errors else 1


def render_reconciliation(result: Reconciliation) -> str:
    total = result.total
    counts = result.by_result
    lines = [
        f"Reconciling {result.requests_source} with {result.results_source}",
        f"Results: {counts['succeeded']:,} succeeded, {counts['errored']:,} errored, {counts['canceled']:,} canceled, "
        f"{counts['expired']:,} expired; {result.matched:,} matched by custom_id",
        f"Dry-run assumptions checked: hit rate {format_percent(result.hit_rate * 100)}; {result.output_assumption}",
        "",
        f"Total ({total.mode}):",
    ]
    if total.expected_usd is None:
        lines.append(f"  estimate not priced: {total.unavailable_reason}")
    else:
        inside = "inside" if total.inside else "outside"
        lines += [
            f"  estimate {format_usd(total.low_usd)} – {format_usd(total.expected_usd)} – {format_usd(total.high_usd)}",
            f"  actual   {format_usd(total.actual_usd)} (exact ${total.actual_usd}): {inside} the range; "
            f"expected was off by {format_usd(total.error_usd)} ({format_percent(total.error_pct)})",
        ]
    if result.per_request:
        lines += [
            "",
            f"Per request: the actual fell inside its range for {format_percent(_pct(result.coverage))} of requests; "
            f"mean absolute error of the expected figure {format_percent(result.mean_absolute_error_pct)}",
        ]
        worst = sorted(
            (r for r in result.per_request if r.error_pct is not None), key=lambda r: -abs(r.error_pct or Decimal(0))
        )[:_SHOWN_REQUESTS]
        if worst:
            rows = [
                [r.custom_id, f"{format_usd(r.low_usd)} – {format_usd(r.expected_usd)} – {format_usd(r.high_usd)}",
                 format_usd(r.actual_usd), format_percent(r.error_pct), "yes" if r.inside else "no"]
                for r in worst
            ]  # fmt: skip
            lines.append(f"  largest errors (of {len(result.per_request):,}):")
            lines.append(
                render_text_table(["custom_id", "Estimate", "Actual", "Error", "Inside"], rows, right_aligned=(2, 3))
            )
    lines += ["", "For the next dry run:"]
    suggested = result.dry_run_parameters()
    if "output_ratio" in suggested:
        lines.append(f"  --output-ratio {decimal_text(suggested['output_ratio'])}  (observed output ÷ max_tokens)")
    if "hit_rate" in suggested:
        lines.append(
            f"  --hit-rate {decimal_text(suggested['hit_rate'])}  (reads ÷ repeated prefix tokens; observed share of "
            f"cached-prefix tokens read: {format_percent(_pct(result.observed_hit_rate))})"
        )
    try:
        plan = result.calibrated_workload()
        lines.append(
            f"  calibrated plan: {plan.model}, {format_tokens(plan.requests)} requests, prefix "
            f"{format_tokens(plan.prefix_tokens)} + input {format_tokens(plan.unique_input_tokens)} + output "
            f"{format_tokens(plan.output_tokens)} tokens, hit rate {format_percent(plan.cache_hit_rate * 100)}"
        )
    except ValueError:
        pass
    lines += [f"i {note}" for note in result.notes]
    if result.problems:
        lines += ["", "Problems:"]
        lines += [f"  {p.text()}" for p in result.problems[:50]]
    lines += ["", "Rounded for reading; `--format json` gives the exact figures."]
    return "\n".join(lines) + "\n"


def _pct(value: Any) -> Any:
    return None if value is None else value * 100
