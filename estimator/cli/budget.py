"""`budget`: the most requests each mode affords within a budget."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from estimator.cli.common import dump_json, workload_arguments, workload_from_args
from estimator.format import format_tokens, format_usd
from estimator.planning import budget
from estimator.report import budget_to_dict

__all__ = ["add_budget_command"]


def add_budget_command(commands: Any) -> None:
    money = commands.add_parser("budget", help="the most requests each mode affords within a budget")
    money.add_argument("--budget-usd", required=True, help="e.g. 500 or 1250.50")
    workload_arguments(money, model_required=True, with_requests=False)
    money.add_argument("--format", choices=("table", "json"), default="table")
    money.set_defaults(handler=_cmd_budget)


def _cmd_budget(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    workload = workload_from_args(args, requests=1)
    results = budget(workload, args.budget_usd)
    if args.format == "json":
        dump_json(budget_to_dict(args.budget_usd, results), out)
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
