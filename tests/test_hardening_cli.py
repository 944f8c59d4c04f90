"""Issue 9 on the command line: every hostile value is one `error:` line with exit 2, never a traceback.

Each case is a value an adversarial run found escaping the handlers (numbers past Python's int-string digit
limit, decimal overflow and underflow, argparse prefix matching, special files); `main` is called in-process as
CI calls it, and each case must finish fast.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from estimator.cli import _parser, main
from estimator.cli import count as count_module
from estimator.errors import InvalidWorkloadError
from estimator.workload import (
    MAX_NUMBER,
    MAX_REQUESTS,
    MAX_TOKENS_PER_REQUEST,
    to_decimal,
    to_fraction,
    to_token_count,
)
from tests.conftest import FIXTURES

MODEL = ["--model", "claude-sonnet-4-6", "--as-of", "2026-11-25"]
FIVE_THOUSAND_DIGITS = "1" + "0" * 5000


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    code = main(list(argv), stdout=out, stderr=err)
    assert time.monotonic() - started < 10, "every hostile input must be refused quickly"
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


# --- §1: numbers that escaped the handlers ---------------------------------------------------------------

HOSTILE_NUMBERS = [
    (["estimate", *MODEL, "--requests", "1e5000"], "requests = 1e5000 is beyond any real workload"),
    (["estimate", *MODEL, "--requests", FIVE_THOUSAND_DIGITS], "requests must be a number of at most 64 characters"),
    (["estimate", *MODEL, "--requests", "1e1000000"], "requests = 1e1000000 is beyond any real workload"),
    (["estimate", *MODEL, "--requests=-1e1000000"], "requests = -1e1000000 is beyond any real workload"),
    (["estimate", *MODEL, "--requests-per-hour", "9e999999"], "requests_per_hour = 9e999999 is too large"),
    (["estimate", *MODEL, "--requests-per-hour", "1e-999999999"], "requests_per_hour has more than 15 decimal"),
    (["budget", *MODEL, "--budget-usd", "9e999999"], "budget_usd = 9e999999 is too large"),
    (["budget", *MODEL, "--budget-usd", "1e-999999"], "budget_usd has more than 15 decimal places"),
    (["estimate", *MODEL, "--hit-rate", "1e-999999999"], "cache_hit_rate has more than 15 decimal places"),
    (["estimate", *MODEL, "--hit-rate", "1e1000000"], "cache_hit_rate = 1e1000000 is too large"),
    (["estimate", *MODEL, "--web-searches", "1e-999999999"], "web_searches_per_request has more than 15 decimal"),
    (["estimate", *MODEL, "--output-tokens", "1e888888"], "output_tokens = 1e888888 is beyond any real workload"),
    (["estimate", *MODEL, "--prefix-tokens=-1e5000"], "prefix_tokens = -1e5000 is beyond any real workload"),
    (["estimate", *MODEL, "--input-tokens", "sNaN"], "input_tokens must be a finite number"),
    (["estimate", *MODEL, "--input-tokens", "Infinity"], "input_tokens must be a finite number"),
    (["compare", *MODEL, "--requests", "1e5000"], "requests = 1e5000"),
    (["dry-run", str(FIXTURES / "valid.jsonl"), "--output-tokens", "1e888888"], "output_tokens = 1e888888"),
    (["dry-run", str(FIXTURES / "valid.jsonl"), "--output-ratio", "1e-999999999"], "output_ratio has more than"),
    (["dry-run", str(FIXTURES / "valid.jsonl"), "--hit-rate", "9e999999"], "hit_rate = 9e999999 is too large"),
]


@pytest.mark.parametrize(
    ("argv", "fragment"), HOSTILE_NUMBERS, ids=[" ".join(a[:1] + a[-2:])[:60] for a, _ in HOSTILE_NUMBERS]
)
def test_hostile_numbers_are_one_line_errors_naming_the_field(argv: list[str], fragment: str) -> None:
    assert_one_line_error(*run(*argv), fragment)


@pytest.mark.parametrize(
    ("value", "name", "message"),
    [
        (10**5000, "requests", "an integer of about 5,000 digits"),  # a JSON integer at Python's limit and beyond
        (Decimal("1e1000000"), "requests", "beyond any real workload"),
        (float("1e308"), "requests", "beyond any real workload"),
        ("9" * 65, "requests", "at most 64 characters"),
        (MAX_REQUESTS + 1, "requests", "limit 1,000,000,000,000"),
    ],
    ids=["int-5001-digits", "decimal-1e1000000", "float-1e308", "65-characters", "limit+1"],
)
def test_to_token_count_refuses_huge_values_without_formatting_them(value: object, name: str, message: str) -> None:
    with pytest.raises(InvalidWorkloadError) as raised:
        to_token_count(value, name, maximum=MAX_REQUESTS)
    assert raised.value.field == name and message in str(raised.value)
    assert len(str(raised.value)) < 200


def test_documented_limits_hold_at_the_boundary() -> None:
    assert to_token_count(MAX_REQUESTS, "requests", maximum=MAX_REQUESTS) == MAX_REQUESTS
    assert to_token_count(str(MAX_TOKENS_PER_REQUEST), "output_tokens") == MAX_TOKENS_PER_REQUEST
    with pytest.raises(InvalidWorkloadError, match="limit 10,000,000"):
        to_token_count(MAX_TOKENS_PER_REQUEST + 1, "output_tokens")
    assert to_decimal(str(MAX_NUMBER), "budget_usd") == MAX_NUMBER
    with pytest.raises(InvalidWorkloadError, match="too large"):
        to_decimal(MAX_NUMBER + 1, "budget_usd")
    assert to_fraction("0.000000000000001", "cache_hit_rate") == Decimal("1e-15")
    assert to_fraction("0E-99999999999", "cache_hit_rate") == 0
    assert str(to_decimal("-0", "budget_usd")) == "0"


# --- §3: prefix matching, budget's flags, breakeven's warnings ---------------------------------------------


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_no_parser_matches_abbreviations() -> None:
    parsers = list(_parsers(_parser()))
    assert len(parsers) > 6
    assert all(not parser.allow_abbrev for parser in parsers), [p.prog for p in parsers if p.allow_abbrev]


@pytest.mark.parametrize(
    "argv",
    [
        ["estimate", *MODEL, "--req", "3"],
        ["budget", *MODEL, "--budget-usd", "5", "--requests-per", "3"],
        ["dry-run", str(FIXTURES / "valid.jsonl"), "--out", "0.1"],
        ["count", "--mod", "claude-opus-5", "--text", "hi"],
    ],
)
def test_abbreviated_flags_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        run(*argv)
    assert raised.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err


def test_budget_refuses_requests_by_name_instead_of_reading_it_as_requests_per_hour() -> None:
    code, out, err = run("budget", *MODEL, "--budget-usd", "50", "--requests", "3")
    assert_one_line_error(code, out, err, "takes no --requests", "estimate --requests N")


def test_budget_takes_the_flags_users_expect() -> None:
    long = run("budget", *MODEL, "--budget-usd", "39", "--input-tokens", "8000", "--output-tokens", "1000")
    short = run("budget", *MODEL, "--budget", "39", "--input-tokens", "8000", "--output-tokens", "1000")
    assert long == short and long[0] == 0
    assert "Within $39.00 per run" in long[1]
    code, out, _ = run("budget", *MODEL, "--budget", "1e3", "--format", "json")
    assert code == 0 and json.loads(out)["budget_usd"] == "1000"  # the exact value, not the text as typed


def test_breakeven_before_the_release_warns_as_estimate_does() -> None:
    before = ["--model", "claude-sonnet-4-6", "--as-of", "2026-01-01"]
    _, estimate_out, _ = run("estimate", *before)
    code, out, _ = run("breakeven", *before)
    warning = next(line for line in estimate_out.splitlines() if "was released" in line)
    assert code == 0 and warning in out.splitlines()
    code, out, _ = run("breakeven", *before, "--format", "json")
    (warned,) = json.loads(out)["warnings"]
    assert code == 0 and warned["code"] == "before_release" and warned["message"] in warning


def test_breakeven_before_caching_existed_is_a_one_line_error() -> None:
    assert_one_line_error(*run("breakeven", "--model", "claude-sonnet-4-6", "--as-of", "1900-01-01"), "no break-even")


@pytest.mark.parametrize("deadline", ["0", "-1", "nan", "inf", "1e999", "86401", "soon"])
def test_deadline_must_be_a_sane_number_of_seconds(deadline: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        run("dry-run", str(FIXTURES / "valid.jsonl"), "--api", "--deadline", deadline)
    assert raised.value.code == 2 and "deadline" in capsys.readouterr().err


# --- §4: special files ---------------------------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.jsonl"
    os.mkfifo(path)  # nothing ever writes to it: opening it for reading the usual way would block forever
    return path


@pytest.mark.parametrize("command", [["dry-run"], ["count", "--model", "claude-opus-5"]])
@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "/dev/null", "directory"])
def test_special_files_are_refused_at_once(command: list[str], special: str, fifo: Path, tmp_path: Path) -> None:
    path = {"fifo": str(fifo), "directory": str(tmp_path)}.get(special, special)
    code, out, err = run(*command, path)
    kind = {"fifo": "a FIFO", "directory": "a directory"}.get(special, "a device")
    assert_one_line_error(code, out, err, f"not a regular file ({kind})", "- for standard input")


class _Zeros(io.RawIOBase):
    """Standard input that never ends: /dev/zero piped in."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        buffer[:size] = bytes(size)
        return size


class _Stdin(io.TextIOWrapper):
    def __init__(self, raw: io.RawIOBase) -> None:
        super().__init__(io.BufferedReader(raw))


def test_count_from_endless_stdin_stops_at_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(_Zeros()))
    monkeypatch.setattr(count_module, "MAX_COUNT_INPUT_BYTES", 1_000_000)
    code, out, err = run("count", "-", "--model", "claude-opus-5")
    assert_one_line_error(code, out, err, "<stdin>: more than 1,000,000 bytes")


def test_dry_run_from_endless_stdin_stops_at_the_file_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from estimator.batches import dry_run

    monkeypatch.setattr(sys, "stdin", _Stdin(_Zeros()))
    monkeypatch.setattr(dry_run, "MAX_FILE_BYTES", 3_000_000)  # counted on bytes read: stdin has no size
    code, out, err = run("dry-run", "-")
    assert_one_line_error(code, out, err, "<stdin>: more than 3,000,000 bytes, over the dry run's limit")


def test_count_reads_standard_input_when_asked_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Hello, Claude")))
    dashed = run("count", "-", "--model", "claude-opus-5", "--format", "json")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Hello, Claude")))
    implicit = run("count", "--model", "claude-opus-5", "--format", "json")
    assert dashed == implicit and dashed[0] == 0
    assert json.loads(dashed[1])["tokens"]["expected"] > 0


def test_count_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("café".encode("latin-1"))
    assert_one_line_error(*run("count", str(path), "--model", "claude-opus-5"), "not UTF-8 text (byte 3)")


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_count_of_deeply_nested_json_is_one_line(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"messages": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    assert_one_line_error(*run("count", str(path)), "nested too deeply")


def test_count_of_a_5001_digit_number_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "digits.json"
    path.write_text('{"messages": [], "max_tokens": ' + FIVE_THOUSAND_DIGITS + "}", encoding="utf-8")
    assert_one_line_error(*run("count", str(path)), "too many digits")
