"""`budget`: the most requests each mode affords within a budget."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from estimator.cli.common import dump_json, overrides_argument, table_from_args, workload_arguments, workload_from_args
from estimator.costs import prepare
from estimator.errors import InvalidWorkloadError
from estimator.format import decimal_text, format_tokens, format_usd
from estimator.planning import budget
from estimator.report import budget_to_dict
from estimator.workload import to_decimal

__all__ = ["add_budget_command"]


def add_budget_command(commands: Any) -> None:
    money = commands.add_parser(
        "budget",
        help="the most requests each mode affords within a budget",
        description="How many requests of one workload each mode affords within a budget. The workload flags "
        "are those of `estimate`, without --requests: the number of requests is the answer.",
        allow_abbrev=False,
    )
    money.add_argument("--budget-usd", "--budget", dest="budget_usd", required=True, help="e.g. 500 or 1250.50")
    workload_arguments(money, model_required=True, with_requests=False)
    # Not a workload flag here: a user who passes it expects it to mean something, so it is refused by name.
    money.add_argument("--requests", default=None, help=argparse.SUPPRESS)
    overrides_argument(money)
    money.add_argument("--format", choices=("table", "json"), default="table")
    money.set_defaults(handler=_cmd_budget)


def _cmd_budget(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.requests is not None:
        raise InvalidWorkloadError(
            "budget works out the number of requests, so it takes no --requests; "
            "to price a given number of requests use `estimate --requests N`",
            field="requests",
        )
    limit = to_decimal(args.budget_usd, "budget_usd")
    workload = workload_from_args(args, requests=1)
    table = table_from_args(args)
    results = budget(workload, limit, table=table)
    prepared = prepare(workload, table)  # what the prices are: the channel, negotiated rates
    channel, negotiated = prepared.channel, prepared.negotiated
    if args.format == "json":
        dump_json(budget_to_dict(decimal_text(limit) or "0", results, channel=channel, negotiated=negotiated), out)
        return 0
    out.write(f"Within {format_usd(limit)} per {workload.period} on {workload.model}:\n")
    if channel is not None and channel.set_by_partner:
        out.write(f"  {channel.basis}\n")
    if negotiated is not None:
        out.write(f"  {negotiated.sentence[0].upper()}{negotiated.sentence[1:]}.\n")
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
