"""Rows and sentences for the app's tables, from the estimator's and the price table's records.

Pure functions returning display strings: the exact figures stay in the estimator's records and in the
downloads; what a table shows is rounded for reading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from estimator.format import decimal_text, format_percent, format_tokens, format_usd
from estimator.planning import BudgetResult, ModelComparison
from estimator.tokens.counting import TokenEstimate
from estimator.workload import MODES
from pricing import Model, PricePeriod, PriceTable, RateSet
from pricing.cli import format_rate
from pricing.diff import TableDiff
from ui.labels import MODE_LABELS, NOT_PRICED

__all__ = [
    "RATE_COLUMNS",
    "budget_text",
    "comparison_rows",
    "history_rows",
    "model_facts",
    "price_rows",
    "rate_change_rows",
    "source_lines",
    "token_count_text",
    "tokenizer_note",
]

RATE_COLUMNS = (
    ("input_mtok", "Input"),
    ("output_mtok", "Output"),
    ("cache_write_5m_mtok", "5m write"),
    ("cache_write_1h_mtok", "1h write"),
    ("cache_read_mtok", "Cache read"),
    ("batch_input_mtok", "Batch input"),
    ("batch_output_mtok", "Batch output"),
)


# --- compare models --------------------------------------------------------------------------------


def comparison_rows(comparisons: Sequence[ModelComparison]) -> list[dict[str, str]]:
    """One row per model in the estimator's order (cheapest first); unpriced cells say so."""
    rows = []
    for position, item in enumerate(comparisons, start=1):
        row = {"#": str(position), "Model": item.model_name, "Status": item.status}
        result = item.estimate
        if result is None:
            row.update({"Cheapest mode": "—", "Cheapest total": NOT_PRICED, "Note": item.error or ""})
            rows.append(row)
            continue
        cheapest = result.ranking[0] if result.ranking else None
        row["Cheapest mode"] = MODE_LABELS[cheapest.mode] if cheapest else "—"
        row["Cheapest total"] = format_usd(cheapest.total_usd) if cheapest else NOT_PRICED
        for mode in MODES:
            cost = result.mode(mode)
            row[MODE_LABELS[mode]] = format_usd(cost.total_usd) if cost.available else NOT_PRICED
        row["Tokens"] = _scale_text(item)
        row["Range"] = _range_text(item)
        row["Note"] = ""
        rows.append(row)
    return rows


def _scale_text(item: ModelComparison) -> str:
    scale = item.scale
    if scale is None or not scale.converts:
        return "as entered"
    return f"×{decimal_text(scale.expected)} ({decimal_text(scale.low)}–{decimal_text(scale.high)})"


def _range_text(item: ModelComparison) -> str:
    if item.estimate is None or item.low is None or item.high is None or not item.estimate.ranking:
        return ""
    mode = item.estimate.ranking[0].mode
    low, high = item.low.mode(mode), item.high.mode(mode)
    if not (low.available and high.available):
        return ""
    return f"{format_usd(low.total_usd)}–{format_usd(high.total_usd)}"


def tokenizer_note(comparisons: Sequence[ModelComparison], *, measured_with: str) -> str | None:
    """The tokenizer-generation adjustment in words, once per kind of conversion, or None if none applied."""
    groups: dict[tuple[str, str, Decimal, Decimal, Decimal], list[str]] = {}
    for item in comparisons:
        scale = item.scale
        if scale is not None and scale.converts:
            key = (scale.source, scale.target, scale.expected, scale.low, scale.high)
            groups.setdefault(key, []).append(item.model_name)
    if not groups:
        return None
    sentences = [f"Your token figures are taken as counted {measured_with}."]
    for (source, target, expected, low, high), names in groups.items():
        sentences.append(
            f"{len(names)} model{'s' if len(names) != 1 else ''} ({', '.join(names)}) use the {target} tokenizer, "
            f"which counts about ×{decimal_text(expected)} the {source} count for the same text "
            f"(between ×{decimal_text(low)} and ×{decimal_text(high)}): their figures use your token counts "
            f"×{decimal_text(expected)}, and the range column gives the low and high estimates."
        )
    return " ".join(sentences)


def budget_text(result: BudgetResult) -> tuple[str, str | None]:
    """(value, help) for one mode's "most requests within budget" metric."""
    if result.unavailable_reason is not None:
        return NOT_PRICED, result.unavailable_reason
    if result.unlimited:
        return "unlimited", "These requests cost nothing in this mode."
    assert result.max_requests is not None  # the estimator gives a count whenever the mode is priced
    return format_tokens(result.max_requests), f"{format_usd(result.per_request_usd)} per request, " + (
        f"{format_usd(result.total_usd)} in all"
    )


# --- prices ----------------------------------------------------------------------------------------


def price_rows(table: PriceTable, day: dt.date, *, include_all: bool) -> list[dict[str, str]]:
    """The table as `python -m pricing list` shows it: rates per million tokens as of `day`."""
    models = table.models_as_of(day, include_retired=include_all, include_unreleased=include_all)
    rows = []
    for model in models:
        period = model.period_as_of(day)
        row = {"Model": model.name, "Id": model.id, "Status": model.status_as_of(day)}
        for field, label in RATE_COLUMNS:
            row[label] = format_rate(period.rate(field)) if period else "—"
        row["Since"] = period.effective_from.isoformat() if period else "—"
        row["Notes"] = _flags(period)
        rows.append(row)
    return rows


_FLAG_LABELS = {
    "fast": "fast mode",
    "third_party": "third-party readings",
    "derived": "derived rates",
    "unpublished_cache_batch": "no cache/batch prices published",
}


def _flags(period: PricePeriod | None) -> str:
    if period is None:
        return "no price yet"
    tiers = "prompt > " + " / ".join(format_tokens(t.above_prompt_tokens) for t in period.tiers)
    return ", ".join(tiers if flag == "tier" else _FLAG_LABELS[flag] for flag in period.flags())


def model_facts(table: PriceTable, model: Model, day: dt.date) -> list[str]:
    """Lifecycle, limits and options of one model, one Markdown bullet each (like `pricing show`)."""
    life = model.lifecycle
    tokenizer = table.tokenizer(model)
    tools = model.tool_use_system_prompt_tokens
    facts = [
        f"**Id** `{model.id}`" + (f"; aliases {', '.join(f'`{a}`' for a in model.aliases)}" if model.aliases else ""),
        f"**Status on {day}**: {model.status_as_of(day)} (released {life.released}; deprecated "
        f"{life.deprecated or '—'}; retired {life.retired or '—'})",
        f"**Tokenizer**: {model.tokenizer} (offline estimate ≈ {decimal_text(tokenizer.cl100k_factor)} × cl100k)",
        f"**Context window** {format_tokens(model.context_window_tokens)} tokens; **max output** "
        f"{_tokens(model.max_output_tokens)}; **batch max output** {_tokens(model.batch_max_output_tokens)}",
        f"**Minimum cacheable prompt**: {_tokens(model.min_cacheable_prompt_tokens)}",
        "**Tool-use system prompt**: "
        + (
            "not published"
            if tools is None
            else f"{format_tokens(tools.auto_or_none)} tokens (auto/none), {_tokens(tools.any_or_tool)} (any/tool)"
        ),
        "**US data residency**: "
        + (
            f"yes, ×{decimal_text(table.rules.data_residency.us_multiplier)}"
            if model.data_residency_us
            else "not available"
        ),
    ]
    if model.availability:
        facts.append(f"**Availability**: {model.availability}")
    return facts


def _tokens(value: int | None) -> str:
    return "not published" if value is None else f"{format_tokens(value)} tokens"


def history_rows(model: Model) -> list[dict[str, str]]:
    """Every price row of the model, cancelled announcements included, prompt tiers as their own rows."""
    rows = []
    for period in model.prices:
        status = "cancelled — never took effect" if period.status == "cancelled" else "in effect"
        rows.append(_rate_row(period, period.effective_from, f"{status} ({period.date_precision})", "standard"))
        for tier in period.tiers:
            rows.append(
                _rate_row(tier, period.effective_from, status, f"prompt > {format_tokens(tier.above_prompt_tokens)}")
            )
        if period.fast:
            row = {"From": period.effective_from.isoformat(), "Status": status, "Row": "fast mode (real-time)"}
            row.update({label: "—" for _, label in RATE_COLUMNS})
            row["Input"], row["Output"] = format_rate(period.fast.input_mtok), format_rate(period.fast.output_mtok)
            row["Sources"] = ", ".join(period.sources)
            rows.append(row)
    return rows


def _rate_row(rates: RateSet, start: dt.date, status: str, kind: str) -> dict[str, str]:
    row = {"From": start.isoformat(), "Status": status, "Row": kind}
    for field, label in RATE_COLUMNS:
        row[label] = format_rate(rates.rate(field)) + (" (3P)" if field in rates.third_party else "")
    row["Sources"] = ", ".join(getattr(rates, "sources", ()))
    return row


def source_lines(table: PriceTable, keys: Sequence[str]) -> list[str]:
    """Markdown bullets for the sources behind `keys`, each once, links where the source is a URL."""
    lines = []
    for key in dict.fromkeys(keys):
        source = table.sources[key]
        where = f"[{source.title}]({source.url})" if source.url else f"{source.title} ({source.document})"
        third = " — third-party" if source.third_party else ""
        lines.append(f"- `{key}`: {where}{third}, checked {source.checked}")
    return lines


def rate_change_rows(diff: TableDiff) -> list[dict[str, str]]:
    """One row per rate that differs between two dates (or tables), with its relative change."""
    rows = []
    for change in diff.rate_changes:
        relative = ""
        if change.change_pct is not None:
            relative = format_percent(change.change_pct)
        rows.append(
            {
                "Model": change.model_id,
                "Where": change.where,
                "Rate": change.field,
                "Change": change.kind,
                "Before": format_rate(change.old_mtok),
                "After": format_rate(change.new_mtok),
                "Relative": relative,
            }
        )
    return rows


def token_count_text(counted: TokenEstimate) -> str:
    """A count with its source: exact, or an approximation with its range."""
    if counted.is_exact:
        return f"**{format_tokens(counted.expected_tokens)} tokens** (exact, from the count_tokens API)"
    return (
        f"**~{format_tokens(counted.expected_tokens)} tokens** (likely {format_tokens(counted.low_tokens)}–"
        f"{format_tokens(counted.high_tokens)}; {counted.detail})"
    )
