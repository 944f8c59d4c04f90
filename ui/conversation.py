"""The Conversations page's state and tables: widget values <-> a `Conversation`, per-field errors, the turn
counts of the chart, and the per-turn table. Pure functions, no Streamlit.

Widgets hold display units (hit rates in percent, floats); the `Conversation` holds the estimator's. Each
field is checked on its own, against the fields accepted before it, so every bad input gets its own message
beside it and the good ones still apply (as `ui.scenario.apply_fields` does for a workload). The options a model
or channel may lack (residency, fast mode, cache lifetime, endpoint) are checked as the Plan page checks them
(`checked_options`): one the model lacks is priced without, and marked, never wiping the page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from estimator.conversations import Conversation, ConversationEstimate
from estimator.conversations.turns import MAX_TURNS
from estimator.errors import EstimatorError
from estimator.format import decimal_text, format_tokens, format_usd
from estimator.workload import MODES, Mode
from pricing import PriceTable
from ui.columns import Cell, Table, count_column, display_number, money_column, money_decimals
from ui.form import OPTION_FALLBACKS, FormResult, PricedPlan, price_plan, widget_decimal
from ui.labels import MODE_LABELS

__all__ = [
    "DEFAULT_CONVERSATION",
    "WIDGETS",
    "checked_options",
    "conversation_from_widgets",
    "facts_text",
    "totals",
    "turn_csv",
    "turn_steps",
    "turn_table",
    "widget_defaults",
    "without_unoffered",
]

DEFAULT_CONVERSATION = Conversation(
    model="claude-sonnet-4-6",
    turns=20,
    prefix_tokens=5000,
    input_tokens_per_turn=300,
    output_tokens_per_turn=500,
)
"""An agent loop of twenty turns on a 5,000-token tool and system prefix: what a first visit shows."""

WIDGETS: dict[str, str] = {
    "conversation_model": "model",
    "conversation_count": "conversations",
    "conversation_turns": "turns",
    "conversation_prefix_tokens": "prefix_tokens",
    "conversation_input_tokens": "input_tokens_per_turn",
    "conversation_output_tokens": "output_tokens_per_turn",
    "conversation_thinking_tokens": "thinking_tokens_per_turn",
    "conversation_keep_thinking": "keep_thinking",
    "conversation_cache_ttl": "cache_ttl",
    "conversation_hit_rate_pct": "cache_hit_rate",
    "conversation_batch_hit_rate_pct": "batch_cache_hit_rate",
    "conversation_as_of": "as_of",
    "conversation_geo": "geo",
    "conversation_fast": "fast",
    "conversation_channel": "channel",
    "conversation_endpoint": "endpoint",
}
"""Widget key → the `Conversation` field it sets."""
_PERCENT_FIELDS = ("cache_hit_rate", "batch_cache_hit_rate")


def widget_defaults(model: str, *, today: dt.date) -> dict[str, Any]:
    """The page's widget values on a first visit: the default conversation on the plan's model."""
    values: dict[str, Any] = {}
    for key, name in WIDGETS.items():
        value = getattr(DEFAULT_CONVERSATION, name)
        if name in _PERCENT_FIELDS:
            value = float(value * 100)
        values[key] = value
    values["conversation_model"] = model
    values["conversation_as_of"] = today
    return values


def conversation_from_widgets(
    state: Mapping[str, Any], *, today: dt.date
) -> tuple[Conversation | None, dict[str, str]]:
    """The conversation the widgets describe, or None with a message per refused field (by field name)."""
    accepted: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, name in WIDGETS.items():
        value = state[key]
        if name in _PERCENT_FIELDS:
            percent = widget_decimal(value)
            value = None if percent is None else percent / 100
        elif name == "as_of":
            value = None if value in (None, today) else value
        try:
            checked = dataclasses.replace(DEFAULT_CONVERSATION, **accepted, **{name: value})
            accepted[name] = getattr(checked, name)
        except EstimatorError as error:
            errors[name] = str(error)
        except (ValueError, ArithmeticError):  # beyond what the estimator names: still a message, never a crash
            errors[name] = f"{name} is not a number this app can use"
    if errors:
        return None, errors
    return dataclasses.replace(DEFAULT_CONVERSATION, **accepted), {}


def checked_options(conversation: Conversation, *, table: PriceTable) -> PricedPlan:
    """The conversation's options checked as the Plan page checks a plan's: one of its requests priced by
    `ui.form.price_plan`, which names each option the model (at the date) or the channel lacks, with the
    estimator's reason, and its `errors` anything else the table refuses (an unknown model), by field.

    Checked on one request, as `estimate_conversation` checks it first: an option does not depend on the turn's
    token counts, and `price_plan` gives every option the model lacks (the estimator stops at the first)."""
    return price_plan(FormResult(conversation.as_request()), table=table)


def without_unoffered(conversation: Conversation, options: PricedPlan) -> Conversation:
    """The conversation as the figures price it: each option asked for but not offered replaced by what the
    Plan page uses instead (`ui.form.OPTION_FALLBACKS`: global residency, standard speed, the 5-minute
    lifetime, the global endpoint)."""
    fallbacks = {name: value for name, value in OPTION_FALLBACKS.items() if options.fell_back(name)}
    return dataclasses.replace(conversation, **fallbacks) if fallbacks else conversation


def turn_steps(current: int, points: int = 41) -> list[int]:
    """Numbers of turns from 1 to twice the conversation's (at least 10, at most the estimator's MAX_TURNS),
    evenly spread, including the conversation's own."""
    upper = min(max(2 * current, 10), MAX_TURNS)
    return sorted({max(1, upper * step // (points - 1)) for step in range(points)} | {current})


def facts_text(result: ConversationEstimate) -> str:
    """What the conversation sends and when caching starts, in one line."""
    conversation = result.conversation
    first, last = conversation.prompt_tokens(1), conversation.prompt_tokens(conversation.turns)
    count = conversation.conversations
    parts = [
        f"{format_tokens(count)} conversation{'' if count == 1 else 's'} of {format_tokens(conversation.turns)} "
        f"turn{'' if conversation.turns == 1 else 's'} on {result.model_name}, prices as of {result.as_of}",
        f"the prompt grows from {format_tokens(first)} to {format_tokens(last)} tokens",
        "caching never starts"
        if result.first_cached_turn is None
        else f"caching starts at turn {result.first_cached_turn}",
    ]
    saves = result.caching_saves_usd
    if saves is not None:
        parts.append(f"caching saves {format_usd(saves)} in real-time" if saves >= 0 else "caching costs more")
    return " · ".join(parts)


def turn_table(result: ConversationEstimate) -> Table:
    """One row per turn: what it sends and what it costs in each mode (blank where a mode is unpriced)."""
    costs = {mode.mode: {turn.turn: turn.usd for turn in mode.turns} for mode in result.modes if mode.available}
    places = {mode: money_decimals(costs.get(mode, {}).values()) for mode in MODES}
    realtime = result.mode("realtime")
    cached = result.mode("realtime_cached")
    reads = {turn.turn: turn.cache_read_tokens for turn in cached.turns} if cached.available else {}
    rows: list[dict[str, Cell]] = []
    for turn in realtime.turns:
        row: dict[str, Cell] = {"Turn": turn.turn, "Prompt tokens": turn.prompt_tokens}
        row["Cache reads"] = display_number(reads.get(turn.turn), 0)
        for mode in MODES:
            row[MODE_LABELS[mode]] = display_number(costs.get(mode, {}).get(turn.turn), places[mode])
        rows.append(row)
    columns = {
        "Turn": count_column(),
        "Prompt tokens": count_column("Everything the turn sends: prefix, earlier turns, its own input"),
        "Cache reads": count_column("Expected tokens read from the cache with real-time caching"),
        **{MODE_LABELS[m]: money_column(places[m], f"The turn's cost, {MODE_LABELS[m]}") for m in MODES},
    }
    return Table(rows, columns)


def totals(result: ConversationEstimate) -> dict[Mode, Decimal | None]:
    """Each mode's total over every conversation (None where unpriced), for the currency table."""
    return {mode.mode: mode.total_usd if mode.available else None for mode in result.modes}


TURN_CSV_COLUMNS = (
    "turn",
    "prompt_tokens",
    "cached_uncached_input_tokens",
    "cached_cache_write_tokens",
    "cached_cache_read_tokens",
    "output_tokens",
    *(f"{mode}_usd" for mode in MODES),
)


def turn_csv(result: ConversationEstimate) -> str:
    """Every turn's exact figures (one conversation), the token split of real-time caching beside them."""
    from ui.report import csv_text

    by_mode = {mode.mode: {turn.turn: turn for turn in mode.turns} for mode in result.modes if mode.available}
    cached = by_mode.get("realtime_cached", {})
    rows = []
    for turn in result.mode("realtime").turns:
        split = cached.get(turn.turn)
        row = {
            "turn": str(turn.turn),
            "prompt_tokens": str(turn.prompt_tokens),
            "cached_uncached_input_tokens": _exact(split.uncached_input_tokens if split else None),
            "cached_cache_write_tokens": _exact(split.cache_write_tokens if split else None),
            "cached_cache_read_tokens": _exact(split.cache_read_tokens if split else None),
            "output_tokens": str(turn.output_tokens),
        }
        for mode in MODES:
            item = by_mode.get(mode, {}).get(turn.turn)
            row[f"{mode}_usd"] = _exact(item.usd if item else None)
        rows.append(row)
    return csv_text(rows, TURN_CSV_COLUMNS)


def _exact(value: Decimal | None) -> str:
    """An exact figure as CSV text; blank where there is none (an unpriced mode)."""
    return decimal_text(value) or ""
