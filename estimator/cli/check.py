"""`check`: price a plan file and hold it to its budgets and a baseline lock (the CI cost gate)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, TextIO

from estimator.cli.common import parse_date
from estimator.errors import EstimatorError

__all__ = ["add_check_command"]

DESCRIPTION = """\
Price every workload of a plan file (e.g. costs.yaml) as of today or --as-of, and hold it to its budgets;
with --baseline, also to the allowed increase over a lock file written by `lock`, saying how much of the
change came from prices (a new table or date) and how much from the workloads.

Examples:
  python -m estimator check costs.yaml
  python -m estimator check costs.yaml --baseline costs.lock.json --max-increase 10%
  python -m estimator check costs.yaml --baseline costs.lock.json --max-increase '$50' --format markdown \\
      --output "$GITHUB_STEP_SUMMARY"
  python -m estimator check costs.yaml --format junit --output cost-check.xml

--max-increase is relative ('10%' of the baseline) or absolute ('$5' per the plan's period) and applies to
the total; --max-workload-increase to each workload. Exit codes: 0 within every limit, 1 over a budget or
an allowed increase, 2 a bad plan or lock file (one line per problem, with its line number)."""


def add_check_command(commands: Any) -> None:
    parser = commands.add_parser(
        "check",
        help="price a plan file; exit 1 when over budget or over the allowed increase",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    plan_arguments(parser)
    parser.add_argument("--baseline", type=Path, default=None, metavar="LOCK", help="a lock file written by `lock`")
    parser.add_argument("--max-increase", default=None, metavar="LIMIT", help="allowed rise of the total: 10%% or $5")
    parser.add_argument(
        "--max-workload-increase", default=None, metavar="LIMIT", help="allowed rise of each workload: 10%% or $5"
    )
    parser.add_argument("--format", choices=("table", "json", "markdown", "junit"), default="table")
    parser.add_argument(
        "--output", type=Path, default=None, metavar="FILE", help="write the report here (the verdict still prints)"
    )
    parser.set_defaults(handler=_cmd_check)


def plan_arguments(parser: argparse.ArgumentParser) -> None:
    """What `check` and `lock` share: the plan, the date, the price table, exact token counts."""
    parser.add_argument("plan", type=Path, help="the plan file (YAML)")
    parser.add_argument("--as-of", type=parse_date, default=None, metavar="DATE", help="price date (default today)")
    parser.add_argument("--prices", type=Path, default=None, metavar="YAML", help="another price table file")
    parser.add_argument(
        "--exact-tokens",
        action="store_true",
        help="count token files exactly with count_tokens (needs ANTHROPIC_API_KEY; default offline)",
    )


def load_from_args(args: argparse.Namespace) -> tuple[Any, Any]:
    """The price table and the plan named on the command line."""
    from estimator.plans import load_plan
    from pricing import load_price_table

    table = load_price_table(args.prices)
    plan = load_plan(args.plan, table=table, exact_tokens=args.exact_tokens, api_key=_key(args))
    return table, plan


def _key(args: argparse.Namespace) -> str | None:
    return os.environ.get("ANTHROPIC_API_KEY") if args.exact_tokens else None


def _cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from estimator.plans import check_plan, read_lock
    from estimator.plans.render import render

    table, plan = load_from_args(args)
    baseline = read_lock(args.baseline) if args.baseline is not None else None
    result = check_plan(
        plan,
        as_of=args.as_of,
        baseline=baseline,
        max_increase=args.max_increase,
        max_workload_increase=args.max_workload_increase,
        table=table,
    )
    report = render(result, args.format)
    if args.output is None:
        out.write(report)
        return result.exit_code
    write_report(args.output, report)
    out.write(render(result, "table") if args.format != "table" else report)
    return result.exit_code


def write_report(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise EstimatorError(f"{path}: cannot write the report ({error.strerror})") from None
