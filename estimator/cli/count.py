"""`count`: Claude tokens of a text or of one Messages request (JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from estimator.errors import EstimatorError
from estimator.format import format_tokens
from estimator.tokens.counting import count_tokens
from estimator.tokens.report import token_estimate_to_dict

__all__ = ["add_count_command"]


def add_count_command(commands: Any) -> None:
    parser = commands.add_parser(
        "count",
        help="Claude tokens of a text or of one Messages request (JSON)",
        description="Count the tokens of plain text, or of a Messages request given as JSON (its params or a "
        "batch line). Offline by default (an approximation with its range); --api for an exact count.",
    )
    parser.add_argument("file", nargs="?", type=Path, default=None, help="a text or JSON file (default: stdin)")
    parser.add_argument("--text", default=None, help="count this text instead of a file")
    parser.add_argument("--model", default=None, help="model id (required for plain text)")
    parser.add_argument("--api", action="store_true", help="exact count with count_tokens (needs ANTHROPIC_API_KEY)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=_cmd_count)


def _cmd_count(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    text = args.text if args.text is not None else _read_input(args.file)
    if args.model is None and not text.lstrip().startswith("{"):
        raise EstimatorError("--model is required to count plain text (the tokenizer depends on it)")
    result = count_tokens(text, model=args.model, use_api=args.api)
    if args.format == "json":
        json.dump(token_estimate_to_dict(result), out, indent=2)
        out.write("\n")
        return 0
    if result.is_exact:
        out.write(f"{format_tokens(result.expected_tokens)} tokens (exact, count_tokens)\n")
    else:
        out.write(
            f"~{format_tokens(result.expected_tokens)} tokens (range {format_tokens(result.low_tokens)}–"
            f"{format_tokens(result.high_tokens)}; {result.detail})\n"
        )
    for note in result.notes:
        out.write(f"i {note}\n")
    return 0


def _read_input(path: Path | None) -> str:
    if path is None:
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise EstimatorError(f"{path}: cannot read ({error})") from None
