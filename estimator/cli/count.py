"""`count`: Claude tokens of a text or of one Messages request (JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from estimator.batches.reader import MAX_LINE_BYTES, STDIN_NAME, open_regular_file, read_bounded
from estimator.cli.common import deadline_argument
from estimator.errors import EstimatorError
from estimator.format import format_tokens
from estimator.tokens.counting import count_tokens
from estimator.tokens.report import token_estimate_to_dict

__all__ = ["MAX_COUNT_INPUT_BYTES", "add_count_command"]

MAX_COUNT_INPUT_BYTES = MAX_LINE_BYTES
"""One request or text, so at most the Messages API's request size limit (32 MB); bytes actually read count."""

_COUNT_DEADLINE_S = 60.0
"""One request: a minute covers its retries; a server that does not answer by then is not going to."""


def add_count_command(commands: Any) -> None:
    parser = commands.add_parser(
        "count",
        help="Claude tokens of a text or of one Messages request (JSON)",
        description="Count the tokens of plain text, or of a Messages request given as JSON (its params or a "
        "batch line). Offline by default (an approximation with its range); --api for an exact count.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "file", nargs="?", type=Path, default=None, help="a text or JSON file; - or nothing for standard input"
    )
    parser.add_argument("--text", default=None, help="count this text instead of a file")
    parser.add_argument("--model", default=None, help="model id (required for plain text)")
    parser.add_argument("--api", action="store_true", help="exact count with count_tokens (needs ANTHROPIC_API_KEY)")
    deadline_argument(parser, _COUNT_DEADLINE_S)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=_cmd_count)


def _cmd_count(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.text is not None and args.file is not None:
        raise EstimatorError("give a file or --text, not both")
    text = args.text if args.text is not None else _read_input(args.file)
    if len(text) > MAX_COUNT_INPUT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_COUNT_INPUT_BYTES:
        raise EstimatorError(f"the text is over {MAX_COUNT_INPUT_BYTES:,} bytes, the Messages API's request size limit")
    if args.model is None and not text.lstrip().startswith("{"):
        raise EstimatorError("--model is required to count plain text (the tokenizer depends on it)")
    result = count_tokens(text, model=args.model, use_api=args.api, deadline_s=args.deadline)
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
    """The text of a regular file, or of standard input (no file, or `-`); at most MAX_COUNT_INPUT_BYTES."""
    if path is None or str(path) == STDIN_NAME:
        return _read_stdin()
    stream, _ = open_regular_file(path)
    with stream:
        data = read_bounded(stream, MAX_COUNT_INPUT_BYTES, str(path))
    return _decoded(data, str(path))


def _read_stdin() -> str:
    binary = getattr(sys.stdin, "buffer", None)
    if binary is None:  # a text stream put in place of stdin (tests, embedding)
        text = sys.stdin.read(MAX_COUNT_INPUT_BYTES + 1)
        if len(text) > MAX_COUNT_INPUT_BYTES:
            raise EstimatorError(f"<stdin>: more than {MAX_COUNT_INPUT_BYTES:,} characters; this input is limited")
        return text
    return _decoded(read_bounded(binary, MAX_COUNT_INPUT_BYTES, "<stdin>"), "<stdin>")


def _decoded(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EstimatorError(f"{name}: not UTF-8 text (byte {error.start:,})") from None
