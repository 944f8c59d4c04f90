"""`conversation`: a multi-turn conversation or agent loop, priced turn by turn with and without caching."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any, TextIO

from estimator.cli.common import (
    Currency,
    currency_arguments,
    currency_from_args,
    dump_json,
    overrides_argument,
    parse_date,
    table_from_args,
    text_table,
)
from estimator.conversations import ConversationEstimate, TurnsPoint, estimate_conversation, sweep_turns
from estimator.conversations.turns import CONVERSATION_MODES, Conversation
from estimator.currency import Converted, convert_figures, format_money
from estimator.format import decimal_text, format_tokens, format_usd
from estimator.overrides import negotiated_terms
from estimator.report import negotiated_to_dict
from estimator.results import NegotiatedTerms
from estimator.workload import CHANNELS, DEFAULT_HIT_RATE

__all__ = ["add_conversation_command", "convert_conversation", "render_conversation"]


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
    parser.add_argument("--channel", choices=CHANNELS, default="anthropic", help="where the tokens are bought")
    parser.add_argument("--endpoint", choices=("global", "regional"), default="global")
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--as-of", type=parse_date, default=None, metavar="DATE")
    parser.add_argument("--sweep", default=None, metavar="N,N,...", help="also price these numbers of turns")
    overrides_argument(parser)
    currency_arguments(parser)
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
        channel=args.channel,
        endpoint=args.endpoint,
        fast=args.fast,
        as_of=args.as_of,
    )
    currency = currency_from_args(args)
    table = table_from_args(args)
    result = estimate_conversation(conversation, table=table)
    sweep = sweep_turns(conversation, args.sweep.split(","), table=table) if args.sweep else ()
    negotiated = negotiated_terms(table, result.model_id, result.as_of)
    converted = convert_conversation(result, currency) if currency else None
    if args.format == "json":
        payload = conversation_to_dict(result, sweep)
        payload["negotiated_rates"] = negotiated_to_dict(negotiated)
        payload["currency"] = converted.to_dict() if converted else None
        dump_json(payload, out)
    else:
        out.write(render_conversation(result, sweep, converted=converted, negotiated=negotiated))
    return 0


def convert_conversation(result: ConversationEstimate, currency: Currency) -> Converted:
    """Each mode's cost per conversation and total in the currency, at the rate of the as-of date."""
    rates, code = currency
    figures: dict[tuple[str, ...], Decimal | None] = {}
    for mode in result.modes:
        figures[(mode.mode, "per_conversation")] = mode.per_conversation_usd if mode.available else None
        figures[(mode.mode, "total")] = mode.total_usd if mode.available else None
    return convert_figures(rates, code, result.as_of, figures)


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


def render_conversation(
    result: ConversationEstimate,
    sweep: tuple[TurnsPoint, ...] = (),
    *,
    converted: Converted | None = None,
    negotiated: NegotiatedTerms | None = None,
) -> str:
    c = result.conversation
    lines = [
        f"{result.model_name} ({result.model_id}), prices as of {result.as_of}: {format_tokens(c.conversations)} "
        f"conversation{'s' if c.conversations != 1 else ''} of {c.turns} turns",
    ]
    if negotiated is not None:
        lines.append(negotiated.sentence[0].upper() + negotiated.sentence[1:] + ".")
    lines.append("")
    headers = ["Mode", "Per conversation", "Total"]
    rows = []
    for m in result.modes:
        if not m.available:
            rows.append([m.mode, "n/a", m.unavailable_reason or "", *([""] if converted else [])])
            continue
        row = [m.mode, format_usd(m.per_conversation_usd), format_usd(m.total_usd)]
        if converted is not None:
            row.append(format_money(converted.amount(m.mode, "total"), converted.currency))
        rows.append(row)
    if converted is not None:
        headers.append(f"Total {converted.currency}")
    lines.append(text_table(headers, rows))
    if sweep:
        lines += ["", "Cost per conversation by number of turns:"]
        sweep_rows = [
            [str(p.turns), *[format_usd(p.per_conversation_usd[mode]) for mode in CONVERSATION_MODES]] for p in sweep
        ]
        lines.append(text_table(["Turns", *CONVERSATION_MODES], sweep_rows))
    for warning in result.warnings:
        lines.append(f"{'!' if warning.severity == 'warning' else 'i'} {warning.message}")
    if converted is not None:
        lines += [
            "",
            f"{converted.currency} at {converted.rate_per_usd} per USD, the rate of {converted.rate_date} in "
            f"{converted.source_name}; USD stays the exact base.",
        ]
    lines += ["", "Rounded for reading; `--format json` gives the exact figures turn by turn."]
    return "\n".join(lines) + "\n"
