"""`breakeven`: the hit rate and reuses above which caching pays, per TTL."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any, TextIO

from estimator.cli.common import dump_json, parse_date
from estimator.format import format_percent
from estimator.planning import break_even, lifecycle_warnings
from estimator.report import break_even_to_dict
from pricing import load_price_table

__all__ = ["add_breakeven_command"]


def add_breakeven_command(commands: Any) -> None:
    even = commands.add_parser(
        "breakeven", help="hit rate and reuses above which caching pays, per TTL", allow_abbrev=False
    )
    even.add_argument("--model", required=True)
    even.add_argument("--as-of", type=parse_date, default=None, metavar="DATE")
    even.add_argument("--batch", action="store_true", help="use batch rates (same ratios)")
    even.add_argument("--format", choices=("table", "json"), default="table")
    even.set_defaults(handler=_cmd_breakeven)


def _cmd_breakeven(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    table = load_price_table()
    model = table.model(args.model)
    day = args.as_of or dt.date.today()
    results = break_even(model.id, as_of=day, batch=args.batch, table=table)
    # The same lifecycle warnings as `estimate`: a date before the release prices the launch rates.
    warnings = lifecycle_warnings(model.id, day, table=table)
    if args.format == "json":
        payload = break_even_to_dict(model.id, day.isoformat(), results)
        payload["warnings"] = [
            {"code": w.code, "severity": w.severity, "field": w.field, "message": w.message} for w in warnings
        ]
        dump_json(payload, out)
        return 0
    out.write(f"{model.name}: when prompt caching pays ({'batch' if args.batch else 'real-time'} rates, {day})\n")
    for item in results:
        out.write(
            f"  {item.ttl} TTL: write {item.write_mtok} / read {item.read_mtok} vs input {item.input_mtok} per MTok; "
            f"pays above a {format_percent(item.hit_rate * 100)} hit rate, or after {item.reads_to_pay_off} "
            f"cache read{'s' if item.reads_to_pay_off != 1 else ''} per write\n"
        )
    for warning in warnings:
        out.write(f"{'!' if warning.severity == 'warning' else 'i'} {warning.message}\n")
    return 0
