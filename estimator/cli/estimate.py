"""`estimate`: one workload in every mode."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from estimator.cli.common import dump_csv, dump_json, text_table, workload_arguments, workload_from_args
from estimator.costs import Estimate, estimate
from estimator.format import format_percent, format_tokens, format_usd
from estimator.report import estimate_rows, estimate_to_dict

__all__ = ["add_estimate_command", "render_estimate"]

_CATEGORY_LABELS = {
    "uncached_input": "Input (uncached)",
    "cache_write_5m": "Cache writes 5m",
    "cache_write_1h": "Cache writes 1h",
    "cache_read": "Cache reads",
    "output": "Output",
    "web_search": "Web search",
}


def add_estimate_command(commands: Any) -> None:
    one = commands.add_parser("estimate", help="one workload in every mode", allow_abbrev=False)
    workload_arguments(one, model_required=True)
    one.add_argument("--format", choices=("table", "json", "csv"), default="table")
    one.set_defaults(handler=_cmd_estimate)


def _cmd_estimate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    result = estimate(workload_from_args(args))
    if args.format == "json":
        dump_json(estimate_to_dict(result), out)
    elif args.format == "csv":
        dump_csv(estimate_rows(result), out)
    else:
        out.write(render_estimate(result))
    return 0


def render_estimate(result: Estimate) -> str:
    w = result.workload
    lines = [
        f"{result.model_name} ({result.model_id}), prices as of {result.as_of} "
        f"(in effect since {result.prices_effective_from})",
        f"{format_tokens(w.requests)} requests per {w.period}; per request: prompt "
        f"{format_tokens(result.prompt_tokens)} tokens ({format_tokens(result.cacheable_prefix_tokens)} cacheable "
        f"prefix), output {format_tokens(w.output_tokens)}; cache hit rate "
        f"{format_percent(w.cache_hit_rate * 100)}, TTL {w.cache_ttl}"
        + (", US data residency" if w.geo == "us" else "")
        + (", fast mode" if w.fast else ""),
        "",
    ]
    headers = ["Mode", "Total", "Per request", "Savings", "Savings %", "Rank"]
    rows = []
    for mode in result.modes:
        if not mode.available:
            rows.append([mode.mode, "n/a", "", "", "", mode.unavailable_reason or ""])
            continue
        rows.append(
            [
                mode.mode,
                format_usd(mode.total_usd),
                format_usd(mode.per_request_usd),
                format_usd(mode.savings_usd),
                format_percent(mode.savings_pct),
                str(mode.rank),
            ]
        )
    lines.append(text_table(headers, rows))
    lines.append("")
    lines.append("Breakdown per " + w.period + ":")
    available = [m for m in result.modes if m.available]
    breakdown_rows = (
        [
            [_CATEGORY_LABELS[line.category], *[format_usd(m.line(line.category).usd) for m in available]]
            for line in available[0].lines
        ]
        if available
        else []
    )
    lines.append(text_table(["Category", *[m.mode for m in available]], breakdown_rows))
    if result.warnings:
        lines.append("")
        for warning in result.warnings:
            mark = "!" if warning.severity == "warning" else "i"
            lines.append(f"{mark} {warning.message}")
    lines.append("")
    lines.append("Rounded for reading; `--format json` gives the exact figures.")
    return "\n".join(lines) + "\n"
