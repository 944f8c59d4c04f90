"""`lock`: write a plan's costs as the baseline (`costs.lock.json`) that `check --baseline` holds it to."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from estimator.cli.check import load_from_args, plan_arguments
from estimator.errors import EstimatorError
from estimator.format import format_usd

__all__ = ["add_lock_command"]

DESCRIPTION = """\
Price every workload of a plan file and write the result as the baseline: each workload's exact cost in
every mode, the workload itself, the price rows used with their effective dates, the table's checked
date, the package version, the date and the reason. Commit it with the plan; a pull request that
changes it shows the new costs and the reason in its diff.

Examples:
  python -m estimator lock costs.yaml --reason "Support bot moves to Sonnet 4.6"
  python -m estimator lock costs.yaml --reason "Q1 baseline" --output ci/costs.lock.json

The lock is written next to the plan (costs.lock.json) unless --output says otherwise. Exit codes: 0
written, 2 a bad plan file or an empty reason."""


def add_lock_command(commands: Any) -> None:
    parser = commands.add_parser(
        "lock",
        help="write a plan's costs as the baseline lock file, with a reason",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    plan_arguments(parser)
    parser.add_argument("--reason", required=True, help="why these costs are accepted (kept in the lock)")
    parser.add_argument(
        "--output", type=Path, default=None, metavar="FILE", help="default: costs.lock.json beside the plan"
    )
    parser.set_defaults(handler=_cmd_lock)


def _cmd_lock(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from estimator.plans import lock_plan, write_lock

    if not args.reason.strip():
        raise EstimatorError('--reason is empty: say why these costs are accepted, e.g. --reason "Q1 baseline"')
    table, plan = load_from_args(args)
    lock = lock_plan(plan, reason=args.reason, as_of=args.as_of, table=table)
    target = write_lock(lock, args.output or args.plan.with_name("costs.lock.json"))
    out.write(
        f"wrote {target}: {len(lock.workloads)} workload{'s' if len(lock.workloads) != 1 else ''}, "
        f"{format_usd(lock.total_usd)} per {lock.period} as of {lock.as_of} (table checked {lock.table_checked})\n"
    )
    return 0
