"""Rows and sentences for the app's tables, from the estimator's and the price table's records.

Pure functions. Tables are `ui.columns.Table`s whose numbers stay numbers (so they sort by value), rounded
half-up for display; sentences are display strings. The exact figures stay in the estimator's records and
in the downloads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from estimator.costs import Estimate
from estimator.format import format_percent, format_tokens, format_usd
from estimator.planning import BudgetResult, ModelComparison
from estimator.results import EstimateWarning, ModeCost
from estimator.tokens.counting import TokenEstimate
from estimator.workload import MODES, Mode
from pricing import Model, PricePeriod, PriceTable, PricingError, RateSet
from pricing.diff import TableDiff
from ui.columns import (
    Cell,
    Column,
    Table,
    count_column,
    display_number,
    factor_text,
    money_column,
    money_decimals,
    percent_column,
    rate_column,
    rate_decimals,
    text_column,
)
from ui.labels import MODE_LABELS, NOT_PRICED, percent_of_fraction

__all__ = [
    "HEADER_CODES",
    "RATE_COLUMNS",
    "RATE_LABELS",
    "budget_text",
    "comparison_modes_table",
    "comparison_table",
    "history_notes",
    "history_table",
    "listed_warnings",
    "mode_delta",
    "model_facts",
    "price_basis",
    "price_list_table",
    "price_notes_table",
    "rate_change_table",
    "source_lines",
    "token_count_text",
    "tokenizer_note",
    "verdict",
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


# --- plan ----------------------------------------------------------------------------------------

BATCH_LATENCY = "batch results can take up to 24 hours"
"""The Batch API's promise (a batch not finished in 24 hours expires): the catch of every batch mode."""

DELTA_BASELINE: dict[Mode, tuple[Mode, ...]] = {
    "realtime_cached": ("realtime",),
    "batch": ("realtime",),
    "batch_cached": ("batch", "realtime"),
}
"""What each mode's delta is against: the mode it adds one thing to (caching, or batching)."""


def cheapest_modes(result: Estimate) -> list[ModeCost]:
    """The priced modes whose total is the lowest: more than one when they tie (a tie is not a preference)."""
    priced = [mode for mode in result.modes if mode.available and mode.total_usd is not None]
    if not priced:
        return []
    lowest = min(mode.total_usd for mode in priced if mode.total_usd is not None)
    return [mode for mode in priced if mode.total_usd == lowest]


def verdict(result: Estimate, *, band: tuple[Decimal, Decimal]) -> tuple[str, str]:
    """The answer in one line: (the cheapest mode, its total and its saving against real-time; the catch)."""
    best = cheapest_modes(result)
    if not best:
        return "No mode has a price for this model.", ""
    names = " and ".join(MODE_LABELS[mode.mode] for mode in best)
    period = result.workload.period
    headline = f"{names} {'is' if len(best) == 1 else 'tie as'} cheapest: {format_usd(best[0].total_usd)} per {period}"
    first = best[0]
    if first.mode != "realtime" and first.savings_usd is not None and first.savings_usd > 0:
        share = f" ({format_percent(first.savings_pct)})" if first.savings_pct is not None else ""
        headline += f", {format_usd(first.savings_usd)}{share} less than real-time"
    catches = []
    if any(mode.mode.startswith("batch") for mode in best):
        catches.append(BATCH_LATENCY)
    if any(mode.mode == "batch_cached" for mode in best):
        low, high = (percent_of_fraction(value) for value in band)
        catches.append(f"cache hits in batches are best-effort ({low}–{high})")
    elif any(mode.mode == "realtime_cached" for mode in best):
        catches.append("the hit rate depends on requests arriving within the cache lifetime")
    catch = f"The catch: {'; '.join(catches)}." if catches else ""
    return headline + ".", catch


HEADER_CODES = frozenset({"channel_prices", "negotiated_rates"})
"""Warnings that say what the prices are: shown with the verdict (`price_basis`), not again among the traps."""


def price_basis(result: Estimate) -> list[str]:
    """What the figures' prices are, when they are not the public Claude API list: a partner channel's basis,
    the negotiated rates applied (as the CLI's header says them)."""
    sentences = []
    if result.channel is not None and result.channel.set_by_partner:
        sentences.append(result.channel.basis)
    if result.negotiated is not None:
        sentence = result.negotiated.sentence
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return sentences


def listed_warnings(result: Estimate) -> tuple[EstimateWarning, ...]:
    """The plan's warnings less those `price_basis` already says."""
    return tuple(warning for warning in result.warnings if warning.code not in HEADER_CODES)


def mode_delta(result: Estimate, mode: ModeCost) -> tuple[str, str] | None:
    """The mode's cost against the mode it adds one thing to ('-16.8%', 'vs Real-time'); None for real-time.

    The sign is ASCII so Streamlit reads the direction: with `delta_color="inverse"` a mode that costs
    less than its baseline shows green, one that costs more shows red — never a worse choice in green."""
    if not mode.available or mode.total_usd is None:
        return None
    for name in DELTA_BASELINE.get(mode.mode, ()):
        base = result.mode(name)
        if base.available and base.total_usd:
            change = (mode.total_usd - base.total_usd) / base.total_usd * 100
            if change == 0:
                return "0%", f"same as {MODE_LABELS[name]}"
            sign = "-" if change < 0 else "+"
            return sign + format_percent(abs(change)), f"vs {MODE_LABELS[name]}"
    return None


# --- compare models --------------------------------------------------------------------------------


def comparison_table(comparisons: Sequence[ModelComparison]) -> Table:
    """One row per model in the estimator's order (cheapest first), every figure a number that sorts.

    Models that cost the same share a rank. "Low"/"High" bracket the cheapest mode's total when the token
    figures were converted for another tokenizer. Each mode's own total is in `comparison_modes_table`."""
    cheapest_places = money_decimals(item.cheapest_total_usd for item in comparisons)
    range_places = money_decimals(value for item in comparisons for value in _range(item))
    ranks = _shared_ranks([item.cheapest_total_usd for item in comparisons])
    rows: list[dict[str, Cell]] = []
    for item, rank in zip(comparisons, ranks, strict=True):
        result = item.estimate
        cheapest = result.ranking[0] if result is not None and result.ranking else None
        low, high = _range(item)
        rows.append(
            {
                "Rank": rank,
                "Model": item.model_name,
                "Cheapest mode": MODE_LABELS[cheapest.mode] if cheapest else NOT_PRICED,
                "Cheapest total": display_number(item.cheapest_total_usd, cheapest_places),
                "Low": display_number(low, range_places),
                "High": display_number(high, range_places),
                "Token factor": float(item.scale.expected) if item.scale and item.scale.converts else None,
                "Status": item.status,
                "Note": item.error or "",
            }
        )
    columns = {
        "Rank": count_column("Models that cost the same share a rank."),
        "Model": text_column(width="medium"),
        "Cheapest mode": text_column(),
        "Cheapest total": money_column(cheapest_places, "The model's cheapest mode, for your token figures."),
        "Low": money_column(range_places, "The cheapest mode with the token conversion's low factor."),
        "High": money_column(range_places, "The cheapest mode with the token conversion's high factor."),
        "Token factor": Column("number", "×%.3g", _FACTOR_HELP, "small"),
        "Status": text_column(),
        "Note": text_column(width="medium"),
    }
    if not any(row["Note"] for row in rows):
        del columns["Note"]
    return Table(rows, columns)


def comparison_modes_table(comparisons: Sequence[ModelComparison]) -> Table:
    """Every model's total in each mode (blank where the model has no price for the mode)."""
    totals = {item.model_name: _mode_totals(item) for item in comparisons}
    places = [money_decimals(values[index] for values in totals.values()) for index in range(len(MODES))]
    rows: list[dict[str, Cell]] = [
        {
            "Model": name,
            **{
                MODE_LABELS[mode]: display_number(value, decimals)
                for mode, value, decimals in zip(MODES, values, places, strict=True)
            },
        }
        for name, values in totals.items()
    ]
    columns = {
        "Model": text_column(width="medium"),
        **{
            MODE_LABELS[mode]: money_column(decimals, f"{MODE_LABELS[mode]}; blank: not priced")
            for mode, decimals in zip(MODES, places, strict=True)
        },
    }
    return Table(rows, columns)


_FACTOR_HELP = "Your token figures × this for the model's tokenizer; blank: used as entered."


def _mode_totals(item: ModelComparison) -> list[Decimal | None]:
    result = item.estimate
    if result is None:
        return [None for _ in MODES]
    return [cost.total_usd if cost.available else None for cost in (result.mode(mode) for mode in MODES)]


def _range(item: ModelComparison) -> tuple[Decimal | None, Decimal | None]:
    if item.estimate is None or item.low is None or item.high is None or not item.estimate.ranking:
        return None, None
    mode = item.estimate.ranking[0].mode
    low, high = item.low.mode(mode), item.high.mode(mode)
    if not (low.available and high.available):
        return None, None
    return low.total_usd, high.total_usd


def _shared_ranks(values: Sequence[Decimal | None]) -> list[int | None]:
    """1-based ranks of `values` in their (already sorted) order; equal values share one, None has none."""
    ranks: list[int | None] = []
    previous: tuple[Decimal, int] | None = None
    for position, value in enumerate(values, start=1):
        if value is None:
            ranks.append(None)
            continue
        rank = previous[1] if previous is not None and previous[0] == value else position
        ranks.append(rank)
        previous = (value, rank)
    return ranks


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
            f"{_count(len(names), 'model')} ({', '.join(names)}) use the {target} tokenizer, "
            f"which counts about ×{factor_text(expected)} the {source} count for the same text "
            f"(between ×{factor_text(low)} and ×{factor_text(high)}): their figures use your token counts "
            f"×{factor_text(expected)}, and the Low and High columns give the estimates at either end."
        )
    return " ".join(sentences)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


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


def price_list_table(table: PriceTable, day: dt.date, *, include_all: bool) -> Table:
    """The table as `python -m pricing list` shows it: rates per million tokens as of `day`, as numbers.
    Ids and notes are in `price_notes_table`, so every column fits the page."""
    periods = [(model, model.period_as_of(day)) for model in _listed(table, day, include_all=include_all)]
    places = {field: rate_decimals(p.rate(field) if p else None for _, p in periods) for field, _ in RATE_COLUMNS}
    rows: list[dict[str, Cell]] = []
    for model, period in periods:
        row: dict[str, Cell] = {"Model": model.name}
        for field, label in RATE_COLUMNS:
            row[label] = display_number(period.rate(field), places[field]) if period else None
        row["Since"] = period.effective_from.isoformat() if period else "—"
        row["Status"] = model.status_as_of(day)
        rows.append(row)
    columns = {
        "Model": text_column(width="medium"),
        **{label: rate_column(places[field], _RATE_HELP[field]) for field, label in RATE_COLUMNS},
        "Since": text_column("The date these rates took effect."),
        "Status": text_column(),
    }
    return Table(rows, columns)


def price_notes_table(table: PriceTable, day: dt.date, *, include_all: bool) -> Table:
    """Each listed model's id (what the API takes), aliases and the notes on its rates."""
    rows: list[dict[str, Cell]] = [
        {
            "Model": model.name,
            "Id": model.id,
            "Aliases": ", ".join(model.aliases),
            "Notes": _flags(model.period_as_of(day)),
        }
        for model in _listed(table, day, include_all=include_all)
    ]
    columns = {
        "Model": text_column(width="medium"),
        "Id": text_column("The id to send to the API.", width="medium"),
        "Aliases": text_column(width="medium"),
        "Notes": text_column(width="medium"),
    }
    return Table(rows, columns)


def _listed(table: PriceTable, day: dt.date, *, include_all: bool) -> tuple[Model, ...]:
    return tuple(table.models_as_of(day, include_retired=include_all, include_unreleased=include_all))


_RATE_HELP = {
    "input_mtok": "USD per million uncached input tokens",
    "output_mtok": "USD per million output tokens",
    "cache_write_5m_mtok": "USD per million tokens written to the cache (5-minute TTL)",
    "cache_write_1h_mtok": "USD per million tokens written to the cache (1-hour TTL)",
    "cache_read_mtok": "USD per million tokens read from the cache",
    "batch_input_mtok": "USD per million input tokens in the Batch API",
    "batch_output_mtok": "USD per million output tokens in the Batch API",
}


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
        f"**Tokenizer**: {model.tokenizer} (offline estimate ≈ {factor_text(tokenizer.cl100k_factor)} × cl100k)",
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
            f"yes, ×{factor_text(table.rules.data_residency.us_multiplier)}"
            if model.data_residency_us
            else "not available"
        ),
    ]
    if model.availability:
        facts.append(f"**Availability**: {model.availability}")
    return facts


def _tokens(value: int | None) -> str:
    return "not published" if value is None else f"{format_tokens(value)} tokens"


def history_table(model: Model) -> Table:
    """Every price row of the model, cancelled announcements included, prompt tiers as their own rows.
    Rates are numbers; what each row rests on is in `history_notes`."""
    lines = _history_lines(model)
    places = {field: rate_decimals(line.rates.get(field) for line in lines) for field, _ in RATE_COLUMNS}
    rows: list[dict[str, Cell]] = []
    for line in lines:
        row: dict[str, Cell] = {"From": line.start, "Row": line.kind}
        for field, label in RATE_COLUMNS:
            row[label] = display_number(line.rates.get(field), places[field])
        row["Status"] = line.status
        rows.append(row)
    columns = {
        "From": text_column(),
        "Row": text_column(),
        **{label: rate_column(places[field], _RATE_HELP[field]) for field, label in RATE_COLUMNS},
        "Status": text_column(),
    }
    return Table(rows, columns)


def history_notes(model: Model) -> list[str]:
    """One line per price row: its sources, and which rates a third party (not Anthropic's page) gave."""
    notes = []
    for line in _history_lines(model):
        third = ", ".join(label for field, label in RATE_COLUMNS if field in line.third_party)
        text = f"{line.start}, {line.kind}: sources {line.sources or '—'}"
        notes.append(text + (f"; third-party readings: {third}" if third else ""))
    return notes


@dataclass(frozen=True)
class _HistoryLine:
    start: str
    status: str
    kind: str
    rates: dict[str, Decimal | None]
    third_party: tuple[str, ...]
    sources: str


def _history_lines(model: Model) -> list[_HistoryLine]:
    lines = []
    for period in model.prices:
        status = "cancelled" if period.status == "cancelled" else f"in effect ({period.date_precision})"
        start, sources = period.effective_from.isoformat(), ", ".join(period.sources)
        lines.append(_HistoryLine(start, status, "standard", _rates(period), period.third_party, sources))
        for tier in period.tiers:
            kind = f"prompt > {format_tokens(tier.above_prompt_tokens)}"
            lines.append(_HistoryLine(start, status, kind, _rates(tier), tier.third_party, sources))
        if period.fast:
            fast = {"input_mtok": period.fast.input_mtok, "output_mtok": period.fast.output_mtok}
            lines.append(_HistoryLine(start, status, "fast mode (real-time)", dict(fast), (), sources))
    return lines


def _rates(rates: RateSet) -> dict[str, Decimal | None]:
    return {field: rates.rate(field) for field, _ in RATE_COLUMNS}


def source_lines(table: PriceTable, keys: Sequence[str]) -> list[str]:
    """Markdown bullets for the sources behind `keys`, each once, links where the source is a URL."""
    lines = []
    for key in dict.fromkeys(keys):
        source = table.sources[key]
        where = f"[{source.title}]({source.url})" if source.url else f"{source.title} ({source.document})"
        third = " — third-party" if source.third_party else ""
        lines.append(f"- `{key}`: {where}{third}, checked {source.checked}")
    return lines


RATE_LABELS = dict(RATE_COLUMNS)


def rate_change_table(diff: TableDiff, table: PriceTable) -> Table:
    """One row per rate that differs between two dates (or tables), with its relative change in percent."""
    changes = diff.rate_changes
    before_places = rate_decimals(change.old_mtok for change in changes)
    after_places = rate_decimals(change.new_mtok for change in changes)
    rows: list[dict[str, Cell]] = [
        {
            "Model": _model_name(table, change.model_id),
            "Where": change.where,
            "Rate": RATE_LABELS.get(change.field, change.field.replace("_", " ")),
            "Change": change.kind,
            "Before": display_number(change.old_mtok, before_places),
            "After": display_number(change.new_mtok, after_places),
            "Relative": display_number(change.change_pct, 1),
        }
        for change in changes
    ]
    columns = {
        "Model": text_column(width="medium"),
        "Where": text_column(width="medium"),
        "Rate": text_column(),
        "Change": text_column(),
        "Before": rate_column(before_places, "USD per million tokens"),
        "After": rate_column(after_places, "USD per million tokens"),
        "Relative": percent_column("The change against the rate before"),
    }
    return Table(rows, columns)


def _model_name(table: PriceTable, model_id: str) -> str:
    try:
        return table.model(model_id).name
    except PricingError:  # a model only the other table has
        return model_id


def token_count_text(counted: TokenEstimate) -> str:
    """A count with its source: exact, or an approximation with its range."""
    if counted.is_exact:
        return f"**{format_tokens(counted.expected_tokens)} tokens** (exact, from the count_tokens API)"
    return (
        f"**~{format_tokens(counted.expected_tokens)} tokens** (likely {format_tokens(counted.low_tokens)}–"
        f"{format_tokens(counted.high_tokens)}; {counted.detail})"
    )
