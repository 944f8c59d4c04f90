"""`compare`: one workload across models, cheapest first."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TextIO

from estimator.cli.common import (
    Currency,
    currency_arguments,
    currency_from_args,
    dump_csv,
    dump_json,
    overrides_argument,
    table_from_args,
    text_table,
    workload_arguments,
    workload_from_args,
)
from estimator.currency import Converted, convert_figures, format_money
from estimator.format import format_usd
from estimator.planning import ModelComparison, compare_models
from estimator.report import comparison_rows, comparison_to_dict
from estimator.workload import MODES

__all__ = ["add_compare_command", "convert_comparison", "render_comparison"]


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
    overrides_argument(many)
    currency_arguments(many)
    many.add_argument("--format", choices=("table", "json", "csv"), default="table")
    many.set_defaults(handler=_cmd_compare)


def _cmd_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    currency = currency_from_args(args)
    table = table_from_args(args)
    names = [name.strip() for name in args.models.split(",") if name.strip()] if args.models else None
    base_model = args.model or (names[0] if names else "claude-sonnet-4-6")
    workload = workload_from_args(args, model=base_model)
    results = compare_models(workload, names, include_retired=args.include_retired, table=table)
    converted = convert_comparison(results, currency) if currency else None
    if args.format == "json":
        payload = comparison_to_dict(results)
        payload["currency"] = converted.to_dict() if converted else None
        dump_json(payload, out)
    elif args.format == "csv":
        dump_csv(comparison_rows(results), out)
    else:
        out.write(render_comparison(results, converted))
    return 0


def convert_comparison(results: Sequence[ModelComparison], currency: Currency) -> Converted | None:
    """Every model's mode totals in the currency, at the rate of the comparison's as-of date (None: nothing priced)."""
    rates, code = currency
    priced = [item.estimate for item in results if item.estimate is not None]
    if not priced:
        return None
    figures: dict[tuple[str, ...], Decimal | None] = {
        (result.model_id, mode.mode): mode.total_usd if mode.available else None
        for result in priced
        for mode in result.modes
    }
    return convert_figures(rates, code, priced[0].as_of, figures)


def render_comparison(results: Sequence[ModelComparison], converted: Converted | None = None) -> str:
    headers = ["Model", "Status", *MODES, "Cheapest", "Tokens"]
    if converted is not None:
        headers.insert(-1, f"Cheapest {converted.currency}")
    rows = []
    for item in results:
        if item.estimate is None:
            extra = [""] if converted is not None else []
            rows.append([item.model_id, item.status, *["n/a"] * len(MODES), "", *extra, item.error or ""])
            continue
        cells = []
        for mode in MODES:
            cost = item.estimate.mode(mode)
            cells.append(format_usd(cost.total_usd) if cost.available else "n/a")
        tokens = "as measured"
        if item.scale is not None and item.scale.converts:
            tokens = f"×{item.scale.expected:.2f} ({item.scale.source}→{item.scale.target})"
        cheapest = item.estimate.ranking[0].mode if item.estimate.ranking else ""
        extra = []
        if converted is not None:
            amount = converted.amount(item.model_id, cheapest) if cheapest else None
            extra = [format_money(amount, converted.currency) if amount is not None else ""]
        rows.append([item.model_id, item.status, *cells, cheapest, *extra, tokens])
    text = text_table(headers, rows) + "\n"
    text += _basis_lines(results)
    if converted is not None:
        text += (
            f"\n{converted.currency} at {converted.rate_per_usd} per USD, the rate of {converted.rate_date} in "
            f"{converted.source_name}; USD stays the exact base; `--format json` gives every mode.\n"
        )
    if any(item.scale is not None and item.scale.converts for item in results):
        text += (
            "\nToken figures were converted between tokenizer generations (the 2026 tokenizer of Opus 4.7 and "
            "later counts ~1.3x, 1.0–1.35x, the legacy count); `--format json` gives each model's low/high range.\n"
        )
    return text


def _basis_lines(results: Sequence[ModelComparison]) -> str:
    """What the prices are, once for the table: a partner channel, and negotiated rates model by model."""
    estimates = [item.estimate for item in results if item.estimate is not None]
    lines = []
    by_basis: dict[str, list[str]] = {}
    for result in estimates:
        if result.channel is not None and result.channel.set_by_partner:
            by_basis.setdefault(result.channel.basis, []).append(result.model_id)
    for basis, models in by_basis.items():
        lines.append(basis if len(by_basis) == 1 else f"{', '.join(models)}: {basis}")
    negotiated = [e.negotiated for e in estimates if e.negotiated is not None]
    if negotiated:
        applied = [rule for terms in negotiated for rule in terms.applied]
        unique = list(dict.fromkeys(applied))
        what = "; ".join(unique) if unique else "none apply to these models; the public prices are used"
        lines.append(f"Negotiated rates from {negotiated[0].source_name}: {what}.")
    return "".join(f"\n{line}\n" for line in lines)
