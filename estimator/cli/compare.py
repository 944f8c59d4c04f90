"""`compare`: one workload across models, cheapest first."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, TextIO

from estimator.cli.common import dump_csv, dump_json, text_table, workload_arguments, workload_from_args
from estimator.format import format_usd
from estimator.planning import ModelComparison, compare_models
from estimator.report import comparison_rows, comparison_to_dict
from estimator.workload import MODES
from pricing import load_price_table

__all__ = ["add_compare_command", "render_comparison"]


def add_compare_command(commands: Any) -> None:
    many = commands.add_parser("compare", help="one workload across models, cheapest first", allow_abbrev=False)
    workload_arguments(many, model_required=False)
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


def _cmd_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    table = load_price_table()
    names = [name.strip() for name in args.models.split(",") if name.strip()] if args.models else None
    base_model = args.model or (names[0] if names else "claude-sonnet-4-6")
    workload = workload_from_args(args, model=base_model)
    results = compare_models(workload, names, include_retired=args.include_retired, table=table)
    if args.format == "json":
        dump_json(comparison_to_dict(results), out)
    elif args.format == "csv":
        dump_csv(comparison_rows(results), out)
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
    text = text_table(headers, rows) + "\n"
    if any(item.scale is not None and item.scale.converts for item in results):
        text += (
            "\nToken figures were converted between tokenizer generations (the 2026 tokenizer of Opus 4.7 and "
            "later counts ~1.3x, 1.0–1.35x, the legacy count); `--format json` gives each model's low/high range.\n"
        )
    return text
