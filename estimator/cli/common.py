"""What the subcommands share: the workload flags, dates, JSON/CSV output and the text table."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, TextIO

from estimator.planning import hit_rate_from_traffic
from estimator.report import CSV_COLUMNS
from estimator.workload import DEFAULT_HIT_RATE, Workload, workload_from
from pricing.text_table import render_text_table

__all__ = [
    "MAX_DEADLINE_S",
    "deadline_argument",
    "dump_csv",
    "dump_json",
    "parse_date",
    "text_table",
    "workload_arguments",
    "workload_from_args",
]

MAX_DEADLINE_S = 86_400.0
"""A day: longer than any count a batch needs (100,000 requests at 100 a minute take under 17 hours)."""


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a date; use YYYY-MM-DD") from None


def parse_deadline(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of seconds") from None
    if not 0 < seconds <= MAX_DEADLINE_S:  # also refuses NaN and infinities
        raise argparse.ArgumentTypeError(f"the deadline must be over 0 and at most {MAX_DEADLINE_S:,.0f} seconds")
    return seconds


def deadline_argument(parser: argparse.ArgumentParser, default_s: float) -> None:
    parser.add_argument(
        "--deadline",
        type=parse_deadline,
        default=default_s,
        metavar="SECONDS",
        help=f"with --api: stop counting after this long; counts not done fall back to offline (default {default_s:g})",
    )


def workload_arguments(parser: argparse.ArgumentParser, *, model_required: bool, with_requests: bool = True) -> None:
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
    group.add_argument("--as-of", type=parse_date, default=None, metavar="DATE", help="price date (default today)")
    group.add_argument("--geo", choices=("global", "us"), default="global", help="data residency")
    group.add_argument("--fast", action="store_true", help="fast mode on the real-time modes")
    group.add_argument("--web-searches", default="0", help="web searches per request")
    group.add_argument("--tool-use", choices=("off", "auto", "any"), default="off", help="tools on every request")


def workload_from_args(args: argparse.Namespace, *, model: str | None = None, requests: object = None) -> Workload:
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


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The first column names the row; the others are figures."""
    return render_text_table(headers, rows, right_aligned=range(1, len(headers)))


def dump_json(payload: Any, out: TextIO) -> None:
    json.dump(payload, out, indent=2)
    out.write("\n")


def dump_csv(rows: list[dict[str, str]], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
