"""Hypothesis: random command lines and random batch-file lines always end in exit 0, 1 or 2, never a traceback,
and quickly. Numbers are drawn from where things broke before: past Python's int-string limit, past the decimal
context's exponents, NaN, signs, underscores; lines from JSON of any shape, request-like objects and junk."""

from __future__ import annotations

import io
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estimator.cli import main

SECONDS_PER_CALL = 5.0

COMMANDS = ["estimate", "compare", "breakeven", "budget", "dry-run", "count"]
FLAGS = [
    "--model", "--requests", "--period", "--prefix-tokens", "--input-tokens", "--output-tokens", "--hit-rate",
    "--requests-per-hour", "--ttl", "--as-of", "--geo", "--fast", "--web-searches", "--tool-use", "--format",
    "--models", "--include-retired", "--tokens-measured-for", "--batch", "--budget-usd", "--budget", "--output-ratio",
    "--sample", "--deadline", "--text", "--api", "--progress", "--no-progress", "--req", "--budget-u", "-", "--",
]  # fmt: skip
MODELS = ["claude-sonnet-4-6", "claude-opus-5-5", "claude-haiku-4-5", "claude-3-opus-20240229", "Sonnet 4.6", "gpt-4"]

numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-9, 9), st.integers(-(10**10), 10**10)),
    st.sampled_from(["1e5000", "9e999999", "1e-999999999", "1" + "0" * 5000, "nan", "-0", "1_000", "1,000", "0.85"]),
)
dates = st.one_of(st.dates().map(str), st.sampled_from(["1900-01-01", "2026-02-30", "0000-01-01", "tomorrow"]))
tokens = st.one_of(
    st.sampled_from(FLAGS), st.sampled_from(MODELS), numbers, dates, st.sampled_from(["json", "csv", "table", "5m"]),
    st.text(max_size=20),
)  # fmt: skip


def _call(argv: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    try:
        # stdin is never read from the terminal: a count without a file reads this.
        with mock.patch.object(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Some text to count."))):
            code = main(argv, stdout=out, stderr=err)
    except SystemExit as exit_:  # argparse: usage errors (2), --help and --version (0)
        code = exit_.code if isinstance(exit_.code, int) else 2
    assert time.monotonic() - started < SECONDS_PER_CALL, argv
    assert "Traceback" not in err.getvalue()
    if code == 2 and err.getvalue():
        assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1, err.getvalue()
    return code


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Load the price table and the tokenizer once, so that no example pays for it against the deadline."""
    _call(["dry-run", "-", "--as-of", "2026-11-25"])
    _call(["estimate", "--model", "claude-sonnet-4-6"])


@settings(max_examples=100, deadline=timedelta(seconds=SECONDS_PER_CALL), suppress_health_check=[HealthCheck.too_slow])
@given(command=st.sampled_from(COMMANDS), rest=st.lists(tokens, max_size=8))
def test_random_command_lines_exit_0_1_or_2(command: str, rest: list[str]) -> None:
    argv = [command, *rest]
    if "--api" in argv:  # no network in tests: an --api run must fail fast for want of a key, which conftest ensures
        argv = [token for token in argv if token != "--api"]
    assert _call(argv) in (0, 1, 2)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
params = st.fixed_dictionaries(
    {},
    optional={
        "model": st.one_of(st.sampled_from(MODELS), json_values),
        "max_tokens": st.one_of(st.integers(min_value=-5, max_value=10**6), st.just(10**4000), json_values),
        "messages": st.one_of(
            st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "x"]),
                                            "content": st.one_of(st.text(max_size=30), json_values)}), max_size=3),
            json_values,
        ),
        "thinking": st.one_of(st.fixed_dictionaries({"type": st.sampled_from(["enabled", "adaptive", "disabled", "on"]),
                                                     "budget_tokens": st.integers(-1, 5000)}), json_values),
        "temperature": json_values, "top_p": json_values, "top_k": json_values, "tool_choice": json_values,
        "tools": json_values, "system": json_values, "inference_geo": json_values, "speed": json_values,
        "cache_control": json_values, "stream": json_values,
    },
)  # fmt: skip
request_lines = st.builds(
    lambda custom_id, p: json.dumps({"custom_id": custom_id, "params": p}),
    st.one_of(st.from_regex(r"[a-z0-9_-]{1,8}", fullmatch=True), json_values),
    params,
)
lines = st.one_of(
    request_lines,
    json_values.map(json.dumps),
    st.text(max_size=40).filter(lambda text: "\n" not in text and "\r" not in text),
    st.sampled_from(["[", "]", "[1,2]", "{", "}", "[" * 3000 + "]" * 3000, '{"max_tokens": ' + "9" * 5001 + "}"]),
)


@settings(max_examples=60, deadline=timedelta(seconds=SECONDS_PER_CALL), suppress_health_check=[HealthCheck.too_slow])
@given(file_lines=st.lists(lines, max_size=6), as_array=st.booleans())
def test_random_batch_lines_exit_0_1_or_2(tmp_path_factory: Any, file_lines: list[str], as_array: bool) -> None:
    path: Path = tmp_path_factory.mktemp("batch") / "random.jsonl"
    text = ("[" + ",\n".join(file_lines) + "]") if as_array else "\n".join(file_lines)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    code = _call(["dry-run", str(path), "--as-of", "2026-11-25", "--format", "json"])
    assert code in (0, 1, 2)
    if code in (0, 1) and file_lines:
        assert code == 1 or all(line.strip().startswith("{") for line in file_lines)
