"""What the subcommands share: the workload flags, negotiated rates and currency flags, dates, JSON/CSV output and
the text table."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any, TextIO

from estimator.costs import priced_table
from estimator.currency import ExchangeRates, load_exchange_rates
from estimator.errors import InvalidWorkloadError
from estimator.overrides import NegotiatedRates, load_overrides
from estimator.planning import hit_rate_from_traffic
from estimator.report import CSV_COLUMNS
from estimator.workload import CHANNELS, DEFAULT_HIT_RATE, Workload, shown, workload_from
from pricing import PriceTable, load_price_table
from pricing.text_table import render_text_table

__all__ = [
    "MAX_DEADLINE_S",
    "Currency",
    "currency_arguments",
    "currency_from_args",
    "deadline_argument",
    "dump_csv",
    "dump_json",
    "overrides_argument",
    "overrides_from_args",
    "parse_date",
    "table_from_args",
    "text_table",
    "workload_arguments",
    "workload_from_args",
]

Currency = tuple[ExchangeRates, str]
"""An exchange-rate file and the currency to show, from `--fx-rates` and `--currency`."""

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
    group.add_argument("--thinking-tokens", default="0", help="thinking per request (billed as output, shown apart)")
    group.add_argument("--web-fetches", default="0", help="web fetches per request (no fee; the content is input)")
    group.add_argument("--tokens-per-web-fetch", default="0", help="content one fetch brings in (10 kB ≈ 2,500)")
    group.add_argument(
        "--code-execution-sessions", default="0", help="code-execution container sessions per request (e.g. 1, 0.3)"
    )
    group.add_argument(
        "--code-execution-minutes", default="0", help="minutes per container session (billed at least the minimum)"
    )
    group.add_argument(
        "--code-execution-with-web-tools",
        action="store_true",
        help="the requests carry web_search/web_fetch 20260209 or later: code execution is free",
    )
    group.add_argument(
        "--channel",
        choices=CHANNELS,
        default="anthropic",
        help="where the tokens are bought: anthropic (Claude API), bedrock, vertex, foundry",
    )
    group.add_argument(
        "--endpoint",
        choices=("global", "regional"),
        default="global",
        help="a partner's global or regional endpoint (regional: +10%% where documented)",
    )


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
        thinking_tokens=args.thinking_tokens,
        web_fetches_per_request=args.web_fetches,
        tokens_per_web_fetch=args.tokens_per_web_fetch,
        code_execution_sessions_per_request=args.code_execution_sessions,
        code_execution_minutes_per_session=args.code_execution_minutes,
        code_execution_with_web_tools=args.code_execution_with_web_tools,
        channel=args.channel,
        endpoint=args.endpoint,
    )


def overrides_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overrides",
        default=None,
        metavar="FILE",
        help="negotiated rates (YAML: a discount per model/category or explicit rates, with dates) on top of the table",
    )


def overrides_from_args(args: argparse.Namespace, table: PriceTable | None = None) -> NegotiatedRates | None:
    path = getattr(args, "overrides", None)
    return None if path is None else load_overrides(path, table=table)


def table_from_args(args: argparse.Namespace) -> PriceTable:
    """The price table to use: the shipped one, with `--overrides` applied when given."""
    table = load_price_table()
    return priced_table(table, overrides_from_args(args, table))


def currency_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--currency", default=None, metavar="CODE", help="also show totals in this currency (EUR)")
    parser.add_argument(
        "--fx-rates",
        default=None,
        metavar="FILE",
        help="exchange rates, CSV 'date,currency,per_usd': figures convert at the rate of their as-of date",
    )


def currency_from_args(args: argparse.Namespace) -> Currency | None:
    code, path = args.currency, args.fx_rates
    if code is None and path is None:
        return None
    if code is None or path is None:
        missing = "--currency CODE" if code is None else "--fx-rates FILE"
        raise InvalidWorkloadError(f"showing another currency needs both --currency and --fx-rates; add {missing}")
    if not re.fullmatch(r"[A-Za-z]{3}", code):
        raise InvalidWorkloadError(f"--currency must be a three-letter code such as EUR, got {shown(code)}")
    rates = load_exchange_rates(path)
    rates.rate_on(code, dt.date.max)  # a currency the file lacks fails here, before any pricing
    return rates, code.upper()


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
