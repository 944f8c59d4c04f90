"""Price a Claude API workload in every mode: real-time, cached, batch, batch + cached.

Examples:
  python -m estimator estimate --model claude-sonnet-4-6 --requests 1000 \\
      --prefix-tokens 3000 --input-tokens 5000 --output-tokens 1000 --hit-rate 0.85
  python -m estimator estimate ... --format json        exact decimal strings, for CI
  python -m estimator estimate ... --requests-per-hour 120 --ttl 5m   hit rate from traffic
  python -m estimator estimate ... --thinking-tokens 2000 --code-execution-sessions 1 --code-execution-minutes 6
  python -m estimator estimate ... --channel bedrock --endpoint regional   list price × the documented premium
  python -m estimator estimate ... --overrides rates.yaml --currency EUR --fx-rates fx.csv   negotiated, in EUR
  python -m estimator compare --model claude-sonnet-4-6 --requests 1000 --input-tokens 5000
  python -m estimator breakeven --model claude-opus-5-5
  python -m estimator budget --budget-usd 500 --model claude-haiku-4-5 --input-tokens 2000 --output-tokens 300
  python -m estimator dry-run requests.jsonl                 validate, count and price a batch file offline
  python -m estimator dry-run requests.jsonl --api --sample 200   scale by exact counts of a sample
  python -m estimator count --model claude-opus-5 prompt.txt  tokens of a text or a request (JSON)

Token figures are per request; --prefix-tokens is the shared, cacheable prefix (tools + system + shared
context), --input-tokens the unique input after it. Exit codes: 0 success, 1 dry-run found errors in the
file, 2 bad input (one-line error), 130 interrupted. An API key (ANTHROPIC_API_KEY) is used only with --api.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from estimator.cli.actual import add_actual_command
from estimator.cli.breakeven import add_breakeven_command
from estimator.cli.budget import add_budget_command
from estimator.cli.check import add_check_command
from estimator.cli.compare import add_compare_command, render_comparison
from estimator.cli.conversation import add_conversation_command
from estimator.cli.count import add_count_command
from estimator.cli.dry_run import add_dry_run_command
from estimator.cli.estimate import add_estimate_command, render_estimate
from estimator.cli.lock import add_lock_command
from estimator.cli.reconcile import add_reconcile_command
from estimator.cli.throughput import add_throughput_command
from estimator.errors import EstimatorError
from estimator.version import __version__
from pricing import PricingError

__all__ = ["main", "render_comparison", "render_estimate"]


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
    except KeyboardInterrupt:  # Ctrl-C: the shell's convention (128 + SIGINT), without a traceback
        print("interrupted", file=err)
        return 130
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m estimator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"claude-cost-planner {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for add_command in (
        add_estimate_command,
        add_compare_command,
        add_breakeven_command,
        add_budget_command,
        add_dry_run_command,
        add_count_command,
        add_conversation_command,
        add_throughput_command,
        add_check_command,
        add_lock_command,
        add_actual_command,
        add_reconcile_command,
    ):
        add_command(commands)
    return parser
