"""Turn-by-turn pricing of a conversation (see the package docstring for the model)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Literal, get_args

from estimator.costs import EXACT, MTOK, prepare
from estimator.errors import InvalidWorkloadError
from estimator.rates import ModeRates, Unpriced
from estimator.results import EstimateWarning
from estimator.workload import (
    DEFAULT_HIT_RATE,
    MAX_REQUESTS,
    CacheTTL,
    Channel,
    Endpoint,
    Geo,
    Workload,
    to_fraction,
    to_token_count,
)
from pricing import Model, PriceTable, load_price_table

__all__ = [
    "MAX_TURNS",
    "Conversation",
    "ConversationEstimate",
    "ConversationMode",
    "ConversationModeCost",
    "TurnCost",
    "TurnsPoint",
    "estimate_conversation",
    "sweep_turns",
]

MAX_TURNS = 10_000
"""Far beyond any context window; more turns than this is a typo."""

ConversationMode = Literal["realtime", "realtime_cached", "batch", "batch_cached"]
CONVERSATION_MODES: tuple[ConversationMode, ...] = get_args(ConversationMode)


@dataclass(frozen=True)
class Conversation:
    """One kind of conversation (or agent loop), repeated `conversations` times.

    `keep_thinking`: whether earlier turns' thinking stays in the context (Opus 4.5+ and Sonnet 4.6+ keep it by
    default; older Opus/Sonnet and every Haiku keep only the last turn's). `cache_hit_rate`: the chance a turn
    finds the previous turn's cache entry (1 when turns come well within the TTL; lower with long pauses).
    """

    model: str
    turns: int
    conversations: int = 1
    prefix_tokens: int = 0
    input_tokens_per_turn: int = 0
    output_tokens_per_turn: int = 0
    thinking_tokens_per_turn: int = 0
    keep_thinking: bool = False
    cache_ttl: CacheTTL = "5m"
    cache_hit_rate: Decimal = Decimal(1)
    batch_cache_hit_rate: Decimal = DEFAULT_HIT_RATE
    geo: Geo = "global"
    fast: bool = False
    as_of: dt.date | None = None
    channel: Channel = "anthropic"
    endpoint: Endpoint = "global"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "turns", to_token_count(self.turns, "turns", maximum=MAX_TURNS))
        if self.turns < 1:
            raise InvalidWorkloadError("turns must be at least 1", field="turns")
        set_(self, "conversations", to_token_count(self.conversations, "conversations", maximum=MAX_REQUESTS))
        for name in ("prefix_tokens", "input_tokens_per_turn", "output_tokens_per_turn", "thinking_tokens_per_turn"):
            set_(self, name, to_token_count(getattr(self, name), name))
        set_(self, "cache_hit_rate", to_fraction(self.cache_hit_rate, "cache_hit_rate"))
        set_(self, "batch_cache_hit_rate", to_fraction(self.batch_cache_hit_rate, "batch_cache_hit_rate"))
        for name in ("keep_thinking", "fast"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidWorkloadError(f"{name} must be true or false", field=name)
        # The single-request checks (model, TTL, geo, fast, date) are the Workload's: reuse them.
        self.as_request()

    def as_request(self, prompt_tokens: int = 0, output_tokens: int = 0) -> Workload:
        return Workload(
            model=self.model,
            requests=1,
            unique_input_tokens=prompt_tokens,
            output_tokens=output_tokens,
            cache_ttl=self.cache_ttl,
            as_of=self.as_of,
            geo=self.geo,
            fast=self.fast,
            channel=self.channel,
            endpoint=self.endpoint,
        )

    @property
    def billed_output_tokens_per_turn(self) -> int:
        """Thinking is billed as output."""
        return self.output_tokens_per_turn + self.thinking_tokens_per_turn

    @property
    def context_added_per_turn(self) -> int:
        """What each finished turn leaves in the context: its input, its answer and, if kept, its thinking."""
        kept = self.thinking_tokens_per_turn if self.keep_thinking else 0
        return self.input_tokens_per_turn + self.output_tokens_per_turn + kept

    def prompt_tokens(self, turn: int) -> int:
        """Everything turn `turn` (1-based) sends."""
        return self.prefix_tokens + (turn - 1) * self.context_added_per_turn + self.input_tokens_per_turn


@dataclass(frozen=True)
class TurnCost:
    """One turn of one conversation in one mode. Token figures are expected values (a hit rate splits reads)."""

    turn: int
    prompt_tokens: int
    uncached_input_tokens: Decimal
    cache_write_tokens: Decimal
    cache_read_tokens: Decimal
    output_tokens: int
    usd: Decimal
    tier_above_prompt_tokens: int | None


@dataclass(frozen=True)
class ConversationModeCost:
    mode: ConversationMode
    per_conversation_usd: Decimal
    total_usd: Decimal
    turns: tuple[TurnCost, ...]
    hit_rate: Decimal | None
    unavailable_reason: str | None = None

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None


@dataclass(frozen=True)
class ConversationEstimate:
    conversation: Conversation
    model_id: str
    model_name: str
    as_of: dt.date
    modes: tuple[ConversationModeCost, ...]
    first_cached_turn: int | None
    context_full_at_turn: int | None
    warnings: tuple[EstimateWarning, ...]

    def mode(self, name: ConversationMode) -> ConversationModeCost:
        return next(mode for mode in self.modes if mode.mode == name)

    @property
    def caching_saves_usd(self) -> Decimal | None:
        """Real-time without caching minus real-time with it, over every conversation."""
        plain, cached = self.mode("realtime"), self.mode("realtime_cached")
        if not (plain.available and cached.available):
            return None
        return plain.total_usd - cached.total_usd


@dataclass(frozen=True)
class TurnsPoint:
    turns: int
    per_conversation_usd: dict[ConversationMode, Decimal | None]


def estimate_conversation(conversation: Conversation, *, table: PriceTable | None = None) -> ConversationEstimate:
    """The conversation priced turn by turn in every mode, with the traps of long contexts."""
    table = table or load_price_table()
    model = table.model(conversation.model)
    # An option the model lacks (fast mode, US residency, a channel's endpoint) is the conversation's, not a turn's:
    # refused here with its own field, before the turns name "turn 1" for it.
    prepare(conversation.as_request(), table)
    first_cached = _first_cached_turn(conversation, model)
    modes = tuple(_price_mode(conversation, mode, model, first_cached, table) for mode in CONVERSATION_MODES)
    day = conversation.as_of or dt.date.today()
    full_at = _context_full_at(conversation, model)
    return ConversationEstimate(
        conversation=conversation,
        model_id=model.id,
        model_name=model.name,
        as_of=day,
        modes=modes,
        first_cached_turn=first_cached,
        context_full_at_turn=full_at,
        warnings=tuple(_warnings(conversation, model, modes, first_cached, full_at)),
    )


def sweep_turns(
    conversation: Conversation, turn_counts: Iterable[object], *, table: PriceTable | None = None
) -> tuple[TurnsPoint, ...]:
    """Cost per conversation against the number of turns (one pricing of the longest; prefixes of it)."""
    table = table or load_price_table()
    counts = sorted({to_token_count(value, "turns", maximum=MAX_TURNS) for value in turn_counts} - {0})
    if not counts:
        return ()
    longest = estimate_conversation(_with_turns(conversation, counts[-1]), table=table)
    points = []
    for count in counts:
        costs: dict[ConversationMode, Decimal | None] = {}
        for mode in longest.modes:
            # Turn k costs the same whatever comes after it, so a shorter conversation is a prefix of the longest.
            costs[mode.mode] = sum((t.usd for t in mode.turns[:count]), Decimal(0)) if mode.available else None
        points.append(TurnsPoint(count, costs))
    return tuple(points)


def _with_turns(conversation: Conversation, turns: int) -> Conversation:
    fields = {name: getattr(conversation, name) for name in Conversation.__dataclass_fields__}
    fields["turns"] = turns
    return Conversation(**fields)


def _first_cached_turn(conversation: Conversation, model: Model) -> int | None:
    """The first turn whose prompt reaches the model's minimum cacheable length (None: never within the turns)."""
    minimum = model.min_cacheable_prompt_tokens
    if minimum is None:
        return None
    for turn in range(1, conversation.turns + 1):
        if conversation.prompt_tokens(turn) >= minimum:
            return turn
    return None


def _context_full_at(conversation: Conversation, model: Model) -> int | None:
    for turn in range(1, conversation.turns + 1):
        if conversation.prompt_tokens(turn) + conversation.billed_output_tokens_per_turn > model.context_window_tokens:
            return turn
    return None


def _price_mode(
    conversation: Conversation, mode: ConversationMode, model: Model, first_cached: int | None, table: PriceTable
) -> ConversationModeCost:
    cached = mode.endswith("cached")
    hit_rate = None
    if cached:
        hit_rate = conversation.batch_cache_hit_rate if mode.startswith("batch") else conversation.cache_hit_rate
    turns: list[TurnCost] = []
    output = conversation.billed_output_tokens_per_turn
    with localcontext(EXACT):
        for turn in range(1, conversation.turns + 1):
            prompt = conversation.prompt_tokens(turn)
            try:
                prepared = prepare(conversation.as_request(prompt, output), table)
            except InvalidWorkloadError as error:
                raise InvalidWorkloadError(f"turn {turn}: {error}", field="turns") from None
            rates = prepared.rates[mode]
            if isinstance(rates, Unpriced):
                return ConversationModeCost(mode, Decimal(0), Decimal(0), (), hit_rate, rates.reason)
            uncached, write, read = _input_split(conversation, turn, prompt, first_cached, hit_rate)
            usd = _turn_usd(uncached, write, read, output, rates, conversation.cache_ttl)
            tier = prepared.tier.above_prompt_tokens if prepared.tier is not None else None
            turns.append(TurnCost(turn, prompt, uncached, write, read, output, usd, tier))
        per_conversation = sum((t.usd for t in turns), Decimal(0))
        total = per_conversation * conversation.conversations
    return ConversationModeCost(mode, per_conversation, total, tuple(turns), hit_rate)


def _input_split(
    conversation: Conversation, turn: int, prompt: int, first_cached: int | None, hit_rate: Decimal | None
) -> tuple[Decimal, Decimal, Decimal]:
    """(uncached input, cache writes, cache reads) of one turn, as expected tokens."""
    if hit_rate is None or first_cached is None or turn < first_cached:
        return Decimal(prompt), Decimal(0), Decimal(0)
    if turn == first_cached:
        return Decimal(0), Decimal(prompt), Decimal(0)  # nothing to read yet: the whole prompt is written
    previous = conversation.prompt_tokens(turn - 1)
    # A hit reads the previous turn's prompt and writes only the new tail; a miss writes the whole prompt.
    read = hit_rate * previous
    write = (prompt - previous) + (1 - hit_rate) * previous
    return Decimal(0), write, read


def _turn_usd(
    uncached: Decimal, write: Decimal, read: Decimal, output: int, rates: ModeRates, ttl: CacheTTL
) -> Decimal:
    usd = uncached * rates.input_mtok + output * rates.output_mtok
    if write or read:
        write_rate, read_rate = rates.cache_write_mtok(ttl), rates.cache_read_mtok
        if write_rate is None or read_rate is None:
            raise InvalidWorkloadError("internal: a caching mode without cache rates")
        usd += write * write_rate + read * read_rate
    return usd / MTOK


def _warnings(
    conversation: Conversation,
    model: Model,
    modes: tuple[ConversationModeCost, ...],
    first_cached: int | None,
    full_at: int | None,
) -> Iterable[EstimateWarning]:
    minimum = model.min_cacheable_prompt_tokens
    if minimum is not None and first_cached != 1:
        reach = f"caching starts at turn {first_cached}" if first_cached else "no turn is long enough to be cached"
        yield EstimateWarning(
            "below_minimum",
            f"{model.name} caches prompts of at least {minimum:,} tokens: {reach}.",
            "prefix_tokens",
        )
    if full_at is not None:
        yield EstimateWarning(
            "context_window",
            f"Turn {full_at} needs {conversation.prompt_tokens(full_at) + conversation.billed_output_tokens_per_turn:,}"
            f" tokens, over {model.name}'s context window of {model.context_window_tokens:,}: the API would reject "
            f"it. The figures price every turn as asked; a real loop must compact or stop by turn {full_at - 1}.",
            "turns",
        )
    realtime = next(m for m in modes if m.mode == "realtime")
    tiered = [t for t in realtime.turns if t.tier_above_prompt_tokens is not None]
    if tiered:
        yield EstimateWarning(
            "prompt_tier",
            f"From turn {tiered[0].turn} the prompt is over the {tiered[0].tier_above_prompt_tokens:,}-token tier: "
            "those turns pay the higher rates for the whole turn, output included.",
            "turns",
        )
    if model.max_output_tokens is not None and conversation.billed_output_tokens_per_turn > model.max_output_tokens:
        yield EstimateWarning(
            "output_above_max",
            f"{conversation.billed_output_tokens_per_turn:,} output tokens per turn (thinking included) exceed "
            f"{model.name}'s max output of {model.max_output_tokens:,}.",
            "output_tokens_per_turn",
        )
    yield EstimateWarning(
        "batch_hit_rate_assumed",
        f"Batch + caching assumes each turn finds the previous turn's cache entry with probability "
        f"{conversation.batch_cache_hit_rate} (hits in batches are best-effort). Each turn of a conversation "
        "needs the previous answer, so a multi-turn conversation takes one batch per turn.",
        "batch_cache_hit_rate",
        "info",
    )
