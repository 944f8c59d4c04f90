"""Conversations and agent loops: every turn re-sends the growing context, so cost grows with the square of
the number of turns, and caching changes that by several times.

A conversation of N turns has a static prefix S (tools + system), adds u tokens per turn (the user's input or
the tool results) and writes a tokens per turn (plus t thinking tokens, billed as output). Turn k sends
S + (k − 1)·(u + a′) + u tokens, where a′ = a, or a + t when the model keeps earlier thinking in context.

With automatic caching (the breakpoint on the last block, moved forward every turn, as Anthropic's prompt-caching
page describes it), turn 1 writes everything it sends; turn k ≥ 2 reads what turn k − 1 sent (the previous
prefix) and writes the new tail: the previous answer and the new input. With a hit rate h below 1 (a TTL lapse,
an edit, the 20-block lookback), a miss writes the whole prompt again instead of reading it. A turn whose prompt
is shorter than the model's minimum cacheable length is not cached at all, and the next turn has nothing to
read. Without caching, every turn pays the input rate for its whole prompt.

Each turn is priced at its own rates: a prompt over a prompt-length tier pays the tier's rates for the whole
turn, output included. The batch modes use batch rates; for batch + caching the hit rate is a guess (Anthropic
quotes 30%–98% for batches), stated with the result. The per-conversation figures are exact `Decimal`.
"""

from __future__ import annotations

from estimator.conversations.turns import (
    Conversation,
    ConversationEstimate,
    ConversationMode,
    ConversationModeCost,
    TurnCost,
    TurnsPoint,
    estimate_conversation,
    sweep_turns,
)

__all__ = [
    "Conversation",
    "ConversationEstimate",
    "ConversationMode",
    "ConversationModeCost",
    "TurnCost",
    "TurnsPoint",
    "estimate_conversation",
    "sweep_turns",
]
