"""Downloadable reports: the plan as Markdown, and the estimator's CSV rows and JSON dicts as text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from estimator.costs import CATEGORIES, Estimate
from estimator.format import decimal_text, format_percent, format_tokens, format_usd
from estimator.report import CSV_COLUMNS
from pricing import PriceTable
from pricing.cli import format_rate
from ui.labels import CATEGORY_LABELS, FIELD_LABELS, MODE_LABELS, NOT_PRICED, percent_of_fraction
from ui.tables import RATE_COLUMNS, price_basis, source_lines

__all__ = ["csv_text", "json_text", "markdown_report"]


def csv_text(rows: Iterable[Mapping[str, str]], columns: Sequence[str] = CSV_COLUMNS) -> str:
    """CSV with the estimator's columns; cells a row lacks (a model that could not be priced) stay empty."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), restval="", extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def json_text(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def markdown_report(
    result: Estimate,
    table: PriceTable,
    *,
    requests_per_hour: Decimal | None = None,
    params: Mapping[str, str] | None = None,
) -> str:
    """The plan for a reader who was not there: assumptions, every mode's figures, the traps, and where
    each price came from (the table's date and the model's sources)."""
    lines = [f"# Claude API cost plan: {result.model_name}", ""]
    lines += [
        "> Estimates, not invoices: computed exactly from the project's price table "
        f"(checked {table.checked}); Anthropic's invoice is the authority.",
        "",
    ]
    lines += _assumptions(result, requests_per_hour)
    lines += _costs(result)
    lines += _warnings(result)
    lines += _prices_and_sources(result, table)
    if params:
        lines += ["## Reopen this plan", "", "Append these query parameters to the app's address:", ""]
        lines += ["```", "?" + urlencode(params), "```", ""]
    return "\n".join(lines)


def _assumptions(result: Estimate, requests_per_hour: Decimal | None) -> list[str]:
    workload = result.workload
    tools = (
        f", of which {format_tokens(result.tool_system_prompt_tokens)} tool-use system prompt"
        if result.tool_system_prompt_tokens
        else ""
    )
    hit_rate = percent_of_fraction(workload.cache_hit_rate)
    if requests_per_hour is not None:
        hit_rate += (
            f" (derived from {decimal_text(requests_per_hour)} requests per hour arriving at random, "
            f"{workload.cache_ttl} TTL)"
        )
    thinking = f" + thinking {format_tokens(workload.thinking_tokens)}" if workload.thinking_tokens else ""
    lines = [
        "## Assumptions",
        "",
        f"- **Model**: {result.model_name} (`{result.model_id}`), prices in effect since "
        f"{result.prices_effective_from}, as of {result.as_of}",
        f"- **Requests**: {format_tokens(workload.requests)} per {workload.period}",
        f"- **Per request**: shared prefix {format_tokens(workload.prefix_tokens)} tokens, unique input "
        f"{format_tokens(workload.unique_input_tokens)}, output {format_tokens(workload.output_tokens)}{thinking}; "
        f"prompt {format_tokens(result.prompt_tokens)} tokens, cacheable prefix "
        f"{format_tokens(result.cacheable_prefix_tokens)}{tools}",
        f"- **Caching**: {workload.cache_ttl} TTL, {hit_rate} hits"
        + ("" if result.caching_possible else " — the prefix cannot be cached (see warnings)"),
        f"- **Options**: data residency {workload.geo}; fast mode {'on' if workload.fast else 'off'}; "
        f"tools {workload.tool_use}; {decimal_text(workload.web_searches_per_request)} web searches per request",
    ]
    if workload.web_fetches_per_request:
        lines.append(
            f"- **Web fetch**: {decimal_text(workload.web_fetches_per_request)} fetches per request of "
            f"{format_tokens(workload.tokens_per_web_fetch)} tokens each, billed as input"
        )
    if workload.code_execution_sessions_per_request:
        free = " (free: the requests carry web search or fetch)" if workload.code_execution_with_web_tools else ""
        lines.append(
            f"- **Code execution**: {decimal_text(workload.code_execution_sessions_per_request)} sessions per "
            f"request of {decimal_text(workload.code_execution_minutes_per_session)} minutes{free}"
        )
    channel = result.channel.name if result.channel is not None else workload.channel
    lines.append(f"- **Channel**: {channel}, {workload.endpoint} endpoint")
    lines += [f"- **Prices**: {sentence}" for sentence in price_basis(result)]
    return [*lines, ""]


def _costs(result: Estimate) -> list[str]:
    period = result.workload.period
    lines = [
        "## Costs",
        "",
        f"| Mode | Total per {period} | Per request | Saves vs real-time | Rank | Exact total (USD) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode in result.modes:
        label = MODE_LABELS[mode.mode]
        if not mode.available:
            lines.append(f"| {label} | {NOT_PRICED}: {mode.unavailable_reason} | | | | |")
            continue
        saving = (
            "baseline"
            if mode.mode == "realtime"
            else f"{format_usd(mode.savings_usd)} ({format_percent(mode.savings_pct)})"
        )
        lines.append(
            f"| {label} | {format_usd(mode.total_usd)} | {format_usd(mode.per_request_usd)} | {saving} | "
            f"{mode.rank} | {decimal_text(mode.total_usd)} |"
        )
    lines += ["", "Breakdown:", ""]
    lines.append("| Mode | " + " | ".join(CATEGORY_LABELS[c] for c in CATEGORIES) + " |")
    lines.append("|---|" + "---:|" * len(CATEGORIES))
    for mode in result.modes:
        cells = [format_usd(line.usd) if mode.available else NOT_PRICED for line in mode.lines]
        lines.append(f"| {MODE_LABELS[mode.mode]} | " + " | ".join(cells) + " |")
    band = result.batch_cached_hit_band
    if band is not None:
        lines += [
            "",
            f"Batch cache hits are best-effort ({percent_of_fraction(band.low_hit_rate)}–"
            f"{percent_of_fraction(band.high_hit_rate)}): batch + cache costs "
            f"{format_usd(band.total_at_high_hit_rate_usd)} to {format_usd(band.total_at_low_hit_rate_usd)} "
            "across that band.",
        ]
    return [*lines, ""]


def _warnings(result: Estimate) -> list[str]:
    lines = ["## Warnings", ""]
    if not result.warnings:
        return [*lines, "None.", ""]
    for warning in result.warnings:
        concerns = FIELD_LABELS.get(warning.field or "", "Plan")
        kind = "warning" if warning.severity == "warning" else "note"
        lines.append(f"- **{concerns}** ({kind}): {warning.message}")
    return [*lines, ""]


def _prices_and_sources(result: Estimate, table: PriceTable) -> list[str]:
    model = table.model(result.model_id)
    period = result.prices
    lines = [
        "## Prices and sources",
        "",
        f"Price table checked {table.checked}; {result.model_name}'s row checked {model.checked}. "
        f"Rates in USD per million tokens, in effect from {period.effective_from}:",
        "",
        "| " + " | ".join(label for _, label in RATE_COLUMNS) + " |",
        "|" + "---:|" * len(RATE_COLUMNS),
        "| " + " | ".join(format_rate(period.rate(field)) for field, _ in RATE_COLUMNS) + " |",
        "",
    ]
    if period.third_party:
        lines += [f"Third-party readings: {', '.join(period.third_party)}.", ""]
    if period.derived:
        lines += [f"Derived from Anthropic's documented rules: {', '.join(period.derived)}.", ""]
    lines += ["Sources:", ""]
    lines += source_lines(table, (*period.sources, *model.sources))
    return [*lines, ""]
