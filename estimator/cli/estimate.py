"""`estimate`: one workload in every mode."""

from __future__ import annotations

import argparse
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
from estimator.costs import CATEGORIES, Category, Estimate, estimate
from estimator.currency import Converted, convert_figures, format_money
from estimator.format import format_percent, format_tokens, format_usd
from estimator.report import estimate_rows, estimate_to_dict

__all__ = ["CATEGORY_LABELS", "add_estimate_command", "convert_estimate", "render_estimate"]

CATEGORY_LABELS: dict[Category, str] = {
    "uncached_input": "Input (uncached)",
    "cache_write_5m": "Cache writes 5m",
    "cache_write_1h": "Cache writes 1h",
    "cache_read": "Cache reads",
    "output": "Output",
    "web_search": "Web search",
    "thinking": "Thinking (billed as output)",
    "code_execution": "Code execution",
}
_SHOWN_ONLY_WHEN_USED: frozenset[Category] = frozenset({"thinking", "code_execution"})
_HEADER_CODES = frozenset({"channel_prices", "negotiated_rates"})
"""Warnings the text shows in its header (what the prices are), not again among the traps."""


def add_estimate_command(commands: Any) -> None:
    one = commands.add_parser("estimate", help="one workload in every mode", allow_abbrev=False)
    workload_arguments(one, model_required=True)
    overrides_argument(one)
    currency_arguments(one)
    one.add_argument("--format", choices=("table", "json", "csv"), default="table")
    one.set_defaults(handler=_cmd_estimate)


def _cmd_estimate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    currency = currency_from_args(args)
    result = estimate(workload_from_args(args), table=table_from_args(args))
    converted = convert_estimate(result, currency) if currency else None
    if args.format == "json":
        payload = estimate_to_dict(result)
        payload["currency"] = converted.to_dict() if converted else None
        dump_json(payload, out)
    elif args.format == "csv":
        dump_csv(estimate_rows(result), out)
    else:
        out.write(render_estimate(result, converted))
    return 0


def convert_estimate(result: Estimate, currency: Currency) -> Converted:
    """Each mode's total and per-request cost in the currency, at the rate of the estimate's as-of date."""
    rates, code = currency
    figures: dict[tuple[str, ...], Decimal | None] = {}
    for mode in result.modes:
        figures[(mode.mode, "total")] = mode.total_usd if mode.available else None
        figures[(mode.mode, "per_request")] = mode.per_request_usd if mode.available else None
    return convert_figures(rates, code, result.as_of, figures)


def render_estimate(result: Estimate, converted: Converted | None = None) -> str:
    w = result.workload
    lines = [
        f"{result.model_name} ({result.model_id}), prices as of {result.as_of} "
        f"(in effect since {result.prices_effective_from})",
        f"{format_tokens(w.requests)} requests per {w.period}; per request: prompt "
        f"{format_tokens(result.prompt_tokens)} tokens ({format_tokens(result.cacheable_prefix_tokens)} cacheable "
        f"prefix), output {format_tokens(w.output_tokens)}"
        + (f" + thinking {format_tokens(w.thinking_tokens)}" if w.thinking_tokens else "")
        + f"; cache hit rate {format_percent(w.cache_hit_rate * 100)}, TTL {w.cache_ttl}"
        + (", US data residency" if w.geo == "us" else "")
        + (", fast mode" if w.fast else ""),
    ]
    if result.channel is not None and result.channel.set_by_partner:
        lines.append(result.channel.basis)
    if result.negotiated is not None:
        lines.append(result.negotiated.sentence[0].upper() + result.negotiated.sentence[1:] + ".")
    lines.append("")
    headers = ["Mode", "Total", "Per request", "Savings", "Savings %", "Rank"]
    if converted is not None:
        headers.insert(2, f"Total {converted.currency}")
    rows = []
    for mode in result.modes:
        if not mode.available:
            rows.append([mode.mode, "n/a", *([""] if converted else []), "", "", "", mode.unavailable_reason or ""])
            continue
        row = [
            mode.mode,
            format_usd(mode.total_usd),
            format_usd(mode.per_request_usd),
            format_usd(mode.savings_usd),
            format_percent(mode.savings_pct),
            str(mode.rank),
        ]
        if converted is not None:
            row.insert(2, format_money(converted.amount(mode.mode, "total"), converted.currency))
        rows.append(row)
    lines.append(text_table(headers, rows))
    lines.append("")
    lines.append("Breakdown per " + w.period + ":")
    available = [m for m in result.modes if m.available]
    breakdown_rows = [
        [CATEGORY_LABELS[category], *[format_usd(m.line(category).usd) for m in available]]
        for category in CATEGORIES
        if available and (category not in _SHOWN_ONLY_WHEN_USED or any(m.line(category).usd for m in available))
    ]
    lines.append(text_table(["Category", *[m.mode for m in available]], breakdown_rows))
    warnings = [warning for warning in result.warnings if warning.code not in _HEADER_CODES]
    if warnings:
        lines.append("")
        for warning in warnings:
            mark = "!" if warning.severity == "warning" else "i"
            lines.append(f"{mark} {warning.message}")
    lines.append("")
    if converted is not None:
        lines.append(
            f"{converted.currency} at {converted.rate_per_usd} per USD, the rate of {converted.rate_date} in "
            f"{converted.source_name}; USD stays the exact base."
        )
    lines.append("Rounded for reading; `--format json` gives the exact figures.")
    return "\n".join(lines) + "\n"
