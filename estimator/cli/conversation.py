"""`conversation`: a multi-turn conversation or agent loop, priced turn by turn with and without caching."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from estimator.cli.common import dump_json, parse_date, text_table
from estimator.conversations import ConversationEstimate, TurnsPoint, estimate_conversation, sweep_turns
from estimator.conversations.turns import CONVERSATION_MODES, Conversation
from estimator.format import decimal_text, format_tokens, format_usd
from estimator.workload import DEFAULT_HIT_RATE

__all__ = ["add_conversation_command", "render_conversation"]


def add_conversation_command(commands: Any) -> None:
    parser = commands.add_parser(
        "conversation",
        help="a multi-turn conversation or agent loop, turn by turn",
        description="Price a conversation whose every turn re-sends the growing context: without caching, and "
        "with automatic caching (each turn reads the previous prompt and writes the new tail), in real-time "
        "and batch. Example: conversation --model claude-sonnet-5 --turns 20 --prefix-tokens 10000 "
        "--input-tokens-per-turn 200 --output-tokens-per-turn 500 --sweep 5,10,20,40",
        allow_abbrev=False,
    )
    parser.add_argument("--model", required=True)
    parser.add_argument("--turns", required=True, help="turns per conversation")
    parser.add_argument("--conversations", default="1", help="how many such conversations (default 1)")
    parser.add_argument("--prefix-tokens", default="0", help="static prefix: tools + system")
    parser.add_argument("--input-tokens-per-turn", default="0", help="user input or tool results added per turn")
    parser.add_argument("--output-tokens-per-turn", default="0", help="visible output per turn")
    parser.add_argument("--thinking-tokens-per-turn", default="0", help="thinking per turn (billed as output)")
    parser.add_argument("--keep-thinking", action="store_true", help="earlier turns' thinking stays in the context")
    parser.add_argument("--ttl", choices=("5m", "1h"), default="5m")
    parser.add_argument("--hit-rate", default="1", help="chance a turn finds the previous entry (default 1)")
    parser.add_argument(
        "--batch-hit-rate", default=str(DEFAULT_HIT_RATE), help=f"the same in batches (default {DEFAULT_HIT_RATE})"
    )
    parser.add_argument("--geo", choices=("global", "us"), default="global")
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--as-of", type=parse_date, default=None, metavar="DATE")
    parser.add_argument("--sweep", default=None, metavar="N,N,...", help="also price these numbers of turns")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=_cmd_conversation)


def _cmd_conversation(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    conversation = Conversation(
        model=args.model,
        turns=args.turns,
        conversations=args.conversations,
        prefix_tokens=args.prefix_tokens,
        input_tokens_per_turn=args.input_tokens_per_turn,
        output_tokens_per_turn=args.output_tokens_per_turn,
        thinking_tokens_per_turn=args.thinking_tokens_per_turn,
        keep_thinking=args.keep_thinking,
        cache_ttl=args.ttl,
        cache_hit_rate=args.hit_rate,
        batch_cache_hit_rate=args.batch_hit_rate,
        geo=args.geo,
        fast=args.fast,
        as_of=args.as_of,
    )
    result = estimate_conversation(conversation)
    sweep = sweep_turns(conversation, args.sweep.split(",")) if args.sweep else ()
    if args.format == "json":
        dump_json(conversation_to_dict(result, sweep), out)
    else:
        out.write(render_conversation(result, sweep))
    return 0


def conversation_to_dict(result: ConversationEstimate, sweep: tuple[TurnsPoint, ...] = ()) -> dict[str, Any]:
    c = result.conversation
    return {
        "model": result.model_id,
        "as_of": result.as_of.isoformat(),
        "turns": c.turns,
        "conversations": c.conversations,
        "first_cached_turn": result.first_cached_turn,
        "context_full_at_turn": result.context_full_at_turn,
        "modes": {
            m.mode: (
                {
                    "available": True,
                    "per_conversation_usd": decimal_text(m.per_conversation_usd),
                    "total_usd": decimal_text(m.total_usd),
                    "hit_rate": decimal_text(m.hit_rate) if m.hit_rate is not None else None,
                    "turns": [
                        {
                            "turn": t.turn,
                            "prompt_tokens": t.prompt_tokens,
                            "uncached_input_tokens": decimal_text(t.uncached_input_tokens),
                            "cache_write_tokens": decimal_text(t.cache_write_tokens),
                            "cache_read_tokens": decimal_text(t.cache_read_tokens),
                            "output_tokens": t.output_tokens,
                            "usd": decimal_text(t.usd),
                        }
                        for t in m.turns
                    ],
                }
                if m.available
                else {"available": False, "reason": m.unavailable_reason}
            )
            for m in result.modes
        },
        "sweep": [
            {"turns": p.turns, "per_conversation_usd": {k: decimal_text(v) for k, v in p.per_conversation_usd.items()}}
            for p in sweep
        ],
        "warnings": [{"code": w.code, "message": w.message, "field": w.field} for w in result.warnings],
    }


def render_conversation(result: ConversationEstimate, sweep: tuple[TurnsPoint, ...] = ()) -> str:
    c = result.conversation
    lines = [
        f"{result.model_name} ({result.model_id}), prices as of {result.as_of}: {format_tokens(c.conversations)} "
        f"conversation{'s' if c.conversations != 1 else ''} of {c.turns} turns",
        "",
    ]
    rows = [
        [m.mode, format_usd(m.per_conversation_usd), format_usd(m.total_usd)]
        if m.available
        else [m.mode, "n/a", m.unavailable_reason or ""]
        for m in result.modes
    ]
    lines.append(text_table(["Mode", "Per conversation", "Total"], rows))
    if sweep:
        lines += ["", "Cost per conversation by number of turns:"]
        sweep_rows = [
            [str(p.turns), *[format_usd(p.per_conversation_usd[mode]) for mode in CONVERSATION_MODES]] for p in sweep
        ]
        lines.append(text_table(["Turns", *CONVERSATION_MODES], sweep_rows))
    for warning in result.warnings:
        lines.append(f"{'!' if warning.severity == 'warning' else 'i'} {warning.message}")
    lines += ["", "Rounded for reading; `--format json` gives the exact figures turn by turn."]
    return "\n".join(lines) + "\n"
